"""Reading, part 2: a submissions file (CSV or JSON lines) into rows of {header: cell}.

The file is untrusted. It is read once through :func:`estimator.safety.read_bytes` (a regular
file under the size limit: never ``/dev/zero``, never a FIFO that blocks), decoded (UTF-8 with
or without BOM, UTF-16/32 with BOM as some spreadsheets save "Unicode text", Windows-1252 as
older Excel exports it) and closed before any check runs, so it is never modified or held open.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...safety import printable, read_bytes
from .columns import EXPECTED_COLUMNS, RECOGNISED, map_columns

MAX_BYTES = 64 * 1024 * 1024   # a curator's CSV of 100,000 rows is ~60 MB; Epoch's whole export ~9 MB

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
         (codecs.BOM_UTF8, "utf-8-sig"))


def decode(data: bytes, name: str) -> str:
    """The text of a submissions file; InputError for empty, binary or undecodable files."""
    for bom, enc in _BOMS:   # UTF-32 LE before UTF-16 LE: its BOM starts with UTF-16's
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                raise InputError(f"the file starts with a {enc.upper()} byte-order mark but is "
                                 "not valid text in that encoding", file=name) from None
            break
    else:
        if b"\x00" in data[:65536]:
            raise InputError("this is a binary file, not CSV or JSON lines text", file=name)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:  # spreadsheets on Windows still export cp1252 ("CSV" rather than "CSV UTF-8")
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise InputError("this is not text in UTF-8 (or UTF-16 with a byte-order mark, "
                                 "or Windows-1252): export the sheet as 'CSV UTF-8'",
                                 file=name) from None
    if not text.strip():
        raise InputError("the file is empty: expected a CSV (or JSON lines) file of submissions",
                         file=name)
    # a few control characters are a hostile name's terminal escapes (shown escaped later);
    # a tenth of the text is a binary file
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > 0.1 * min(len(text), 65536):
        raise InputError("this is a binary file, not CSV or JSON lines text", file=name)
    return text


def is_jsonl(text: str, name: str) -> bool:
    if name.lower().endswith((".jsonl", ".ndjson", ".json")):
        return True
    return text.lstrip().startswith("{")


def read_jsonl(text: str, name: str) -> tuple[list[str], list[tuple[int, Any]]]:
    headers: list[str] = []
    rows: list[tuple[int, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as err:
            rows.append((n, InputError(f"not a JSON object: {err.msg} (column {err.colno})")))
            continue
        except RecursionError:
            rows.append((n, InputError("not a JSON object: nested too deeply")))
            continue
        if not isinstance(obj, dict):
            rows.append((n, InputError(f"a JSON line must be an object, got {type(obj).__name__}")))
            continue
        for k in obj:
            if str(k) not in headers:
                headers.append(str(k))
        rows.append((n, {str(k): v for k, v in obj.items()}))
    if not rows:
        raise InputError("the file has no rows", file=name)
    return headers, rows


def read_csv(text: str, name: str) -> tuple[list[str], list[tuple[int, Any]]]:
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        while header is not None and not any(h.strip() for h in header):
            header = next(reader)
    except StopIteration:
        raise InputError("the file is empty", file=name) from None
    except csv.Error as err:
        raise InputError(f"not a CSV file: {err}", file=name, line=reader.line_num) from None
    headers = [h.strip() for h in header]
    rows: list[tuple[int, Any]] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:  # a broken row: flag it and read on
            rows.append((start, InputError(f"unreadable CSV row: {err}")))
            start = reader.line_num + 1
            continue
        if any(c.strip() for c in cells):
            rows.append((start, dict(zip(headers, cells))))
        start = reader.line_num + 1
    if not rows:
        raise InputError("the file has a header but no rows", file=name)
    if text.count('"') % 2:  # maybe a quote that never closes: the reader swallowed the rest
        line = _unclosed_quote(text, delimiter)
        if line is not None:
            raise InputError("malformed CSV: a quoted cell opens on this line and is never "
                             "closed, so the rest of the file would read as one cell; close "
                             "the quote", file=name, line=line)
    return headers, rows


def _unclosed_quote(text: str, delimiter: str):
    """The line where a quoted cell opens that the file never closes, else None."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            next(reader)
        except StopIteration:
            return None
        except csv.Error as err:
            if "unexpected end of data" in str(err):
                return start
        start = reader.line_num + 1


def read_rows(path: str | os.PathLike) -> tuple[dict[str, str], list[str], list[tuple[int, Any]]]:
    """(field -> header, ignored headers, [(line, {header: cell} or InputError)])."""
    name = printable(path)
    data = read_bytes(Path(path), max_bytes=MAX_BYTES, what="submissions file")
    text = decode(data, name)
    headers, rows = (read_jsonl if is_jsonl(text, name) else read_csv)(text, name)
    mapping, ignored = map_columns(headers, file=name)
    if not any(f in mapping for f in RECOGNISED):
        shown = ", ".join(repr(printable(h)) for h in headers[:6]) + (" ..." if len(headers) > 6 else "")
        raise InputError(f"no recognisable columns (found {shown or 'none'}); expected some of: "
                         + ", ".join(EXPECTED_COLUMNS), file=name, line=1)
    return mapping, ignored, rows
