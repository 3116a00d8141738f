"""Untrusted input, safely: the one place that reads files named by users (or by their data)
and writes outputs, and that makes untrusted text safe to print or to put in a CSV or a page.

Every input is untrusted: a path named in a CSV cell or a spec, a model name printed to a
terminal or written into a spreadsheet. The rules (``docs/limits.md`` states them for users):

- **Reading.** A path named *inside* an input resolves only within the folders it may name
  (the submission's own folder, or folders given explicitly): :func:`resolve_inside`. Whatever
  is read must be a regular file no larger than a stated limit (no ``/dev/zero``, no FIFO, no
  300 MB "spec"): :func:`read_bytes`. An error names the path and the rule, never the content,
  and never tells an outside path that exists from one that does not.
- **Writing.** An output never lands on an input, by any path: not by the same name, not
  through a symbolic link, not through a hard link (files are compared by identity, device and
  inode). It is written to a temporary file beside the target and renamed over it, so a link at
  the target is replaced rather than written through. A missing folder is an error, for every
  output option alike: :func:`write_output`.
- **Text.** Control characters (terminal escapes, bidirectional overrides) are shown escaped
  when printed: :func:`printable`. A CSV cell that a spreadsheet would run as a formula is
  neutralised the way OWASP recommends, a leading apostrophe, while numbers stay numbers:
  :func:`csv_cell`. HTML gets :func:`html_text`; Markdown :func:`markdown_text` (no tag can
  open, a table cell stays one cell).
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Iterable

from .errors import InputError

# -------------------------------------------------------------------------------- text

# C0 controls, DEL, C1 controls, and the Unicode format characters that reorder or hide text
# (bidirectional embeddings/overrides/isolates, zero-width joiners kept out of names).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: Any) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``), so a
    name or note from an input cannot retitle, clear or reorder the terminal. Newlines and
    tabs are escaped too: one cell is one line."""
    s = str(text)
    return _CONTROL.sub(lambda m: _escape(m.group()), s) if _CONTROL.search(s) else s


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A value safe to write into a CSV cell that a spreadsheet will open.

    Numbers (int, float, bool, None) are returned unchanged. A string that begins with ``=``,
    ``+``, ``-``, ``@``, a tab, a carriage return or a line feed (or their full-width forms)
    would be run as a formula (``=HYPERLINK(...)``): it gets a leading apostrophe, as OWASP's
    CSV-injection guidance says, unless the whole string is a plain number ("-1.5e3")."""
    if value is None or isinstance(value, (int, float)):
        return value
    s = str(value)
    if s.startswith(_FORMULA_START) and not _NUMBER.fullmatch(s):
        return "'" + s
    return s


def html_text(text: Any) -> str:
    """``text`` escaped for HTML (and for Markdown rendered as HTML): ``<script>`` becomes
    ``&lt;script&gt;``, quotes are escaped for attributes."""
    import html  # here, not at the top: only pages need it (start-up of every command)

    return html.escape(str(text), quote=True)


def markdown_text(text: Any, *, cell: bool = False) -> str:
    """``text`` safe inside Markdown that is rendered as HTML: ``<`` becomes ``&lt;``, so no
    tag (``<script>``, ``<img onerror=...>``, ``<!-- ``) can open; control characters and line
    breaks become spaces, so a value stays on its line; in a table ``cell``, ``|`` is escaped.
    ``>`` (``a -> b``) and ``&`` are left as they are: without a ``<`` neither opens a tag,
    and an entity written in the input shows as text."""
    s = _CONTROL.sub(" ", str(text)).replace("<", "&lt;")
    return s.replace("|", "\\|") if cell else s


# -------------------------------------------------------------------------------- reading

DEFAULT_MAX_BYTES = 64 * 1024 * 1024   # 64 MiB: far above any real spec, config or curator CSV


def resolve_inside(name: str | os.PathLike, roots: Iterable[str | os.PathLike], *,
                   what: str = "a path") -> Path:
    """The path that ``name`` (read from inside an input) names, relative to the first root;
    an :class:`InputError` unless it resolves (links followed) inside one of ``roots``.

    The error is the same whether or not an outside path exists, so a submission cannot probe
    which files exist."""
    roots = [Path(r).resolve() for r in roots]
    if not roots:
        raise InputError(f"{what} {printable(name)!s} cannot be resolved: no folder is allowed")
    raw = Path(name)
    candidate = (raw if raw.is_absolute() else roots[0] / raw).resolve()
    for root in roots:
        if candidate == root or candidate.is_relative_to(root):
            return candidate
    shown = ", ".join(str(r) for r in roots)
    raise InputError(f"{what} {printable(name)!s} is outside the folders it may name ({shown}); "
                     "pass another folder explicitly to allow it")


def read_bytes(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES,
               what: str = "file") -> bytes:
    """The bytes of ``path``, which must be a regular file (links followed) of at most
    ``max_bytes``. Never blocks on a FIFO, never reads a device, never quotes the content."""
    p = Path(path)
    name = printable(p)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(f"no such {what}", file=name) from None
    except OSError as err:
        raise InputError(f"cannot read the {what}: {err.strerror}", file=name) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"this is a folder, not a {what}", file=name)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"not a regular file (a device, FIFO or socket): refusing to read "
                         f"it as a {what}", file=name)
    if st.st_size > max_bytes:
        raise InputError(f"the {what} is {st.st_size:,} bytes, over the limit of "
                         f"{max_bytes:,} bytes", file=name)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise InputError(f"cannot read the {what}: {err.strerror}", file=name) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):   # swapped after the check above
            raise InputError(f"not a regular file: refusing to read it as a {what}", file=name)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as err:
        raise InputError(f"cannot read the {what}: {err.strerror}", file=name) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputError(f"the {what} is over the limit of {max_bytes:,} bytes", file=name)
    return data


# -------------------------------------------------------------------------------- writing

def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def check_output(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), *,
                 what: str = "output") -> Path:
    """``path`` as an output: its folder must exist, and it must not be (by name, symbolic or
    hard link) any of ``inputs``. Returns the path; raises :class:`InputError` otherwise.
    Called before work starts, so a bad ``-o`` fails fast; :func:`write_output` checks again."""
    p = Path(path)
    name = printable(p)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{what}: the folder {printable(parent)} does not exist", file=name)
    try:
        target = os.stat(p)          # follows a symbolic link at the target
    except FileNotFoundError:
        target = None
    except OSError as err:
        raise InputError(f"{what}: cannot write here: {err.strerror}", file=name) from None
    for src in inputs:
        try:
            st = os.stat(src)
        except OSError:
            continue
        if target is not None and _same_file(target, st) or Path(p).resolve() == Path(src).resolve():
            raise InputError(f"{what} would overwrite the input {printable(src)} (the same file, "
                             "by name or through a link); write it elsewhere", file=name)
    if target is not None and stat.S_ISDIR(target.st_mode):
        raise InputError(f"{what}: this is a folder, not a file", file=name)
    return p


def write_output(path: str | os.PathLike, data: str | bytes,
                 inputs: Iterable[str | os.PathLike] = (), *, what: str = "output") -> Path:
    """Write ``data`` to ``path`` safely (see the module's rules) and return the path.

    A regular (or missing) target is replaced atomically: the data goes to a temporary file in
    the same folder, which is then renamed over the target, so a link at the target is replaced,
    never written through. A target that is not a regular file (``/dev/stdout``, a FIFO a user
    asked for) is written in place."""
    inputs = list(inputs)
    p = check_output(path, inputs, what=what)
    name = printable(p)
    blob = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st = os.stat(p)
    except OSError:
        st = None
    try:
        if st is not None and not stat.S_ISREG(st.st_mode):
            with open(p, "wb") as fh:
                fh.write(blob)
            return p
        import tempfile  # only a command that writes a file needs it (start-up)

        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp",
                                   dir=p.parent if str(p.parent) else ".")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.chmod(tmp, 0o644)
            os.replace(tmp, p)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as err:
        raise InputError(f"{what}: cannot write: {err.strerror or err}", file=name) from None
    return p
