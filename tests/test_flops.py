"""MFU's two halves: a step's FLOPs per token, and the device's peak from its name."""

from __future__ import annotations

import pytest

from llama_data.training.flops import flops_per_token, peak_flops
from llama_data.training.model import Llama, ModelConfig


@pytest.mark.parametrize("name, tflops", [
    # torch.cuda.get_device_name() strings, against the datasheets' dense bf16 figures
    ("NVIDIA H200", 989),
    ("NVIDIA H200 NVL", 835),
    ("NVIDIA H100 80GB HBM3", 989),  # an SXM part
    ("NVIDIA H100 PCIe", 756),
    ("NVIDIA H100 NVL", 835),
    ("NVIDIA A100-SXM4-80GB", 312),
    ("NVIDIA A100 80GB PCIe", 312),
    ("NVIDIA A10", 125),
    ("NVIDIA L4", 121),
    ("NVIDIA L40S", 362),
    ("NVIDIA GeForce RTX 4090", 165),
    ("Tesla V100-PCIE-32GB", 112),  # fp16: Volta has no bf16
    ("AMD Instinct MI300X", 1307),
])
def test_the_peak_comes_from_the_device_name(name, tflops):
    assert peak_flops(name) == tflops * 1e12


@pytest.mark.parametrize("name", ["cpu", "NVIDIA A10G", "NVIDIA GB200", "Some Future GPU"])
def test_an_unknown_device_has_no_peak(name):
    assert peak_flops(name) is None


def test_the_override_wins():
    assert peak_flops("NVIDIA H200", override_tflops=500) == 500e12
    assert peak_flops("cpu", override_tflops=0.25) == 0.25e12


def test_flops_per_token_by_hand():
    config = ModelConfig(dim=64, n_layers=2, n_heads=4, vocab_size=100, multiple_of=32)
    # SwiGLU hidden: 2/3 * 4 * 64 = 170, rounded up to a multiple of 32 = 192.
    # A layer: wq wk wv wo 4 * 64 * 64 = 16,384; w1 w2 w3 3 * 64 * 192 = 36,864; 2 norms 128.
    # N = 2 * 53,376 + 64 (final norm) + 100 * 64 (output; the input embedding is not counted)
    #   = 113,216; attention: 12 * 2 layers * 4 heads * 16 head_dim * 32 tokens = 49,152.
    assert flops_per_token(config, seq_len=32) == 6 * 113_216 + 49_152
    model = Llama(config)
    assert sum(p.numel() for name, p in model.named_parameters()
               if not name.startswith("tok_embeddings")) == 113_216
