"""estimator.safety: the reading, writing and text rules for untrusted input."""
from __future__ import annotations

import os

import pytest
from hypothesis import given, strategies as st

from estimator.errors import InputError
from estimator.safety import (check_output, csv_cell, html_text, printable, read_bytes,
                              resolve_inside, write_output)


def test_printable_escapes_terminal_and_bidi_controls():
    assert printable("a\x1b]0;pwned\x07b") == "a\\x1b]0;pwned\\x07b"
    assert printable("x\u202ey") == "x\\u202ey"
    assert printable("line\nnext") == "line\\x0anext"
    assert printable("GPT-3 175B (davinci)") == "GPT-3 175B (davinci)"


@given(st.text())
def test_printable_never_leaves_a_control_character(s):
    out = printable(s)
    assert not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in out)


def test_csv_cell_neutralises_formulas_and_keeps_numbers():
    assert csv_cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert csv_cell("+1+2") == "'+1+2"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("\tx") == "'\tx"
    assert csv_cell("\r=1") == "'\r=1"
    assert csv_cell("-1.5e3") == "-1.5e3"      # a number stays a number
    assert csv_cell(-3) == -3 and csv_cell(2.5) == 2.5 and csv_cell(None) is None
    assert csv_cell("GPT-3") == "GPT-3"


def test_html_text():
    assert html_text('<script>alert("x")</script>') == \
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def test_resolve_inside_refuses_outside_paths_alike_whether_they_exist(tmp_path):
    (tmp_path / "a.yaml").write_text("x")
    assert resolve_inside("a.yaml", [tmp_path]) == (tmp_path / "a.yaml").resolve()
    with pytest.raises(InputError) as real:
        resolve_inside("/etc/passwd", [tmp_path])
    with pytest.raises(InputError) as missing:
        resolve_inside("/etc/no-such-file-here", [tmp_path])
    with pytest.raises(InputError):
        resolve_inside("../../x", [tmp_path])
    assert "outside" in str(real.value) and "outside" in str(missing.value)
    os.symlink("/etc/passwd", tmp_path / "link.yaml")
    with pytest.raises(InputError, match="outside"):
        resolve_inside("link.yaml", [tmp_path])


def test_read_bytes_refuses_devices_fifos_and_big_files(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        read_bytes("/dev/zero")
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_bytes(fifo)                       # returns at once: never opened
    big = tmp_path / "big"
    big.write_bytes(b"x" * 11)
    with pytest.raises(InputError, match="over the limit of 10 bytes"):
        read_bytes(big, max_bytes=10)
    assert read_bytes(big, max_bytes=11) == b"x" * 11
    with pytest.raises(InputError, match="no such file"):
        read_bytes(tmp_path / "none")


def test_write_output_never_lands_on_an_input(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("original")
    hard = tmp_path / "hard.csv"
    os.link(src, hard)
    soft = tmp_path / "soft.csv"
    os.symlink(src, soft)
    for target in (src, hard, soft):
        with pytest.raises(InputError, match="would overwrite the input"):
            write_output(target, "report", [src])
    assert src.read_text() == "original"
    # a link at the target that points elsewhere is replaced, not written through
    other = tmp_path / "other.txt"
    other.write_text("keep")
    link = tmp_path / "out.csv"
    os.symlink(other, link)
    write_output(link, "report", [src])
    assert other.read_text() == "keep" and link.read_text() == "report" and not link.is_symlink()


def test_write_output_refuses_a_missing_folder(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        check_output(tmp_path / "no" / "out.csv")
    with pytest.raises(InputError, match="cannot write"):
        write_output("/dev/full", "x")
