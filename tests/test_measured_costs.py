"""Measured witnesses: training memory on fake tensors vs ZeRO/Korthikanti; the built model's
cached decode step vs the inference formula; the cost commands."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
T = pytest.importorskip("transformers")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from estimator.costs.inference import decode_flops, decoder  # noqa: E402
from estimator.costs.memory import activation_bytes_per_layer, training_memory  # noqa: E402

DATA = Path(__file__).parent / "data"
ARCH = Path(__file__).resolve().parent.parent / "archspecs"


def test_gpt2_memory_measured_vs_zero_and_korthikanti():
    from estimator.graphs.train_memory import measure_train_memory

    s, b, h, a = 1024, 1, 768, 12
    cfg = T.GPT2Config(n_layer=2, n_embd=h, n_head=a, n_positions=s, activation_function="gelu")
    cfg._attn_implementation = "eager"   # the softmax and its dropout materialised, as in Megatron
    with torch.device("meta"):
        model = T.GPT2LMHeadModel(cfg)
    m = measure_train_memory(model, {"input_ids": (b, s)}, precision="bf16-mixed")
    f = training_memory(params=m.params, precision="bf16", optimizer="adamw")
    # model states: exact, 2 + 2 + 12 bytes per parameter (ZeRO s3.1)
    assert m.params == 92_158_464
    assert (m.weights, m.gradients, m.optimizer_states) == (f.weights, f.gradients,
                                                           f.optimizer_states)
    assert m.optimizer_states == 12 * m.params
    # activations of one block: Korthikanti's s·b·h·(34 + 5as/h) = 89,653,248 bytes, plus what
    # this eager CPU model keeps beyond the paper's assumptions, every term explained:
    sbh = s * b * h
    formula = activation_bytes_per_layer(s, b, h, a)
    assert formula == 89_653_248
    extra = (a * s * s * b      # attention-dropout mask in bf16 (2 B) on CPU, not 1 B (CUDA)
             + 2 * sbh          # the two residual-dropout masks likewise
             + 4 * sbh          # Q kept as a view of the fused qkv output (6sbh, not 4sbh for
                                # Q, K) plus contiguous copies of Kᵀ and V
             + 2 * 2 * s * b * 2)  # the two LayerNorms' mean and rstd (bf16)
    assert m.per_module["transformer.h.0"] == formula + extra == 106_962_944
    assert m.per_module["transformer.h.0"] / formula == pytest.approx(1.193, abs=1e-3)
    assert m.peak > m.weights + m.gradients + m.optimizer_states


def test_frozen_parameters_are_refused_in_one_line_not_a_traceback():
    # torch's MemTracker raises RuntimeError inside its hooks on a parameter that does not
    # require grad; the measurement refuses such a model up front with a ModelError that
    # names the frozen tensors (here the first Linear's weight, 8 x 16 = 128 values)
    from estimator.errors import ModelError
    from estimator.graphs.train_memory import measure_train_memory

    with torch.device("meta"):
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                                    torch.nn.Linear(16, 4))
    model[0].weight.requires_grad_(False)
    with pytest.raises(ModelError, match=r"1 frozen parameter\(s\) \(0\.weight\)"):
        measure_train_memory(model, (2, 8), precision="fp32")
    assert model[0].weight.requires_grad is False   # the model is not changed
    model[0].weight.requires_grad_(True)             # every parameter trainable: measured
    r = measure_train_memory(model, (2, 8), precision="fp32")
    # (8 x 16 + 16) + (16 x 4 + 4) = 144 + 68 = 212 parameters, 4 bytes each = 848
    assert (r.params, r.trainable_params, r.weights) == (212, 212, 848)


def test_decode_step_of_the_built_model_matches_the_formula():
    from estimator.graphs.decode_step import count_decode_step

    cfg = T.LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=160,
                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                        tie_word_embeddings=False, max_position_embeddings=64)
    with torch.device("meta"):
        model = T.LlamaForCausalLM(cfg)
    d = decoder(DATA / "llama-tiny.yaml")
    for context in (2, 10, 33):
        counted = count_decode_step(model, context).forward_flops
        assert counted == decode_flops(d, context) == 188_416 + 512 * context


def test_cli_plan_infer_memory(cli):
    rc, out, err = cli("plan", "--budget", "1e24")
    assert rc == 0 and "Chinchilla approach 1" in out and "88.3B" in out and "1.89T" in out
    rc, out, _ = cli("plan", "--system", "Llama 2 7B", "--json")
    assert rc == 0 and '"tokens_per_param": 296.8' in out
    rc, out, _ = cli("infer", ARCH / "llama-2-7b.yaml", "--prompt", "2048", "--generate", "512",
                     "--batch", "8", "--precision", "bf16")
    assert rc == 0 and "KV cache: 524,288 bytes per token" in out
    rc, out, _ = cli("memory", "--params", "70e9", "--zero", "3", "--dp", "64", "--hardware",
                     "H100")
    assert rc == 0 and "FITS (margin 62.5 GB)" in out
    rc, out, err = cli("memory", "--params", "70e9", "--hardware", "H100")
    assert rc == 0 and "DOES NOT FIT (margin -1.04 TB)" in out
    rc, out, err = cli("infer", ARCH / "llama-2-7b.yaml", "--precision", "fp7")
    assert rc == 2 and "precision 'fp7'" in err and "Traceback" not in err


def test_cli_train_step_and_measured_ratio(cli):
    rc, out, err = cli("model", "torch.nn:Linear", "-k", "in_features=4", "-k",
                       "out_features=2", "--input", "5x4", "--train-step")
    # one layer, input without gradient: backward = weight gradient only, 2*5*4*2 = 80
    assert rc == 0 and "measured backward/forward ratio: 1.000" in out
    rc, out, err = cli("train", DATA / "hand-transformer.yaml", "--tokens", "4e6", "--measure")
    assert rc == 0 and "backward/forward ratio 2 (measured" in out
    rc, out, err = cli("memory", DATA / "hand-transformer.yaml", "--measure", "--precision",
                       "fp32", "--optimizer", "adam")
    assert rc == 0 and "measured (fake tensors)" in out
