"""The package's layering: imports only point down, so the folder tree is the architecture.

Ranks, lowest first: the records (errors, units, count) < the spec language (spec/, layers/) <
the analytic engine < counters of real graphs and costs < the curator side < presentation
(report/) < the command line (cli/). A module may import its own rank or lower, never higher,
whether at module level or inside a function: data never imports its renderer, a layer room
never imports the builder above it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "estimator"

RANK = {"errors": 0, "units": 0, "count": 0, "safety": 0, "spec": 1, "layers": 1, "analytic": 2,
        "graphs": 3, "costs": 3, "curation": 4, "report": 5, "cli": 6, "__init__": 7,
        "__main__": 7, "hardware_data": 0, "archspecs_data": 0, "_version": 0}


def _group(parts: list[str]) -> str:
    return parts[0].removesuffix(".py") if parts else "__init__"


def _imports(path: Path):
    """(line, imported top-level group) for every estimator-internal import in ``path``."""
    rel = path.relative_to(PKG).parts
    here = list(rel[:-1])
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else list(here)
                target = base + (node.module.split(".") if node.module else [])
                if not target:  # "from . import x" at the top of the package
                    target = [node.names[0].name]
            elif node.module and node.module.split(".")[0] == "estimator":
                target = node.module.split(".")[1:] or [node.names[0].name]
            else:
                continue
            yield node.lineno, _group(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "estimator" and len(parts) > 1:
                    yield node.lineno, parts[1]


MODULES = sorted(p for p in PKG.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_down(path):
    mine = _group(list(path.relative_to(PKG).parts))
    for line, target in _imports(path):
        assert target in RANK, f"{path.name}:{line}: unknown group {target!r}: add it to RANK"
        assert RANK[target] <= RANK[mine], (
            f"{path.relative_to(PKG)}:{line} imports {target} (rank {RANK[target]}) from "
            f"{mine} (rank {RANK[mine]}): imports must point down")


def test_every_top_level_module_is_ranked():
    names = {p.stem if p.is_file() else p.name for p in PKG.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert names <= set(RANK), names - set(RANK)


ROOMS = sorted((PKG / "layers").glob("*.py"))


@pytest.mark.parametrize("path", ROOMS, ids=lambda p: p.name)
def test_layer_rooms_do_without_postponed_annotations(path):
    # layers/registry.py's docstring: with `from __future__ import annotations` pydantic
    # compiles and evaluates every field's annotation string when a room's classes are built
    tree = ast.parse(path.read_text(), filename=str(path))
    future = [n.lineno for n in tree.body if isinstance(n, ast.ImportFrom)
              and n.module == "__future__" and any(a.name == "annotations" for a in n.names)]
    assert not future, f"layers/{path.name}:{future[0]}: drop `from __future__ import annotations`"
