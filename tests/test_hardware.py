"""The accelerator table (hardware/accelerators.yaml) and its lookup."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from estimator.errors import InputError
from estimator.costs.hardware import PRECISIONS, load_table, lookup, normalise

TABLE = load_table()

# Every part the issue names, as people write it -> the row it must find.
NAMED = {
    "K40": "nvidia-k40", "K80": "nvidia-k80", "M40": "nvidia-m40", "P100": "nvidia-p100-sxm2",
    "V100": "nvidia-v100-sxm2", "V100 PCIe": "nvidia-v100-pcie", "V100 DGXS": "nvidia-v100-dgxs",
    "T4": "nvidia-t4", "A100": "nvidia-a100-sxm4-40gb", "A100 80GB": "nvidia-a100-sxm4-80gb",
    "A100 PCIe": "nvidia-a100-pcie-40gb", "A100 PCIe 80GB": "nvidia-a100-pcie-80gb",
    "A800": "nvidia-a800-sxm4-80gb", "A10": "nvidia-a10", "A40": "nvidia-a40", "L4": "nvidia-l4",
    "L40S": "nvidia-l40s", "H100 SXM": "nvidia-h100-sxm", "H100 PCIe": "nvidia-h100-pcie",
    "H100 NVL": "nvidia-h100-nvl", "H800": "nvidia-h800-sxm", "H200": "nvidia-h200-sxm",
    "B100": "nvidia-b100", "B200": "nvidia-b200", "GB200": "nvidia-gb200",
    "GTX 580": "nvidia-gtx-580", "GTX Titan Black": "nvidia-gtx-titan-black",
    "GTX TITAN X": "nvidia-gtx-titan-x", "TITAN Xp": "nvidia-titan-xp", "TITAN V": "nvidia-titan-v",
    "GTX 1080 Ti": "nvidia-gtx-1080-ti", "RTX 2080 Ti": "nvidia-rtx-2080-ti",
    "RTX 3090": "nvidia-rtx-3090", "RTX 3090 Ti": "nvidia-rtx-3090-ti", "RTX 4090": "nvidia-rtx-4090",
    "Quadro RTX 5000": "nvidia-quadro-rtx-5000", "Quadro RTX 6000": "nvidia-quadro-rtx-6000",
    "Quadro RTX 8000": "nvidia-quadro-rtx-8000", "RTX A5000": "nvidia-rtx-a5000",
    "A6000": "nvidia-rtx-a6000", "RTX 6000 Ada": "nvidia-rtx-6000-ada",
    "TPU v1": "google-tpu-v1", "TPU v2": "google-tpu-v2", "TPU v3": "google-tpu-v3",
    "TPU v4": "google-tpu-v4", "TPU v5e": "google-tpu-v5e", "TPU v5p": "google-tpu-v5p",
    "TPU v6e": "google-tpu-v6e", "TPU v7": "google-tpu-v7", "MI100": "amd-mi100",
    "MI250X": "amd-mi250x", "MI300X": "amd-mi300x", "MI325X": "amd-mi325x",
    "Gaudi 2": "intel-gaudi2", "Gaudi 3": "intel-gaudi3", "Trainium": "aws-trainium1",
    "Trainium2": "aws-trainium2", "Ascend 910": "huawei-ascend-910",
    "Ascend 910B": "huawei-ascend-910b", "CS-2": "cerebras-cs-2",
}


def test_table_size_and_coverage():
    assert len(TABLE) >= 60
    for name, want in NAMED.items():
        assert lookup(name).id == want, name


def test_every_row_has_source_unique_id_and_aliases():
    ids = [r.id for r in TABLE]
    assert len(ids) == len(set(ids))
    for r in TABLE:
        assert r.aliases, r.id
        assert len(r.source) >= 10, r.id
        # a source names a datasheet/paper: a link, or a citation with a year or document name
        assert re.search(r"https?://|\b(19|20)\d\d\b|datasheet|whitepaper|specification",
                         r.source, re.I), r.id
        assert set(r.peak) <= set(PRECISIONS)


def test_no_alias_maps_to_two_entries():
    owner: dict[str, str] = {}
    for r in TABLE:
        for name in [r.id, r.name, *r.aliases]:
            key = normalise(name)
            assert owner.setdefault(key, r.id) == r.id, (name, owner[key], r.id)
    # and every alias finds its own row
    for r in TABLE:
        for name in r.aliases:
            assert lookup(name).id == r.id, name


def test_lookup_ignores_case_and_punctuation():
    for name in ["V100", "Tesla V100-SXM2-32GB", "tesla v100 sxm2 32gb", "nvidia-v100-sxm2",
                 "NVIDIA Tesla V100"]:
        assert lookup(name).id == "nvidia-v100-sxm2", name
    assert lookup("TPUv3").id == lookup("TPU v3").id == "google-tpu-v3"
    assert lookup("NVIDIA H100 SXM5 80GB").id == "nvidia-h100-sxm"
    assert lookup("tpu v3-8").id == "google-tpu-v3-8"


def test_default_precision_rule():
    # Pascal GeForce: no tensor cores, fp16 crippled -> fp32
    gtx = lookup("GTX 1080 Ti")
    assert gtx.default == "fp32"
    assert gtx.peak_flops("fp32").low == 11.34e12      # 3584 x 2 x 1.582 GHz = 11.34e12
    # V100 has tensor cores: best dense 16-bit is the fp16 tensor figure, 125 TFLOP/s
    assert lookup("V100").default == "fp16"
    assert lookup("V100").peak_flops("fp16").low == 125e12
    # A100: fp16 and bf16 both 312 -> bf16
    assert lookup("A100").default == "bf16"
    # MI100: fp16 184.6 beats bf16 92.3
    assert lookup("MI100").default == "fp16"
    # pre-Volta data-centre parts default to fp32 too
    assert lookup("P100").default == "fp32"
    assert lookup("K80").default == "fp32"


def test_h100_dense_not_sparse():
    h = lookup("H100 SXM")
    # datasheet prints 1,979 TFLOPS bf16 *with sparsity*; dense is half: 989.4
    assert h.peak["bf16"] == 989.4
    assert h.peak_flops("bf16").low == pytest.approx(989.4e12)
    assert h.default == "bf16"
    assert "sparsity" in h.note.lower()


def test_crippled_fp16_is_flagged():
    for name in ["GTX 1080 Ti", "TITAN Xp", "TITAN X Pascal", "GTX 1080", "P40"]:
        a = lookup(name)
        assert a.peak["fp16"] < a.peak["fp32"] / 10, name  # 1/64 rate
        assert a.default == "fp32"
        assert "crippled" in a.note.lower(), name


def test_boards_are_not_chips():
    v38 = lookup("TPU v3-8")
    assert (v38.kind, v38.chips, v38.chip) == ("board", 4, "google-tpu-v3")
    assert v38.peak["bf16"] == 420            # the XLand figure: 4.20e14 FLOP/s per board
    assert lookup("TPU v3").peak["bf16"] == 123
    k80 = lookup("K80")
    assert (k80.kind, k80.chips) == ("board", 2)
    assert lookup("K80 GPU").kind == "chip"
    for r in TABLE:
        assert (r.kind == "chip") == (r.chips == 1) or r.kind == "system", r.id


def test_sparse_only_datasheets_are_halved_and_say_so():
    # L4 datasheet: 242 TFLOPS fp16 with sparsity -> 121 dense
    assert lookup("L4").peak["bf16"] == 121
    assert "sparse" in lookup("L4").note.lower()
    # B200: 4.5 PF fp16/bf16 with sparsity -> 2250 dense
    assert lookup("B200").peak["bf16"] == 2250


def test_ambiguous_names_ask_which():
    with pytest.raises(InputError) as e:
        lookup("TITAN X")
    msg = str(e.value)
    assert "nvidia-gtx-titan-x" in msg and "nvidia-titan-x-pascal" in msg and "\n" not in msg
    with pytest.raises(InputError, match="google-tpu-v3"):
        lookup("TPU")


def test_unknown_names_suggest_closest():
    with pytest.raises(InputError) as e:
        lookup("H1OO")
    assert "nvidia-h100-sxm" in str(e.value)
    with pytest.raises(InputError) as e:
        lookup("V1000")
    assert "nvidia-v100-sxm2" in str(e.value)


def test_search():
    ids = [r.id for r in TABLE.search("tpu v3")]
    assert ids == ["google-tpu-v3", "google-tpu-v3-8"]
    assert all(r.vendor == "AMD" for r in TABLE.search("AMD"))
    assert TABLE.search("zzzz") == []
    assert len(TABLE.search(None)) == len(TABLE)


def _write(tmp_path: Path, rows: str, extra: str = "") -> Path:
    p = tmp_path / "acc.yaml"
    p.write_text("accelerators:\n" + rows + extra)
    return p


ROW = """- id: {id}
  name: {name}
  aliases: [{alias}]
  vendor: X
  year: 2020
  kind: chip
  peak: {{fp32: 10}}
  matrix_units: false
  source: "Example datasheet 2020, https://example.com"
"""


def test_loader_refuses_an_alias_on_two_rows(tmp_path):
    p = _write(tmp_path, ROW.format(id="a", name="A", alias="Foo-1")
               + ROW.format(id="b", name="B", alias="foo 1"))
    with pytest.raises(InputError, match="also a name of a"):
        load_table(p)


def test_loader_refuses_a_row_without_source(tmp_path):
    p = _write(tmp_path, ROW.format(id="a", name="A", alias="Foo").replace(
        '  source: "Example datasheet 2020, https://example.com"\n', ""))
    with pytest.raises(InputError) as e:
        load_table(p)
    assert "source" in str(e.value) and str(p) in str(e.value)


def test_loader_refuses_unknown_precision_with_line(tmp_path):
    p = _write(tmp_path, ROW.format(id="a", name="A", alias="Foo").replace("fp32: 10", "fp12: 10"))
    with pytest.raises(InputError) as e:
        load_table(p)
    # line 1 'accelerators:', 2 '- id: a', ... 8 'peak: {fp12: 10}'
    assert f"{p}:8: accelerators[0].peak.fp12:" in str(e.value)


def test_loader_refuses_board_without_chips(tmp_path):
    p = _write(tmp_path, ROW.format(id="a", name="A", alias="Foo").replace("kind: chip", "kind: board"))
    with pytest.raises(InputError, match="chips"):
        load_table(p)
