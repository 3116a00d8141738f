"""Hugging Face config.json counted analytically: no torch, no transformers (the core tier).

The equality with transformers' own models on the meta device is in
tests/test_hf_analytic_torch.py; here: exact counts with their arithmetic, the run with torch
and transformers unimportable, --show-spec, and hostile configs (one line, exit 2, the key).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from estimator import count
from estimator.spec.hf import FAMILIES, config_spec
from estimator.spec.hf.defaults import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent

TINY_LLAMA = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 160,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
              "vocab_size": 256, "max_position_embeddings": 32}


def write(tmp_path, cfg, name="config.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(cfg) if not isinstance(cfg, str) else cfg)
    return p


def test_tiny_llama_exact(tmp_path):
    r = count(write(tmp_path, TINY_LLAMA))
    # embed 256*64 = 16,384; per layer: q 64*64 = 4,096, k and v 64*32 = 2,048 each (2 kv
    # heads of 16), o 4,096 -> 12,288; SwiGLU 3*64*160 = 30,720; two RMSNorms 128
    # -> 43,136 x 2 = 86,272; final norm 64; untied head 16,384 -> 119,104
    assert r.params == r.active_params == 16_384 + 86_272 + 64 + 16_384 == 119_104
    # T = 32 (max_position_embeddings): matmuls 2*32*(2*(12,288 + 30,720) + 16,384)
    # = 6,553,600; scores and values 2 layers x 2 x 2*32*32*64 = 524,288
    assert r.forward_flops == 6_553_600 + 524_288 == 7_077_888
    assert r.tokens == 32


def test_defaults_aliases_and_unknown_keys(tmp_path):
    # GPT-2 spelled with the attribute names transformers maps (hidden_size -> n_embd,
    # num_hidden_layers -> n_layer, num_attention_heads -> n_head), unknown keys ignored,
    # everything else the GPT2Config defaults: vocab 50,257, 1,024 positions, n_inner 4 x d
    cfg = {"model_type": "gpt2", "hidden_size": 768, "num_hidden_layers": 12,
           "num_attention_heads": 12, "some_future_key": {"x": 1}, "auto_map": "evil.py"}
    r = count(write(tmp_path, cfg))
    # wte 50,257*768 = 38,597,376; wpe 1,024*768 = 786,432; block 7,087,872 x 12
    # = 85,054,464; ln_f 1,536; head tied -> 124,439,808 (archspecs/gpt2.yaml)
    assert r.params == 38_597_376 + 786_432 + 85_054_464 + 1_536 == 124_439_808
    assert r.params == count(ROOT / "archspecs" / "gpt2.yaml").params


def test_deepseek_v3_config_matches_archspec_less_the_routing_bias(tmp_path):
    cfg = {"model_type": "deepseek_v3"}  # every value the DeepseekV3Config default: V3 itself
    r = count(write(tmp_path, cfg))
    # archspecs/deepseek-v3.yaml counts 671,026,419,200 including the 58 MoE layers'
    # 256-entry routing biases, which transformers keeps as buffers: 58*256 = 14,848
    assert r.params == 671_026_419_200 - 58 * 256 == 671_026_404_352


def test_falcon_7b_multi_query(tmp_path):
    r = count(write(tmp_path, {"model_type": "falcon"}))  # FalconConfig defaults = Falcon-7B
    # word_embeddings 65,024*4,544 = 295,469,056 (tied head); per layer: LN 9,088; qkv
    # 4,544*(4,544 + 2*64) = 21,229,568; dense 4,544^2 = 20,647,936; MLP 2*4,544*18,176
    # = 165,183,488 -> 207,070,080 x 32 = 6,626,242,560; ln_f 9,088 -> 6,921,720,704
    assert r.params == 295_469_056 + 32 * 207_070_080 + 9_088 == 6_921_720_704


def test_show_spec_round_trips(tmp_path, cli):
    p = write(tmp_path, TINY_LLAMA)
    code, out, err = cli(str(p), "--show-spec")
    assert code == 0, err
    assert "kind: attention" in out and "kv_heads: kv_heads" in out
    y = tmp_path / "spec.yaml"
    y.write_text(out)
    code, out2, err = cli(str(y), "--json")
    assert code == 0, err
    assert json.loads(out2)["params"] == 119_104


def test_cli_counts_a_config(tmp_path, cli):
    code, out, err = cli(str(write(tmp_path, TINY_LLAMA)), "--json")
    assert code == 0, err
    d = json.loads(out)
    assert (d["params"], d["forward_flops"]) == (119_104, 7_077_888)
    code, out, err = cli(str(write(tmp_path, TINY_LLAMA)), "--set", "T=8", "--json")
    # T = 8: 2*8*(2*43,008 + 16,384) + 2 x 2 x 2*8*8*64 = 1,638,400 + 32,768
    assert json.loads(out)["forward_flops"] == 1_638_400 + 32_768


_BLOCKER = """
import sys, json
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'transformers'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
from estimator import count
r = count(sys.argv[1])
from estimator.cli import main
try:
    main([sys.argv[1], '--json'])
except SystemExit as e:
    assert e.code in (0, None), e.code
assert 'torch' not in sys.modules and 'transformers' not in sys.modules
print('PARAMS', r.params, r.active_params, r.forward_flops)
"""


@pytest.mark.parametrize("family", ["llama", "mixtral", "qwen2_moe", "deepseek_v3", "t5", "bert"])
def test_counts_with_torch_and_transformers_unimportable(tmp_path, family):
    p = write(tmp_path, dict(TINY_LLAMA, model_type=family) if family == "llama"
              else {"model_type": family, "num_hidden_layers": 1, "num_layers": 1})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", _BLOCKER, str(p)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    line = [x for x in res.stdout.splitlines() if x.startswith("PARAMS")][0]
    params, active, flops = map(int, line.split()[1:])
    r = count(p)
    assert (params, active, flops) == (r.params, r.active_params, r.forward_flops)
    if family == "llama":
        assert params == 119_104


def test_every_family_has_a_translation():
    # 23 families, each reads its default config (transformers' class defaults) to a spec
    assert len(FAMILIES) == 23
    for fam in FAMILIES:
        cfg = {"model_type": fam}
        if fam == "deepseek_v2":
            cfg["num_experts_per_tok"] = 6  # DeepseekV2Config has no default for it
        spec = config_spec(cfg)
        assert spec["layers"] and "T" in spec["vars"], fam


BAD = [
    ('{"model_type": "llama", "hidden_size": -64}', "hidden_size", "at least 1"),
    ('{"model_type": "gpt2", "n_head": 0}', "n_head", "at least 1"),
    ('{"model_type": "llama", "num_hidden_layers": "32"}', "num_hidden_layers", "integer"),
    ('{"model_type": "llama", "hidden_size": 4096.0}', "hidden_size", "integer"),
    ('{"model_type": "llama", "vocab_size": true}', "vocab_size", "boolean"),
    ('{"model_type": "llama", "intermediate_size": null}', "intermediate_size", "null"),
    ('{"model_type": "llama", "hidden_size": 1000000000000000}', "hidden_size", "larger"),
    ('{"model_type": "llama", "hidden_size": ' + "9" * 5001 + "}", "config", "not a config"),
    ("[1, 2]", "config.json", "JSON object"),
    ('{"hidden_size": 8}', "model_type", "missing"),
    ('{"model_type": 5}', "model_type", "string"),
    ('{"model_type": "llama", "tie_word_embeddings": "yes"}', "tie_word_embeddings", "true or false"),
    ('{"model_type": "llama", "hidden_act": "evil"}', "hidden_act", "activation"),
    ('{"model_type": "llama", "rms_norm_eps": NaN}', "config", "NaN"),
    ('{"model_type": "llama", "num_key_value_heads": 3}', "num_key_value_heads", "divide"),
    ('{"model_type": "t5", "feed_forward_proj": "a-b-c"}', "feed_forward_proj", "gated"),
    ('{"model_type": "qwen2_moe", "decoder_sparse_step": 2, "num_hidden_layers": 1000000000}',
     "num_hidden_layers", "at most"),
    ('{"model_type": "deepseek_v2"}', "num_experts_per_tok", "missing"),
    ("not json", "config.json", "not JSON"),
]


@pytest.mark.parametrize("text,key,message", BAD)
def test_bad_configs_are_one_line(tmp_path, cli, text, key, message):
    p = write(tmp_path, text)
    code, out, err = cli(str(p))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and message in lines[0], err


def test_huge_layer_counts_are_instant(tmp_path):
    # a uniform stack walks one copy and multiplies: 1e9 layers is arithmetic, not a loop
    r = count(write(tmp_path, dict(TINY_LLAMA, num_hidden_layers=10 ** 9)))
    # per layer 43,136 (as above) x 1e9 + embeddings, final norm, head 32,832
    assert r.params == 43_136 * 10 ** 9 + 32_832


def test_unsupported_family_names_the_supported_and_the_meta_route(tmp_path, cli):
    code, out, err = cli(str(write(tmp_path, {"model_type": "whisper"})))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "llama" in err and "olmoe" in err and "paramcount model" in err


def test_not_a_regular_file(tmp_path, cli):
    d = tmp_path / "dir.json"
    d.mkdir()
    code, _, err = cli(str(d))
    assert code == 2 and "this is a folder, not a config.json" in err
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    code, _, err = cli(str(fifo))   # read_bytes: never blocks on a FIFO
    assert code == 2 and "not a regular file (a device, FIFO or socket)" in err
    code, _, err = cli(str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in err


def test_input_file_unchanged(tmp_path, cli):
    p = write(tmp_path, TINY_LLAMA)
    before = p.read_bytes()
    cli(str(p), "--show-spec")
    cli(str(p), "--json")
    assert p.read_bytes() == before


def test_count_refuses_inputs_for_a_config(tmp_path):
    from estimator import ModelError

    with pytest.raises(ModelError, match="overrides"):
        count(write(tmp_path, TINY_LLAMA), "1x128")
    # T = 8 as an override: as in test_cli_counts_a_config
    assert count(write(tmp_path, TINY_LLAMA), overrides={"T": 8}).forward_flops == 1_671_168


def test_archspec_config_errors_name_the_config_key(tmp_path, cli):
    y = tmp_path / "x.yaml"
    y.write_text("name: X\ncitation: c\nconfig_source: here\nconfig:\n  model_type: llama\n"
                 "  hidden_size: -1\n")
    code, out, err = cli(str(y))
    assert code == 2 and "config.hidden_size" in err and "x.yaml:6" in err
    y.write_text("name: X\nconfig:\n  model_type: llama\n")
    code, out, err = cli(str(y))
    assert code == 2 and "config_source" in err


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.integers(2 ** 39, 2 ** 45),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5),
                    st.lists(st.integers(-2, 5), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                            st.integers(), max_size=2))


@settings(max_examples=150, deadline=None)
@given(family=st.sampled_from(sorted(FAMILIES)),
       changes=st.dictionaries(st.sampled_from(sorted({k for f in FAMILIES for k in DEFAULTS[f]})),
                               _VALUES, max_size=4))
def test_any_config_counts_or_fails_in_one_line(family, changes):
    """Hostile values in the keys the reader uses: a count or a SpecError, nothing else."""
    from estimator import SpecError
    from estimator.analytic import analyze, load_spec

    cfg = {"model_type": family, "num_hidden_layers": 2, "n_layer": 2, "num_layers": 2,
           "num_experts_per_tok": 2, **changes}
    try:
        analyze(load_spec(config_spec(cfg, "config.json")))
    except SpecError as err:
        assert "\n" not in str(err)
