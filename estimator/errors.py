"""One exception family. Every user-facing error says what is wrong and where.

The CLI catches :class:`PCError`, prints ``str(err)`` as one line on stderr and exits
with ``err.exit_code`` (2 for bad input). The library never prints or exits.
"""
from __future__ import annotations


class PCError(Exception):
    """Base of every error paramcount raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        super().__init__(self.__str__())

    @property
    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        elif self.line:
            parts.append(f"line {self.line}")
        if self.key:
            parts.append(self.key)
        return ": ".join(parts)

    def __str__(self) -> str:  # one line, always
        text = f"{self.where}: {self.message}" if self.where else self.message
        return " ".join(text.split("\n"))


class SpecError(PCError):
    """A spec file is malformed, names something unknown or describes impossible shapes."""


class InputError(PCError):
    """A command-line value or API argument is invalid (unparseable number, unknown chip...)."""


class ModelError(PCError):
    """A model (nn.Module or ONNX graph) cannot be counted as given."""


class DependencyError(PCError):
    """An optional dependency (torch, onnx, fvcore...) is needed but not installed."""


def install_hint(extra: str) -> str:
    """How to install an extra: from a source checkout (a clone, ``pip install -e``), the
    clone's command; else the package's. A checkout is this package's folder sitting beside
    a ``pyproject.toml``."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file():
        return f"pip install -e '.[{extra}]' (in {root})"
    return f"pip install 'paramcount[{extra}]'"


def require(module: str, extra: str):
    """Import an optional dependency or raise a DependencyError naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DependencyError(
            f"this needs '{module}', which is not installed: {install_hint(extra)}"
        ) from exc


def require_installed(module: str, extra: str) -> None:
    """A DependencyError at once, without importing it, if ``module`` is not installed: a
    command that needs it later says so before its slow work."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise DependencyError(f"this needs '{module}', which is not installed: "
                              f"{install_hint(extra)}")
