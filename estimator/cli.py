"""The paramcount command: the only code that prints or exits.

``paramcount SPEC.yaml`` counts a spec (a path as first argument means ``count``); the other
commands are subcommands. A file named like a subcommand is reached with ``paramcount count FILE``.
Exit codes: 0 success, 1 a check found a discrepancy, 2 bad input (one line on stderr).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .errors import PCError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Parameter, FLOP and training-compute counts for neural networks.\n\n"
         "paramcount SPEC.yaml [SPEC2.yaml ...] counts specs; see the subcommands below.",
)


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _print_json(data) -> None:
    _out(json.dumps(data, indent=2, default=str))


def _fail(message: str, code: int = 2) -> None:
    sys.stderr.write(" ".join(str(message).split("\n")) + "\n")
    raise typer.Exit(code)


# ===== spec commands: count, kinds, schema (owner: analytic engine) =====================

@app.command("count")
def count_cmd(
    specs: List[Path] = typer.Argument(..., help="One or more spec YAML files."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
    depth: Optional[int] = typer.Option(None, "--depth", help="Collapse the tree below depth N."),
    causal_half: bool = typer.Option(
        False, "--causal-half",
        help="Count causal attention score/value products as half the full matrix."),
    set_vars: List[str] = typer.Option([], "--set", help="Override a spec variable: NAME=EXPR."),
) -> None:
    """Count parameters and FLOPs of spec files (the default command)."""
    from . import analytic
    from .report import text as report

    overrides = _parse_sets(set_vars)
    results = [analytic.analyze(analytic.load_spec(p, overrides=overrides),
                                causal="half" if causal_half else "full") for p in specs]
    if json_out:
        data = [report.to_json(r, depth=depth) for r in results]
        _print_json(data[0] if len(data) == 1 else data)
    elif len(results) == 1:
        _out(report.render(results[0], depth=depth))
    else:
        _out(report.render_comparison(results))


def _parse_sets(items: List[str]) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            _fail(f"--set {item!r}: expected NAME=EXPR, e.g. --set d_model=64")
        out[name.strip()] = value.strip()
    return out


@app.command("kinds")
def kinds_cmd(json_out: bool = typer.Option(False, "--json", help="Print only JSON."),
              markdown: bool = typer.Option(False, "--markdown",
                                            help="Print the README's spec reference.")) -> None:
    """List every layer kind with its keys and defaults."""
    from .layers import registry
    from .report import text as report

    kinds = registry.describe_all()
    if json_out:
        _print_json(kinds)
    elif markdown:
        _out(report.render_kinds_markdown(kinds))
    else:
        _out(report.render_kinds(kinds))


@app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the spec language (for editors)."""
    from .spec.schema import json_schema

    _print_json(json_schema())


# ===== end spec commands ================================================================

# ===== hardware & compute commands: hardware, compute, train (owner: issue 6) ===========

@app.command("hardware")
def hardware_cmd(
    query: Optional[str] = typer.Argument(
        None, help="A chip name, alias or id (V100, 'TPU v3-8'), or any part of one."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
) -> None:
    """List and search the accelerator table (dense peaks per chip, with sources)."""
    from . import hardware as hwmod
    from .errors import InputError
    from .report import hardware as report

    table = hwmod.load_table()
    if not query:
        rows = table.rows
        if json_out:
            _print_json(report.to_json(rows))
        else:
            _out(report.render_list(rows))
        return
    try:
        acc = table.lookup(query)
    except InputError as err:
        rows = table.search(query)
        if not rows:
            raise err
        if json_out:
            _print_json(report.to_json(rows))
        else:
            _out(report.render_list(rows, query=query, total=len(table)))
        return
    if json_out:
        _print_json(report.to_json([acc]))
    else:
        _out(report.render_detail(acc, hwmod.boards_of(acc, table)))


def _show_compute(tc, json_out: bool) -> None:
    from .report import compute as report

    if json_out:
        _print_json(report.to_json(tc))
    else:
        _out(report.render(tc))
    if tc.verdict == "impossible":  # a check found a discrepancy: exit 1, the verdict on stderr
        from .compute import Discrepancy

        raise Discrepancy(tc.verdict_reason)


# The hardware-method options, shared by `compute` and `train` (any value may be a range: 80-95).
Hardware = Annotated[Optional[str], typer.Option("--hardware", help="Chip name/alias/id (paramcount hardware lists them).")]
Chips = Annotated[Optional[str], typer.Option("--chips", help="Chips (or boards) running at once.")]
Seconds = Annotated[Optional[str], typer.Option("--seconds", help="Wall-clock seconds (times --chips). Any value may be a range, e.g. 80-95.")]
Hours = Annotated[Optional[str], typer.Option("--hours", help="Wall-clock hours (times --chips).")]
Days = Annotated[Optional[str], typer.Option("--days", help="Wall-clock days (times --chips).")]
GpuHours = Annotated[Optional[str], typer.Option("--gpu-hours", help="GPU-hours, already summed over chips.")]
GpuDays = Annotated[Optional[str], typer.Option("--gpu-days", help="GPU-days, already summed over chips.")]
ChipHours = Annotated[Optional[str], typer.Option("--chip-hours", help="Chip-hours, already summed over chips.")]
ChipDays = Annotated[Optional[str], typer.Option("--chip-days", help="Chip-days, already summed over chips.")]
Precision = Annotated[Optional[str], typer.Option("--precision", help="fp64, fp32, tf32, fp16, bf16, fp8, int8 (default: best dense 16-bit tensor figure, else fp32).")]
Utilisation = Annotated[Optional[str], typer.Option("--utilisation", "--utilization", help="Fraction of peak achieved (default 0.3).")]
Runs = Annotated[Optional[str], typer.Option("--runs", help="Independent runs (e.g. 32 agents).")]
Peak = Annotated[Optional[str], typer.Option("--peak", help="Override the table: peak FLOP/s per chip.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]


@app.command("compute")
def compute_cmd(hardware: Hardware = None, chips: Chips = None, seconds: Seconds = None,
                hours: Hours = None, days: Days = None, gpu_hours: GpuHours = None,
                gpu_days: GpuDays = None, chip_hours: ChipHours = None, chip_days: ChipDays = None,
                precision: Precision = None, utilisation: Utilisation = None, runs: Runs = None,
                peak: Peak = None, json_out: JsonOut = False) -> None:
    """Training compute by the hardware method: chips x peak x utilisation x runs x time."""
    from .compute import training_compute

    tc = training_compute(hardware=hardware, chips=chips, seconds=seconds, hours=hours, days=days,
                          gpu_hours=gpu_hours, gpu_days=gpu_days, chip_hours=chip_hours,
                          chip_days=chip_days, precision=precision, utilisation=utilisation,
                          runs=runs, peak=peak)
    _show_compute(tc, json_out)


@app.command("train")
def train_cmd(
    spec: Path = typer.Argument(..., help="The spec YAML of the trained network."),
    tokens: Optional[str] = typer.Option(None, "--tokens", help="Training tokens seen (sequence models), e.g. 300e9."),
    examples: Optional[str] = typer.Option(None, "--examples", help="Training examples per epoch, e.g. 1.2e6."),
    epochs: Optional[str] = typer.Option(None, "--epochs", help="Epochs (default 1)."),
    backward_ratio: float = typer.Option(2.0, "--backward-ratio", help="Backward/forward FLOP ratio."),
    generation_passes: Optional[str] = typer.Option(None, "--generation-passes", help="Forward-only passes spent generating data (self-play...)."),
    generation_tokens: Optional[str] = typer.Option(None, "--generation-tokens", help="Tokens generated (forward only), sequence models."),
    set_vars: List[str] = typer.Option([], "--set", help="Override a spec variable: NAME=EXPR."),
    hardware: Hardware = None, chips: Chips = None, seconds: Seconds = None, hours: Hours = None,
    days: Days = None, gpu_hours: GpuHours = None, gpu_days: GpuDays = None,
    chip_hours: ChipHours = None, chip_days: ChipDays = None, precision: Precision = None,
    utilisation: Utilisation = None, runs: Runs = None, peak: Peak = None,
    json_out: JsonOut = False,
) -> None:
    """Training compute by operation counting (3 x forward x examples, 6·N·D), and with
    --hardware and a time also the hardware method, the implied utilisation and a verdict."""
    from . import analytic
    from .compute import training_compute

    result = analytic.analyze(analytic.load_spec(spec, overrides=_parse_sets(set_vars)))
    tc = training_compute(result, tokens=tokens, examples=examples, epochs=epochs,
                          backward_ratio=backward_ratio, generation_passes=generation_passes,
                          generation_tokens=generation_tokens, hardware=hardware, chips=chips,
                          seconds=seconds, hours=hours, days=days, gpu_hours=gpu_hours,
                          gpu_days=gpu_days, chip_hours=chip_hours, chip_days=chip_days,
                          precision=precision, utilisation=utilisation, runs=runs, peak=peak)
    _show_compute(tc, json_out)

# ===== end hardware & compute commands ==================================================

# ===== model commands: model (owner: issue 4) ===========================================

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

    from .errors import InputError, ModelError

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

    from .errors import ModelError

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
    target: str = typer.Argument(..., help="PACKAGE.MODULE:FACTORY returning an nn.Module."),
    inputs: List[str] = typer.Option(
        [], "--input", "-i",
        help="Input shape, e.g. 1x3x224x224 or 1x128:int64; repeat for several positional "
             "inputs, or NAME=SHAPE for keyword inputs (input_ids=1x128)."),
    kwargs: List[str] = typer.Option([], "--kwarg", "-k",
                                     help="Keyword argument for the factory: NAME=VALUE."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
    depth: Optional[int] = typer.Option(None, "--depth", help="Collapse the tree below depth N."),
    real: bool = typer.Option(
        False, "--real",
        help="Build the model and run the forward on real (zero) tensors instead of the meta "
             "device: for forwards that branch on data values. Small models only."),
    train: bool = typer.Option(False, "--train", help="Count the forward in training mode."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Override experts per token (MoE)."),
) -> None:
    """Count an nn.Module built by a factory: params, active params, FLOPs per layer."""
    from .errors import require
    from .report import text as report

    require("torch", "torch")
    from .torch_count import count_module, input_shapes_to_inputs

    if not inputs:
        _fail("paramcount model: give the example input with --input, e.g. --input 1x3x224x224")
    kw = dict(_parse_kwarg(k) for k in kwargs)
    shaped = input_shapes_to_inputs(inputs)
    model, built_on = _build_model(target, kw, meta=not real)
    result = count_module(model, shaped, name=target, device="real" if real else "meta",
                          mode="train" if train else "eval", top_k=top_k)
    result.extra["built_on"] = built_on
    if json_out:
        _print_json(report.to_json(result, depth=depth))
    else:
        _out(report.render(result, depth=depth))


# ===== end model commands ===============================================================

# ===== witness commands: check, export (owner: issue 5) =================================

@app.command("check")
def check_cmd(
    spec: Path = typer.Argument(..., help="A spec YAML file."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
    depth: Optional[int] = typer.Option(None, "--depth", help="Show layers down to depth N."),
    size: str = typer.Option("auto", "--size",
                             help="auto (reduced above 100M parameters), full or reduced."),
    only: Optional[str] = typer.Option(None, "--only",
                                       help="Comma-separated witnesses: torch,onnx,fvcore."),
) -> None:
    """Cross-check a spec: analytic vs torch vs onnx vs fvcore, layer by layer (exit 1 on a
    disagreement)."""
    from . import crosscheck
    from .errors import InputError
    from .report import check as report

    if size not in ("auto", "full", "reduced"):
        raise InputError(f"--size {size!r}: expected auto, full or reduced")
    witnesses = crosscheck.WITNESSES
    if only:
        witnesses = tuple(w.strip() for w in only.split(",") if w.strip())
        bad = [w for w in witnesses if w not in crosscheck.WITNESSES]
        if bad:
            raise InputError(f"--only {only!r}: unknown witness {bad[0]!r} "
                             f"(choose from {', '.join(crosscheck.WITNESSES)})")
    res = crosscheck.check(spec, size=size, witnesses=witnesses)
    if json_out:
        _print_json(report.check_json(res, depth=depth))
    else:
        _out(report.render_check(res, depth=depth))
    if not res.ok:
        raise typer.Exit(1)


@app.command("export")
def export_cmd(
    spec: Path = typer.Argument(..., help="A spec YAML file."),
    output: Path = typer.Option(..., "-o", "--output", help="The .onnx file to write."),
    size: str = typer.Option("auto", "--size",
                             help="auto (reduced above 100M parameters), full or reduced."),
    external_data: bool = typer.Option(False, "--external-data",
                                       help="Put the weights in OUTPUT.data beside the graph."),
    json_out: bool = typer.Option(False, "--json", help="Print only JSON on stdout."),
) -> None:
    """Export a spec to ONNX through its PyTorch build and prove it runs in onnxruntime."""
    from .errors import InputError
    from .onnx_export import export_spec
    from .report import check as report

    if size not in ("auto", "full", "reduced"):
        raise InputError(f"--size {size!r}: expected auto, full or reduced")
    rep = export_spec(spec, output, size=size, external_data=True if external_data else None)
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
    from .errors import InputError
    from .onnx_count import count_onnx
    from .report import text

    given: dict = {}
    for item in inputs:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"--input {item!r}: expected NAME=1x3x224x224 or DIM=SIZE")
        value = value.strip()
        given[name.strip()] = int(value) if value.isdigit() else value
    res = count_onnx(model, given or None, strict=not allow_unknown)
    if json_out:
        _print_json(res.to_dict())
    else:
        _out(text.render(res))

# ===== end witness commands =============================================================


def _command_names() -> set[str]:
    names = set()
    for cmd in app.registered_commands:
        names.add(cmd.name or cmd.callback.__name__.replace("_", "-"))
    return names


def main(argv: list[str] | None = None) -> None:
    """Entry point: a first argument that is not a subcommand (or an option) means ``count``."""
    args = list(sys.argv[1:] if argv is None else argv) or ["--help"]
    if args and not args[0].startswith("-") and args[0] not in _command_names():
        args.insert(0, "onnx" if args[0].lower().endswith(".onnx") else "count")
    try:
        rc = app(args=args, prog_name="paramcount", standalone_mode=False)
    except PCError as err:
        sys.stderr.write(str(err) + "\n")
        sys.exit(err.exit_code)
    except typer.Exit as ex:
        sys.exit(ex.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # usage errors from typer's click (vendored as typer._click)
        names = {c.__name__ for c in type(exc).__mro__}
        if "ClickException" in names:
            message = " ".join(exc.format_message().split())
            hint = getattr(getattr(exc, "param", None), "opts", None)
            where = f"option {hint[0]}: " if hint and hint[0] not in message else ""
            sys.stderr.write(f"paramcount: {where}{message}\n")
            sys.exit(2)
        if "Abort" in names:
            sys.exit(130)
        raise
    # without standalone mode, click returns the code of a typer.Exit instead of raising it
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
