"""Spec -> torch -> ONNX export, run by onnxruntime, counted by the ONNX counter.

The hand spec below is small enough to count on paper:

    T=4 tokens, vocab 10, d=8, 2 heads, MLP hidden 16, lm head tied to the embedding.
    params: wte 10*8=80; ln 2*8=16; attn q,k,v,o 4*(8*8+8)=288; ln 16;
            mlp up 8*16+16=144, down 16*8+8=136; head tied 0   -> 680
    FLOPs:  q,k,v,o 4 * 2*T*d*d = 4*512 = 2048; scores+values 2*(2*T*T*heads*4) = 512;
            mlp 2*T*8*16 * 2 = 2048; head 2*T*8*10 = 640           -> 5248
"""
from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from estimator.errors import InputError, ModelError  # noqa: E402
from estimator.graphs.onnx_count import count_onnx  # noqa: E402
from estimator.graphs.onnx_export import export_spec  # noqa: E402

pytestmark = [pytest.mark.onnx, pytest.mark.torch]

HAND = (Path(__file__).resolve().parent / "data" / "hand-transformer.yaml").read_text()


@pytest.fixture
def hand(tmp_path):
    p = tmp_path / "hand.yaml"
    p.write_text(HAND)
    return p


def test_export_runs_and_counts_by_hand(hand, tmp_path):
    out = tmp_path / "hand.onnx"
    rep = export_spec(hand, out)
    assert out.is_file() and rep.size == "full" and rep.overrides == {}
    assert rep.ort_output_shape == (1, 4, 10)          # batch 1 x T x vocab
    assert rep.expected_output_shape == (4, 10)
    assert rep.params == 680 and rep.external_data is None
    r = count_onnx(out)
    assert r.params == 680                             # the tied head weight counts once
    assert r.forward_flops == 5248
    assert r.unknown_ops == {}
    assert r.input_shapes == {"input": (1, 4)} and r.tokens == 4
    # per-layer rows carry the spec's paths (from the exporter's module scopes)
    assert r.layer("wte").count.params == 80
    assert r.layer("attn_block.attn").count.params == 288
    assert r.layer("attn_block.attn").count.forward_flops == 2560   # 2048 q,k,v,o + 512 sdpa
    assert r.layer("attn_block.attn.q").count.forward_flops == 512
    assert r.layer("mlp_block.mlp").count.forward_flops == 2048
    assert r.layer("head").count.params == 0 and r.layer("head").count.forward_flops == 640


def test_reduced_size_is_recorded(hand, tmp_path):
    # reduced: d=4, ffn=8 -> params 40 + 8 + 4*(16+4)=80 + 8 + (4*8+8)+(8*4+4)=76 = 212
    # FLOPs: q,k,v,o 4*2*4*4*4=512; sdpa 2*(2*4*4*2*2)=256; mlp 2*(2*4*4*8)=512; head 320
    out = tmp_path / "small.onnx"
    rep = export_spec(hand, out, size="auto", max_full_params=100)
    assert rep.size == "reduced" and rep.overrides == {"d": 4, "ffn": 8}
    assert rep.full_params == 680 and rep.params == 212
    assert "reduced" in rep.notes[0] and "680" in rep.reason
    r = count_onnx(out)
    assert (r.params, r.forward_flops) == (212, 1600)
    meta = {p.key: p.value for p in onnx.load(str(out), load_external_data=False).metadata_props}
    assert meta["paramcount.size"] == "reduced" and meta["paramcount.overrides"] == "d=4,ffn=8"


def test_external_data_stays_in_the_folder(hand, tmp_path):
    out = tmp_path / "ext.onnx"
    rep = export_spec(hand, out, external_data=True)
    assert rep.external_data == tmp_path / "ext.onnx.data" and rep.external_data.is_file()
    assert count_onnx(out).params == 680


def test_refusals_write_nothing(hand, tmp_path):
    with pytest.raises(InputError, match=r"\.onnx"):
        export_spec(hand, tmp_path / "model.txt")
    with pytest.raises(InputError, match="no such folder"):
        export_spec(hand, tmp_path / "missing" / "m.onnx")
    # size auto, too big to export whole and no reduced block: refused before anything is built
    big = tmp_path / "big.yaml"
    big.write_text(HAND.replace("reduced: {d: 4, ffn: 8}\n", ""))
    with pytest.raises(ModelError, match="no reduced: block"):
        export_spec(big, tmp_path / "big.onnx", size="auto", max_full_params=100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.yaml", "hand.yaml"]


def test_layer_whose_output_is_discarded_keeps_its_weights(tmp_path):
    # the encoder's output is read by nothing (the decoder takes `from: tgt`): a tracing
    # exporter would prune it; the export keeps it as an extra graph output.
    # params: src 20*4=80, enc 4*4+4=20, tgt 30*4=120, dec 4*4+4=20 -> 240
    spec = tmp_path / "two.yaml"
    spec.write_text("""
name: two-inputs
inputs: {src: {tokens: 3}, tgt: {tokens: 5}}
layers:
  - {kind: embedding, name: src_embed, vocab: 20, dim: 4}
  - {kind: linear, name: enc, out: 4}
  - {kind: embedding, name: tgt_embed, from: tgt, vocab: 30, dim: 4}
  - {kind: linear, name: dec, out: 4}
""")
    out = tmp_path / "two.onnx"
    rep = export_spec(spec, out)
    assert rep.ort_output_shape == (1, 5, 4)
    r = count_onnx(out)
    assert r.params == 240
    # FLOPs: enc 2*3*4*4 = 96, dec 2*5*4*4 = 160 -> 256
    assert r.forward_flops == 256


def test_dynamo_exporter_fallback_keeps_spec_paths(hand, tmp_path, monkeypatch):
    # when the TorchScript exporter fails, the dynamo exporter is used; its nodes carry
    # pkg.torch.onnx.name_scopes metadata (module stack + the node's own name), which map
    # to the same spec paths and the same counts: 680 params, 5248 FLOPs
    pytest.importorskip("onnxscript")
    real = torch.onnx.export

    def torchscript_fails(model, args, f=None, *a, dynamo=True, **kw):
        if not dynamo:
            raise RuntimeError("TorchScript exporter unavailable")
        return real(model, args, f, *a, dynamo=True, **kw)

    monkeypatch.setattr(torch.onnx, "export", torchscript_fails)
    out = tmp_path / "dyn.onnx"
    rep = export_spec(hand, out)
    assert rep.exporter == "dynamo" and rep.ort_output_shape == (1, 4, 10)
    r = count_onnx(out)
    assert (r.params, r.forward_flops) == (680, 5248)
    assert r.layer("attn_block.attn.q").count.forward_flops == 512
    assert r.layer("attn_block.attn").count.forward_flops == 2560
    assert r.layer("wte").count.params == 80 and r.layer("head").count.params == 0
    assert not any(row.path.endswith(("linear", "layer_norm")) for row in r.layers)
