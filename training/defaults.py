"""The settings whose defaults depend on the device: a CPU run validates a release in minutes, a
CUDA run trains as the paper did (2,048-token sequences, compiled, as many sequences per pass as
the GPU holds)."""

from __future__ import annotations

import dataclasses

from .config import TrainConfig
from .model import PRESETS

CPU_SEQ_LEN, CPU_MICRO_BATCH = 256, 8
REFERENCE_GPU_BYTES = 80 * 10**9  # the H100/A100 80 GB the table below is for
REFERENCE_SEQ_LEN = 2048

# Sequences of 2,048 tokens per forward pass on an 80 GB GPU, bf16: (without, with activation
# checkpointing). Estimated, not measured: activations of ~63·d bytes a token a layer without
# recomputation and ~26·d + 4·hidden with it, plus 10·V for the logits and the loss, in 70% of
# what is left beside the model states (16 bytes a parameter: fp32 weights, gradients and AdamW's
# two moments), these sharded over enough GPUs to take at most ~15 GB. 33B and 65B fit one
# sequence only beside checkpointing. An out-of-memory error says: lower --micro-batch.
MICRO_BATCH_80GB: dict[str, tuple[int, int]] = {
    "tiny": (64, 64), "10M": (64, 64), "60M": (32, 48), "150M": (24, 32), "400M": (12, 16),
    "1.1B": (6, 8), "7B": (2, 4), "13B": (1, 2), "33B": (1, 1), "65B": (1, 1),
}


def micro_batch_for(preset: str, seq_len: int, activation_checkpointing: bool,
                    free_bytes: int) -> int:
    """The table's micro-batch scaled by the GPU's free memory and by the sequence length
    (activations grow with the tokens of a pass); at least one sequence."""
    sequences = MICRO_BATCH_80GB[preset][activation_checkpointing]
    scale = free_bytes / REFERENCE_GPU_BYTES * REFERENCE_SEQ_LEN / seq_len
    return max(1, int(sequences * scale))


def resolve_for(config: TrainConfig, device: str, free_bytes: int | None = None) -> TrainConfig:
    """``config`` with its device-dependent defaults (those left ``None``) filled in for
    ``device`` ("cpu" or "cuda"); ``free_bytes``: the GPU's free memory, for the micro-batch."""
    cuda = device == "cuda"
    seq_len = config.seq_len or (PRESETS[config.preset].config.max_seq_len if cuda else CPU_SEQ_LEN)
    micro_batch = config.micro_batch
    if micro_batch is None:
        micro_batch = micro_batch_for(config.preset, seq_len, config.activation_checkpointing,
                                      free_bytes) if cuda else CPU_MICRO_BATCH
    compile_blocks = cuda if config.compile is None else config.compile
    return dataclasses.replace(config, seq_len=seq_len, micro_batch=micro_batch,
                               compile=compile_blocks)
