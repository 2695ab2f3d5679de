"""Model FLOPs utilisation: the FLOPs a training step needs, and what the device could do.

MFU is only comparable across runs if its denominator is the device actually in use, so the peak
comes from a table of datasheet figures looked up by ``torch.cuda.get_device_name()``, not from a
constant. This module imports no torch: the table is plain data.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import ModelConfig

# Dense (no 2:4 sparsity) bf16 tensor-core peak FLOP/s, from the vendors' datasheets, which print
# the sparse figure first: the dense one is half of it. Patterns are searched case-insensitively
# in the device name, first match wins, so the specific variants come before their family.
PEAK_FLOPS: tuple[tuple[str, float], ...] = (
    # NVIDIA B200 datasheet (HGX B200): 4.5 PFLOP/s sparse per GPU.
    (r"\bB200", 2250e12),  # not a GB200, whose GPUs are faster
    # NVIDIA H200 datasheet: NVL 1,671 sparse; SXM 1,979 sparse. A GH200 ("NVIDIA GH200 480GB")
    # matches "H200" and its Hopper GPU has the same 1,979 sparse (GH200 datasheet).
    (r"H200 NVL", 835e12),
    (r"H200", 989e12),
    # NVIDIA H100 datasheet: NVL 1,671, PCIe 1,513, SXM 1,979 sparse. An SXM part names itself
    # "NVIDIA H100 80GB HBM3", hence the bare "H100" last.
    (r"H100 NVL", 835e12),
    (r"H100 PCIe", 756e12),
    (r"H100", 989e12),
    # NVIDIA A100 datasheet: 312 dense for the SXM and PCIe parts alike.
    (r"A100", 312e12),
    # NVIDIA A10 datasheet: 125 dense. AWS's A10G has no NVIDIA datasheet: it is not listed (the
    # word boundary keeps "A10G" and "A100" off this row); give --peak-tflops for it.
    (r"\bA10\b", 125e12),
    # NVIDIA L40S datasheet: 733 sparse (362.05 dense); L40: 362.1 sparse; L4: 242 sparse.
    (r"L40S", 362e12),
    (r"\bL40\b", 181e12),
    (r"\bL4\b", 121e12),
    # NVIDIA Ada Lovelace architecture whitepaper, appendix: the RTX 4090's bf16 with fp32
    # accumulate, 165.2 dense (the GeForce parts run it at half the fp16-accumulate rate).
    (r"RTX 4090", 165e12),
    # NVIDIA V100 datasheet: Volta has no bf16; these are its fp16 tensor-core peaks (SXM2 125,
    # PCIe 112, V100S 130), so a bf16 run's MFU against them flatters it.
    (r"V100S", 130e12),
    (r"V100-PCIE", 112e12),
    (r"V100", 125e12),
    # AMD Instinct MI300X and MI325X datasheets: 1,307.4 dense bf16.
    (r"MI3(00|25)X", 1307e12),
)


def peak_flops(device_name: str, override_tflops: float | None = None) -> float | None:
    """Dense bf16 FLOP/s of one ``device_name`` device; ``override_tflops`` (TFLOP/s) wins. None
    when the name is not in the table: MFU is then not reported, rather than reported wrong."""
    if override_tflops is not None:
        return override_tflops * 1e12
    for pattern, flops in PEAK_FLOPS:
        if re.search(pattern, device_name, re.IGNORECASE):
            return flops
    return None


def flops_per_token(config: ModelConfig, seq_len: int) -> float:
    """PaLM/nanoGPT/torchtitan convention: 6N (N: parameters less the input embedding) plus
    12 x layers x heads x head_dim x seq for attention, counted as full (not halved for causality,
    nor reduced by a document mask)."""
    params = config.num_params() - config.vocab_size * config.dim
    return 6 * params + 12 * config.n_layers * config.n_heads * config.head_dim * seq_len
