"""The LLaMA model: sizes against the paper's, attention against a plain softmax, document masks."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from llama_data.training.attention import causal_attention, document_mask
from llama_data.training.model import PRESETS, Llama, ModelConfig, model_config

cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="needs a CUDA GPU: the fused SDPA kernels and FlexAttention's "
                                 "backward run only there")

TINY = ModelConfig(dim=64, n_layers=2, n_heads=4, vocab_size=101, multiple_of=16)


def counted(config: ModelConfig) -> int:
    return sum(p.numel() for p in Llama(config).parameters())


@pytest.mark.parametrize("config", [
    TINY,
    ModelConfig(dim=96, n_layers=3, n_heads=6, vocab_size=500),
    ModelConfig(dim=128, n_layers=1, n_heads=2, vocab_size=32, multiple_of=1),
    PRESETS["10M"].config,
])
def test_parameter_formula_counts_every_parameter(config):
    assert config.num_params() == counted(config)
    assert config.num_params(include_embeddings=False) == \
        config.num_params() - 2 * config.vocab_size * config.dim


@pytest.mark.parametrize("name, hidden, params", [
    ("7B", 11008, 6_738_415_616),
    ("13B", 13824, 13_015_864_320),
    ("33B", 17920, 32_528_943_616),
    ("65B", 22016, 65_285_660_672),
])
def test_paper_presets_have_the_released_models_sizes(name, hidden, params):
    config = model_config(name, vocab_size=32_000)
    assert config.hidden_dim == hidden
    assert config.num_params() == params
    assert config.max_seq_len == 2048 and PRESETS[name].batch_tokens == 4 * 2**20


@pytest.mark.parametrize("name, size", [("10M", 10e6), ("60M", 60e6), ("150M", 150e6),
                                        ("400M", 400e6), ("1.1B", 1.1e9)])
def test_ablation_presets_are_about_the_size_they_are_named(name, size):
    preset = PRESETS[name]
    assert preset.config.num_params() == pytest.approx(size, rel=0.15)
    assert preset.batch_tokens % preset.config.max_seq_len == 0 and 0 < preset.lr < 1e-2


def test_hidden_dim_is_two_thirds_of_4d_rounded_up():
    assert ModelConfig(4096, 1, 32, 10, multiple_of=1).hidden_dim == 10922
    assert ModelConfig(4096, 1, 32, 10, multiple_of=256).hidden_dim == 11008
    assert ModelConfig(768, 1, 12, 10, multiple_of=256).hidden_dim == 2048  # exact: no rounding
    assert ModelConfig(2048, 1, 32, 10).hidden_dim == 5632  # TinyLlama's


def test_model_config_overrides_vocabulary_and_context_and_names_the_presets():
    config = model_config("60M", vocab_size=1234, max_seq_len=512)
    assert (config.vocab_size, config.max_seq_len, config.dim) == (1234, 512, 512)
    with pytest.raises(ValueError, match="presets: tiny, 10M, 60M"):
        model_config("3B", vocab_size=1000)
    with pytest.raises(ValueError, match="heads"):
        ModelConfig(dim=100, n_layers=1, n_heads=3, vocab_size=10)


def test_forward_shapes_and_initialisation():
    torch.manual_seed(0)
    model = Llama(TINY)
    logits = model(torch.randint(0, TINY.vocab_size, (3, 17)))
    assert logits.shape == (3, 17, TINY.vocab_size)
    assert model.layers[0].attention.wq.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert model.layers[0].feed_forward.w2.weight.std().item() == \
        pytest.approx(0.02 / math.sqrt(2 * TINY.n_layers), rel=0.1)
    assert torch.equal(model.norm.weight, torch.ones(TINY.dim))


def test_the_initialisation_depends_on_the_seed_and_the_parameter_name_only():
    eager = Llama(TINY, seed=3)
    with torch.device("meta"):
        late = Llama(TINY)  # as train.py builds it: allocated, maybe sharded, then initialised
    late.to_empty(device="cpu")
    late.init_weights(seed=3)
    for (name, a), b in zip(eager.named_parameters(), late.parameters()):
        assert torch.equal(a, b), name
    layers = eager.layers
    assert not torch.equal(layers[0].attention.wq.weight, layers[1].attention.wq.weight)
    assert not torch.equal(layers[0].attention.wq.weight, layers[0].attention.wk.weight)
    assert not torch.equal(Llama(TINY, seed=4).output.weight, eager.output.weight)


@pytest.mark.parametrize("name", ["7B", "13B", "33B", "65B"])
def test_the_paper_presets_use_llama_1s_released_norm_epsilon(name):
    assert PRESETS[name].config.norm_eps == 1e-6  # params.json: "norm_eps": 1e-06
    model = Llama(dataclasses.replace(TINY, norm_eps=PRESETS[name].config.norm_eps))
    assert {m.eps for m in model.modules() if hasattr(m, "eps")} == {1e-6}


def test_the_small_presets_keep_the_larger_norm_epsilon():
    assert {PRESETS[p].config.norm_eps for p in ("tiny", "10M", "60M", "150M", "400M", "1.1B")} \
        == {1e-5}


def manual_attention(q, k, v, allowed):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    return scores.masked_fill(~allowed, float("-inf")).softmax(-1) @ v


def test_causal_attention_is_a_masked_softmax():
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 10, 8) for _ in range(3))
    causal = torch.ones(10, 10, dtype=torch.bool).tril()
    torch.testing.assert_close(causal_attention(q, k, v), manual_attention(q, k, v, causal))
    doc_ids = torch.tensor([[0] * 4 + [1] * 6, [0] * 9 + [1]])
    same_doc = doc_ids[:, None, :, None] == doc_ids[:, None, None, :]
    torch.testing.assert_close(causal_attention(q, k, v, document_mask(doc_ids, "mask")),
                               manual_attention(q, k, v, causal & same_doc))


# One shape for every FlexAttention call on the CPU: compiled for static shapes, each new shape
# costs seconds of compilation.
FLEX_BATCH, FLEX_LENGTHS = 2, [40, 1, 59, 28]  # 128 tokens: one block of the block mask


def test_flex_attention_forward_on_the_cpu_equals_each_document_alone():
    torch.manual_seed(0)
    T = sum(FLEX_LENGTHS)
    q, k, v = (torch.randn(FLEX_BATCH, TINY.n_heads, T, TINY.head_dim) for _ in range(3))
    doc_ids = torch.cat([torch.full((n,), d) for d, n in enumerate(FLEX_LENGTHS)])
    doc_ids = doc_ids.expand(FLEX_BATCH, -1)
    alone = torch.cat([F.scaled_dot_product_attention(q[:, :, s:e], k[:, :, s:e], v[:, :, s:e],
                                                      is_causal=True)
                       for s, e in itertools.pairwise([0, *itertools.accumulate(FLEX_LENGTHS)])],
                      dim=2)
    flex = causal_attention(q, k, v, document_mask(doc_ids, "flex"))
    torch.testing.assert_close(flex, alone)
    torch.testing.assert_close(flex, causal_attention(q, k, v, document_mask(doc_ids, "mask")))


def test_the_model_is_causal():
    torch.manual_seed(0)
    model = Llama(TINY).eval()
    tokens = torch.randint(0, TINY.vocab_size, (1, 12))
    changed = tokens.clone()
    changed[0, 8:] = (changed[0, 8:] + 1) % TINY.vocab_size
    torch.testing.assert_close(model(tokens)[:, :8], model(changed)[:, :8], atol=1e-5, rtol=0)


def packed(lengths: list[int], batch: int = 2):
    """Random documents of ``lengths`` packed in each row, numbered as in data.Sequence."""
    tokens = torch.randint(0, TINY.vocab_size, (batch, sum(lengths)))
    doc_ids = torch.cat([torch.full((n,), d) for d, n in enumerate(lengths)]).expand(batch, -1)
    positions = torch.cat([torch.arange(n) for n in lengths]).expand(batch, -1)
    return tokens, positions, doc_ids


@pytest.mark.parametrize("attention", ["mask", "flex"])
def test_document_masking_isolates_the_documents_of_a_packed_sequence(attention):
    torch.manual_seed(0)
    model = Llama(TINY).eval()
    lengths = FLEX_LENGTHS
    tokens, positions, doc_ids = packed(lengths, FLEX_BATCH)
    with torch.no_grad():
        out = model(tokens, positions, doc_ids, attention=attention)
        changed = tokens.clone()
        changed[:, :lengths[0]] = (changed[:, :lengths[0]] + 7) % TINY.vocab_size
        torch.testing.assert_close(model(changed, positions, doc_ids, attention=attention)
                                   [:, lengths[0]:],
                                   out[:, lengths[0]:], atol=1e-5, rtol=0)
        start = 0
        for n in lengths:
            alone = model(tokens[:, start:start + n])
            torch.testing.assert_close(out[:, start:start + n], alone, atol=1e-5, rtol=0)
            start += n
        # without the mask, later documents do see the first one
        assert not torch.allclose(model(changed)[:, lengths[0]:], model(tokens)[:, lengths[0]:],
                                  atol=1e-5)


@cuda
def test_fused_attention_kernels_run_forward_and_backward_in_bf16():
    from torch.nn.attention import SDPBackend, sdpa_kernel

    torch.manual_seed(0)
    config = ModelConfig(dim=256, n_layers=2, n_heads=4, vocab_size=512)  # head_dim 64
    model = Llama(config).cuda().to(torch.bfloat16)
    tokens = torch.randint(0, config.vocab_size, (2, 256), device="cuda")
    # Only FlashAttention and cuDNN allowed: SDPA raises rather than fall back to the math kernel.
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION]):
        logits = model(tokens)
        F.cross_entropy(logits.flatten(0, 1).float(), tokens.flatten()).backward()
    assert logits.dtype == torch.bfloat16
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@cuda
def test_flex_attention_with_documents_matches_the_boolean_mask_path():
    torch.manual_seed(0)
    B, H, T, D = 2, 4, 384, 64
    q, k, v = (torch.randn(B, H, T, D, device="cuda", requires_grad=True) for _ in range(3))
    doc_ids = torch.sort(torch.randint(0, 5, (B, T), device="cuda"), dim=1).values
    out = causal_attention(q, k, v, document_mask(doc_ids, "flex"))
    out.square().sum().backward()
    cpu = [x.detach().cpu().requires_grad_() for x in (q, k, v)]
    reference = causal_attention(*cpu, document_mask(doc_ids.cpu(), "mask"))
    reference.square().sum().backward()
    # Loose enough for TF32 in the kernel's dot products
    torch.testing.assert_close(out.cpu(), reference, atol=5e-3, rtol=5e-3)
    for x, ref in zip((q, k, v), cpu):
        torch.testing.assert_close(x.grad.cpu(), ref.grad, atol=5e-3, rtol=5e-3)


def test_the_fused_loss_equals_cross_entropy_of_the_logits_with_the_same_gradients():
    torch.manual_seed(0)
    model = Llama(ModelConfig(dim=64, n_layers=2, n_heads=4, vocab_size=1000, max_seq_len=64))
    tokens, targets = torch.randint(0, 1000, (3, 50)), torch.randint(0, 1000, (3, 50))
    fused = model(tokens, targets=targets)  # 150 rows: two chunks, the second partial
    fused.backward()
    fused_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    plain = torch.nn.functional.cross_entropy(model(tokens).flatten(0, 1), targets.flatten())
    plain.backward()
    assert torch.allclose(fused, plain, atol=1e-6)
    for (name, p), g in zip(model.named_parameters(), fused_grads):
        assert torch.allclose(p.grad, g, atol=1e-6), name
