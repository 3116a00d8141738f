"""A small safe evaluator for arithmetic in specs: ``4 * d_model``, ``d_model // heads``.

The expression is parsed with :mod:`ast` and only numbers, names of spec variables, the
operators ``+ - * / // % **``, parentheses and the functions ``min max ceil floor round int
abs`` are accepted; anything else (attributes, calls of other names, subscripts, strings,
lambdas, comprehensions) is refused. Nothing is ever passed to Python's ``eval``.

Every value, intermediate ones included, must be finite and below
:data:`~estimator.spec.limits.MAX_INT` in magnitude, so no expression (and no chain of
variables squaring each other) can build a huge number.
"""
from __future__ import annotations

import ast
import math
import operator
from functools import lru_cache
from typing import Mapping

from .limits import MAX_INT

_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCS = {"min": min, "max": max, "ceil": math.ceil, "floor": math.floor, "round": round,
          "int": int, "abs": abs}


class ExprError(ValueError):
    """An expression cannot be evaluated; the message says why."""


@lru_cache(maxsize=8192)
def _parse(src: str) -> ast.Expression:
    """The syntax tree of an expression, parsed once per distinct text (specs repeat the same
    few expressions, 'd_model', '4 * d_model', in every layer and every variant). The tree is
    only read, never changed."""
    return ast.parse(src, mode="eval")


def names_in(text: str) -> set[str]:
    """Variable names an expression refers to (for dependency ordering)."""
    src = str(text).strip()
    if len(src) > 500:  # evaluate() refuses it, saying why
        return set()
    try:
        tree = _parse(src)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in _FUNCS}


def evaluate(text: str, variables: Mapping[str, float]) -> int | float:
    """Evaluate ``text`` with ``variables``. Raises ExprError with a readable reason."""
    src = str(text).strip()
    if len(src) > 500:
        raise ExprError("expression too long")
    try:
        tree = _parse(src)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # ValueError: null bytes
        raise ExprError(f"cannot parse expression {src!r}") from None
    try:
        return _eval(tree.body, variables, src)
    except RecursionError:
        raise ExprError(f"expression nested too deeply: {src!r}") from None
    except ExprError:
        raise
    except (OverflowError, ValueError, TypeError) as err:  # float overflow, int(inf), complex
        raise ExprError(f"cannot evaluate {src!r}: {err}") from None


def bounded(value, src: str = ""):
    """``value`` if it is a finite number below MAX_INT in magnitude, else ExprError."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ExprError(f"{src!r} is not a finite number" if src else f"{value} is not a finite number")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ExprError(f"{src!r} is not a number" if src else f"{value!r} is not a number")
    if abs(value) >= MAX_INT:
        raise ExprError(f"{src + ' = ' if src else ''}{value:.3g} is too large: values must stay "
                        "below 2**63 (the limit)")
    return value


def _eval(node: ast.AST, env: Mapping[str, float], src: str):
    return bounded(_eval1(node, env, src), src)


def _eval1(node: ast.AST, env: Mapping[str, float], src: str):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        import difflib

        close = difflib.get_close_matches(node.id, list(env), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ExprError(f"unknown variable '{node.id}' in {src!r}{hint}")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, env, src), _eval(node.right, env, src)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise ExprError(f"division by zero in {src!r}")
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise ExprError(f"power too large in {src!r}")
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand, env, src))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in _FUNCS and not node.keywords:
        args = [_eval(a, env, src) for a in node.args]
        if not args:
            raise ExprError(f"{node.func.id}() needs arguments in {src!r}")
        return _FUNCS[node.func.id](*args)
    raise ExprError(f"not allowed in an expression: {ast.unparse(node)!r} in {src!r} "
                    "(only numbers, variables, + - * / // % ** and min/max/ceil/floor/round/int/abs)")


def as_int(value) -> int:
    """A size must be a whole number: 768.0 is 768, 7.5 is an error."""
    if isinstance(value, bool):
        raise ExprError("expected a whole number, got a boolean")
    if isinstance(value, int):
        return bounded(value)
    if isinstance(value, float) and value.is_integer():
        return int(bounded(value))
    raise ExprError(f"expected a whole number, got {value!r}")
