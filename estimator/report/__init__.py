"""Presentation: the only code that formats output (tables, JSON, Markdown, plots).

``render(result)`` is the readable table of a :class:`~estimator.count.CountResult`.
"""
from __future__ import annotations


def render(result, depth: int | None = None, expand: bool = False) -> str:
    from .text import render as _render

    return _render(result, depth=depth, expand=expand)
