"""Property tests (hypothesis) of the spec loader and the expression evaluator: whatever the
document or expression, the answer is a count or one SpecError (ExprError for a bare
expression), never another exception, within a time and memory bound. Quick enough for CI."""
from __future__ import annotations

import resource
import time

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from estimator.analytic import analyze, load_spec_text  # noqa: E402
from estimator.errors import SpecError  # noqa: E402
from estimator.layers.registry import load_all  # noqa: E402
from estimator.spec.expr import ExprError, evaluate  # noqa: E402

FAST = settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def count_or_spec_error(text: str) -> None:
    t0, before = time.perf_counter(), _peak_mb()
    try:
        analyze(load_spec_text(text, "fuzz.yaml"))
    except SpecError as err:
        assert "\n" not in str(err)
    assert time.perf_counter() - t0 < 2.0 and _peak_mb() - before < 200


# ------------------------------------------------------------------------ raw YAML text
YAML_BITS = st.sampled_from(["name: x\n", "input: {shape: [4, 8]}\n", "input: {tokens: 8}\n",
                             "layers:\n", "  - relu\n", "  - {kind: linear, out: 4}\n",
                             "  - kind: sequential\n    repeat: 3\n    layers: [relu]\n",
                             "vars: {d: 8}\n", "&a [*a]\n", "*x\n", "- [", "]", "{", ":", "!!x ",
                             "'", '"', "\t", "  ", "1e308", "-", "? ", "<<: *a\n", "\n", "#"])


@FAST
@given(st.lists(YAML_BITS, max_size=20).map("".join) | st.text(max_size=200))
def test_any_text_is_a_count_or_one_spec_error(text):
    count_or_spec_error(text)


# ---------------------------------------------------- structured documents (valid-looking)
KINDS = sorted(load_all())
SCALARS = (st.integers(-3, 70) | st.sampled_from([0, 1, 2**63, 10**30, 1e308, float("nan"),
                                                   -1.5, True, None, "d", "d * 2", "d // 0",
                                                   "2 ** 70", "x", "", "[", "same"]))
KEYS = st.sampled_from(["out", "kernel", "stride", "padding", "heads", "dim", "vocab", "hidden",
                        "repeat", "shared", "share", "tie", "from", "name", "bias", "groups",
                        "experts", "top_k", "layers", "branches", "join", "axis", "memory"])


def layer_strategy():
    leaf = st.sampled_from(KINDS) | st.fixed_dictionaries(
        {"kind": st.sampled_from(KINDS)}, optional={"out": SCALARS, "repeat": SCALARS}).flatmap(
        lambda d: st.dictionaries(KEYS, SCALARS, max_size=3).map(lambda extra: {**extra, **d}))
    return st.recursive(leaf, lambda inner: st.fixed_dictionaries(
        {"kind": st.sampled_from(["sequential", "residual", "parallel"]),
         "layers": st.lists(inner, min_size=0, max_size=3)},
        optional={"repeat": SCALARS, "shared": st.booleans(),
                  "branches": st.lists(st.lists(inner, min_size=1, max_size=2), max_size=2)}),
        max_leaves=8)


DOCS = st.fixed_dictionaries(
    {"name": st.text(max_size=5) | st.integers(),
     "input": st.sampled_from([{"shape": [4, 8]}, {"tokens": 8}, {"image": [3, 8, 8]},
                               {"vector": 0}, {"shape": []}, {"tokens": "d"}]),
     "layers": st.lists(layer_strategy(), max_size=4)},
    optional={"vars": st.dictionaries(st.sampled_from(["d", "e", "x"]), SCALARS, max_size=3)})


@FAST
@given(DOCS)
def test_any_spec_document_is_a_count_or_one_spec_error(doc):
    import json

    count_or_spec_error(json.dumps(doc))  # JSON is YAML


# ------------------------------------------------------------------------- expressions
ATOMS = st.integers(-10**6, 10**6).map(str) | st.sampled_from(
    ["a", "b", "1e308", "0", "0.5", "nan", "inf", "2**62", "min", "abs()", "x.y", "'s'", "[1]"])
OPS = st.sampled_from([" + ", " - ", " * ", " / ", " // ", " % ", " ** ", ", ", " < ", " "])


@FAST
@given(st.recursive(ATOMS, lambda inner: st.one_of(
    st.tuples(inner, OPS, inner).map("".join),
    inner.map(lambda e: f"({e})"),
    st.tuples(st.sampled_from(["min", "max", "ceil", "floor", "round", "int", "abs", "-"]),
              inner).map(lambda t: f"{t[0]}({t[1]})")), max_leaves=12) | st.text(max_size=60))
def test_any_expression_is_a_number_or_one_expr_error(text):
    t0 = time.perf_counter()
    try:
        v = evaluate(text, {"a": 3, "b": 2**40})
    except ExprError:
        return
    assert isinstance(v, (int, float)) and abs(v) < 2**63 and v == v
    assert time.perf_counter() - t0 < 1.0
