"""Commands over real graphs: model (any nn.Module), check (the witnesses), export, onnx."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .common import _fail, _out, _parse_sets, _print_json, app, progress
import sys


def _parse_kwarg(item: str):
    import ast

    key, sep, raw = item.partition("=")
    if not sep or not key.strip().isidentifier():
        _fail(f"--kwarg {item!r}: expected NAME=VALUE, e.g. --kwarg num_classes=10")
    raw = raw.strip()
    low = raw.lower()
    if low in ("true", "false"):
        return key.strip(), low == "true"
    if low in ("none", "null"):
        return key.strip(), None
    try:
        return key.strip(), ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return key.strip(), raw


def _load_factory(target: str):
    import importlib
    import os

    from ..errors import InputError, ModelError

    modname, sep, attr = target.partition(":")
    if not sep or not modname or not attr:
        raise InputError(f"{target!r}: expected PACKAGE.MODULE:FACTORY, e.g. mypkg.nets:resnet50")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        mod = importlib.import_module(modname)
    except ImportError as exc:
        raise InputError(f"{target}: cannot import module {modname!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a broken user module is bad input
        raise ModelError(f"{target}: importing {modname!r} failed: "
                         f"{type(exc).__name__}: {exc}") from None
    obj = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{target}: module {modname!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _build_model(target: str, kwargs: dict, meta: bool):
    """Call the factory (on the meta device unless --real); returns (module, built_on)."""
    import torch

    from ..errors import ModelError

    factory = _load_factory(target)
    if isinstance(factory, torch.nn.Module):
        return factory, "given"
    if not callable(factory):
        raise ModelError(f"{target}: not callable and not an nn.Module")
    first_error = None
    for device in (["meta", None] if meta else [None]):
        try:
            if device:
                with torch.device(device):
                    model = factory(**kwargs)
            else:
                model = factory(**kwargs)
        except TypeError as exc:
            if device is None or first_error is None and "argument" in str(exc):
                raise ModelError(f"{target}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
                                 f" failed: {exc}") from None
            first_error = exc
            continue
        except Exception as exc:  # noqa: BLE001 - reported as one line
            if device is None:
                raise ModelError(f"{target}: the factory failed: {type(exc).__name__}: "
                                 f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                                 ) from None
            first_error = exc
            continue
        if not isinstance(model, torch.nn.Module):
            raise ModelError(f"{target} returned a {type(model).__name__}, not a torch.nn.Module")
        return model, device or "cpu"
    raise AssertionError("unreachable")  # pragma: no cover


@app.command("model")
def model_cmd(
    target: str = typer.Argument(..., help="PACKAGE.MODULE:FACTORY returning an nn.Module, or "
                                             "a Hugging Face config.json."),
    inputs: List[str] = typer.Option(
        [], "--input", "-i",
        help="Input shape, e.g. 1x3x224x224 or 1x128:int64; repeat for several positional "
             "inputs, or NAME=SHAPE for keyword inputs (input_ids=1x128)."),
    input_lists: List[str] = typer.Option(
        [], "--input-list",
        help="One input that is a LIST of tensors, shapes separated by commas, e.g. "
             "3x224x224,3x200x300 (a detection model's images); NAME=... passes it by keyword. "
             "Positional lists follow the positional --input shapes."),
    kwargs: List[str] = typer.Option([], "--kwarg", "-k",
                                     help="Keyword argument for the factory: NAME=VALUE."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
    depth: Optional[int] = typer.Option(None, "--depth", min=0, help="Collapse the tree below depth N."),
    real: bool = typer.Option(
        False, "--real",
        help="Build the model and run the forward on real (zero) tensors instead of the meta "
             "device: for forwards that branch on data values. Small models only."),
    train: bool = typer.Option(False, "--train", help="Count the forward in training mode."),
    top_k: Optional[int] = typer.Option(None, "--top-k", min=1, help="Override experts per token (MoE)."),
    train_step: bool = typer.Option(
        False, "--train-step",
        help="Count a whole training step on meta: forward, loss, backward (input and weight "
             "gradients), optimizer update; the measured backward/forward ratio."),
    optimizer: str = typer.Option("adamw", "--optimizer",
                                  help="With --train-step: none, sgd, momentum, adam, adamw."),
) -> None:
    """Count an nn.Module built by a factory: params, active params, FLOPs per layer."""
    from ..errors import require

    if target.lower().endswith(".json"):
        from ..graphs.hf_config import read_config_dict

        read_config_dict(target)  # a missing or malformed file is said before torch loads
    require("torch", "torch")
    from ..graphs.torch_count import count_module, input_shapes_to_inputs

    if target.lower().endswith(".json"):
        from ..graphs.hf_config import count_config

        if kwargs or real or input_lists:
            _fail("paramcount model CONFIG.json: --kwarg, --real and --input-list apply to "
                  "factories only")
        result = count_config(target, input_shapes_to_inputs(inputs) if inputs else None,
                              mode="train" if train else "eval", top_k=top_k)
        _show_model(result, json_out, depth)
        return
    if not inputs and not input_lists:
        _fail("paramcount model: give the example input with --input, e.g. --input 1x3x224x224 "
              "(or --input-list 3x224x224,3x200x300 for a list of images)")
    kw = dict(_parse_kwarg(k) for k in kwargs)
    shaped = input_shapes_to_inputs(inputs, input_lists)
    model, built_on = _build_model(target, kw, meta=not real)
    if train_step:
        from ..graphs.train_step import count_train_step
        from ..report import train_step as step_report

        ts = count_train_step(model, shaped, name=target, optimizer=optimizer)
        if json_out:
            _print_json(step_report.to_json(ts))
        else:
            _out(step_report.render(ts, depth=depth))
        return
    result = count_module(model, shaped, name=target, device="real" if real else "meta",
                          mode="train" if train else "eval", top_k=top_k)
    result.extra["built_on"] = built_on
    _show_model(result, json_out, depth)


def _show_model(result, json_out: bool, depth) -> None:
    from ..report import text as report

    if json_out:
        _print_json(report.to_json(result, depth=depth))
    else:
        _out(report.render(result, depth=depth))


@app.command("check")
def check_cmd(
    spec: Path = typer.Argument(..., help="A spec YAML file."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
    depth: Optional[int] = typer.Option(None, "--depth", min=0, help="Show layers down to depth N."),
    size: str = typer.Option("auto", "--size",
                             help="auto (the spec's reduced: size above 1M parameters, torch "
                                  "and fvcore also whole: on CPU up to 100M parameters and 50 "
                                  "GFLOPs, on meta above), full or reduced."),
    full_size: bool = typer.Option(False, "--full-size",
                                   help="Every witness at full size (same as --size full)."),
    only: Optional[str] = typer.Option(None, "--only",
                                       help="Comma-separated witnesses: torch,onnx,fvcore."),
    set_vars: List[str] = typer.Option([], "--set", help="Override a spec variable: NAME=EXPR."),
) -> None:
    """Cross-check a spec: analytic vs torch vs onnx vs fvcore, layer by layer (exit 1 on a
    disagreement, 2 when no witness besides the analytic count could run)."""
    from ..graphs import crosscheck
    from ..errors import InputError
    from ..report import check as report

    if size not in ("auto", "full", "reduced"):
        raise InputError(f"--size {size!r}: expected auto, full or reduced")
    if full_size:
        if size == "reduced":
            raise InputError("--full-size and --size reduced contradict each other")
        size = "full"
    witnesses = crosscheck.WITNESSES
    if only:
        witnesses = tuple(w.strip() for w in only.split(",") if w.strip())
        bad = [w for w in witnesses if w not in crosscheck.WITNESSES]
        if bad:
            raise InputError(f"--only {only!r}: unknown witness {bad[0]!r} "
                             f"(choose from {', '.join(crosscheck.WITNESSES)})")
    from ..analytic import load_spec

    loaded = load_spec(spec, overrides=_parse_sets(set_vars))
    with progress(f"checking {spec} ({', '.join(witnesses)})"):
        res = crosscheck.check(loaded, size=size, witnesses=witnesses)
    if json_out:
        _print_json(report.check_json(res, depth=depth))
    else:
        _out(report.render_check(res, depth=depth))
    if res.verdict == "not checked":
        _fail(report.verdict_line(res).removeprefix("verdict: "))
    if res.verdict == "disagree":
        raise typer.Exit(1)


@app.command("export")
def export_cmd(
    spec: Path = typer.Argument(..., help="A spec YAML file."),
    output: Path = typer.Option(..., "-o", "--output", help="The .onnx file to write."),
    size: str = typer.Option("full", "--size",
                             help="full (default: the spec as written), reduced (the spec's "
                                  "reduced: block, same structure, fewer units) or auto "
                                  "(reduced above 100M parameters)."),
    external_data: bool = typer.Option(False, "--external-data",
                                       help="Put the weights in OUTPUT.data beside the graph."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
) -> None:
    """Export a spec to ONNX through its PyTorch build and prove it runs in onnxruntime."""
    from ..errors import InputError
    from ..graphs.onnx_export import export_spec
    from ..report import check as report

    if size not in ("auto", "full", "reduced"):
        raise InputError(f"--size {size!r}: expected auto, full or reduced")
    from ..safety import check_output

    # the one output rule (docs/limits.md): the folder exists, no input is overwritten by
    # any name or link; export_spec stages the files beside it and renames them into place
    check_output(output, [spec], what="-o")
    check_output(Path(str(output) + ".data"), [spec], what="-o (its external data)")
    with progress(f"exporting {spec} to {output}"):
        rep = export_spec(spec, output, size=size, external_data=True if external_data else None)
    if rep.size == "reduced":
        over = ", ".join(f"{k}={v}" for k, v in rep.overrides.items())
        sys.stderr.write(f"WARNING: {rep.path} holds a REDUCED model ({over}): "
                         f"{rep.params:,} parameters, not the {rep.full_params:,} of the spec "
                         f"as written ({rep.reason})\n")
    if json_out:
        _print_json(rep.to_dict())
    else:
        _out(report.render_export(rep))


@app.command("onnx")
def onnx_cmd(
    model: Path = typer.Argument(..., help="An .onnx file."),
    inputs: List[str] = typer.Option([], "--input",
                                     help="Shape of a graph input (NAME=1x3x224x224) or the "
                                          "size of a symbolic dim (batch=1)."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
    allow_unknown: bool = typer.Option(False, "--allow-unknown",
                                       help="List ops without a FLOP formula instead of "
                                            "refusing the graph."),
) -> None:
    """Count an ONNX graph: parameters from initializers, FLOPs from the shape-inferred graph."""
    from ..errors import InputError
    from ..graphs.onnx_count import count_onnx
    from ..report import text

    given: dict = {}
    for item in inputs:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"--input {item!r}: expected NAME=1x3x224x224 or DIM=SIZE")
        value = value.strip()
        given[name.strip()] = int(value) if value.lstrip("+-").isdigit() else value
    res = count_onnx(model, given or None, strict=not allow_unknown)
    if json_out:
        _print_json(res.to_dict())
    else:
        _out(text.render(res))
