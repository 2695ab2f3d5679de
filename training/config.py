"""A training run's settings (``llama-data train``): torch-free, so that the CLI builds its options
from them without importing torch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from llama_data.config import setting
from llama_data.mixture import parse_count


@dataclasses.dataclass
class TrainConfig:
    release: str = setting(help_text="release folder", metavar="R")
    output: str | None = setting(None, "run folder", metavar="RUN",
                                 default_text="runs/<release>-<preset>")
    preset: str = setting("10M", "model size: 10M 60M 150M 400M 1.1B 7B 13B 33B 65B (tiny: tests)")
    tokens: int = setting(10_000_000, "training tokens, e.g. 2B", type=parse_count, required=True)
    seq_len: int = setting(256, "tokens per sequence")
    batch_tokens: int | None = setting(None, "tokens per optimiser step", type=parse_count,
                                       default_text="the preset's, at most 1/20 of the run")
    micro_batch: int = setting(8, "sequences per forward pass per process")
    lr: float | None = setting(None, "peak learning rate", default_text="the preset's")
    min_lr_ratio: float = 0.1  # the cosine schedule ends at this share of the peak (the paper's)
    warmup_steps: int | None = setting(None, "warm-up steps",
                                       default_text="the paper's 2,000, or 1/10 of a shorter run")
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    eval_every: int = setting(50, "steps between validations")
    eval_sequences: int = 32  # validation sequences per source
    checkpoint_every: int = setting(100, "steps between checkpoints")
    doc_mask: bool = setting(True, "let attention cross document boundaries inside a sequence",
                             flag="--no-doc-mask")
    activation_checkpointing: bool = setting(
        False, "recompute cheap activations, keep matmul outputs (saves memory)")
    compile: bool = setting(False, "torch.compile the model")
    val_fraction: float = setting(0.01, "share of each source's documents held out for "
                                        "validation")
    seed: int = setting(0, "data order and initialisation seed")

    def __post_init__(self):
        if self.output is None:
            self.output = f"runs/{Path(self.release).name}-{self.preset}"
