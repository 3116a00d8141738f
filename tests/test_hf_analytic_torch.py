"""The analytic config reader agrees exactly with transformers (torch tier).

For every supported family: the defaults and aliases in estimator/spec/hf/defaults.py are
transformers' own, and the analytic count of several configs (tests/hf_configs.py, two or
more per family with the switches that change the architecture, plus the released configs
of the catalog's archspecs) equals transformers' model built on the meta device: parameters
(unique tensors), active parameters and forward FLOPs (the project's dispatch-level counter,
``estimator.graphs.hf_config.count_config``, on the same T tokens).
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from estimator import count  # noqa: E402
from estimator.graphs.hf_config import count_config  # noqa: E402
from estimator.spec.expr import evaluate, names_in  # noqa: E402
from estimator.spec.hf.defaults import ALIASES, DEFAULTS, FAMILIES  # noqa: E402
from estimator.spec.yamlload import load_yaml_file  # noqa: E402
from hf_configs import SMALL  # noqa: E402

pytestmark = pytest.mark.torch
ARCH = Path(__file__).resolve().parent.parent / "archspecs"


@pytest.mark.parametrize("family", FAMILIES)
def test_defaults_are_transformers_defaults(family):
    cls = transformers.CONFIG_MAPPING[family]
    theirs = cls()
    for key, mine in DEFAULTS[family].items():
        if isinstance(mine, str) and mine.startswith("="):
            # derived when absent: transformers stores the derived value, or leaves it None
            # (or unset: Qwen2's head_dim) for the modeling code to derive the same way
            value = getattr(theirs, key, None)
            env = {n: getattr(theirs, n) for n in names_in(mine[1:])}
            assert value is None or value == evaluate(mine[1:], env), (family, key)
        else:
            value = getattr(theirs, key)
            assert value == mine, (family, key, value, mine)
    for alias, name in ALIASES.get(family, {}).items():
        assert getattr(cls(**{alias: 24}), name) == 24, (family, alias)


def _meta(path: Path, result) -> tuple:
    shapes = {"input_ids": (1, result.tokens or result.spec_vars["T"])}
    if "S" in result.spec_vars:  # T5: encoder and decoder inputs
        shapes = {"input_ids": (1, result.spec_vars["S"]),
                  "decoder_input_ids": (1, result.spec_vars["T"])}
    m = count_config(path, shapes)
    return m.params, m.active_params, m.forward_flops


def _analytic(path: Path, overrides=None):
    from estimator.analytic import analyze, load_spec

    spec = load_spec(path, overrides=overrides)
    r = analyze(spec)
    r.spec_vars = spec.vars
    return r


CASES = [(fam, i) for fam, cfgs in SMALL.items() for i in range(len(cfgs))]


@pytest.mark.parametrize("family,i", CASES, ids=[f"{f}-{i}" for f, i in CASES])
def test_small_configs_equal_transformers_on_meta(tmp_path, family, i):
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"model_type": family, **SMALL[family][i]}))
    a = _analytic(p)
    assert (a.params, a.active_params, a.forward_flops) == _meta(p, a)


def _released():
    out = []
    for path in sorted(ARCH.glob("*.yaml")):
        head = load_yaml_file(path)
        if isinstance(head, dict) and "config" in head:
            out.append(path.name)
    return out


RELEASED = _released()


@pytest.mark.slow
@pytest.mark.parametrize("name", RELEASED)
def test_released_configs_equal_transformers_on_meta(tmp_path, name):
    """Each catalog config as released, built by transformers on meta (forward on 64 tokens
    to keep the dispatch walk short; the analytic count takes the same T)."""
    head = load_yaml_file(ARCH / name)
    p = tmp_path / "config.json"
    p.write_text(json.dumps(dict(head["config"])))
    t = {"T": 64, "S": 64} if head["config"].get("model_type") == "t5" else {"T": 64}
    a = _analytic(p, overrides=t)
    assert (a.params, a.active_params, a.forward_flops) == _meta(p, a)
    assert a.params == count(ARCH / name).params  # the archspec counts what its config does


def test_some_released_configs_exist():
    assert len(RELEASED) >= 40
