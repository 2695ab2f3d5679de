"""A training run's settings (``llama-data train``): torch-free, so that the CLI builds its options
from them without importing torch."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

from llama_data.config import setting
from llama_data.errors import LlamaDataError
from llama_data.mixture import parse_count

ATTENTION_SETTINGS = ("auto", "flex", "mask")


class SettingError(LlamaDataError):
    """A setting out of its range, named with the value given."""


@dataclasses.dataclass
class TrainConfig:
    release: str = setting(help_text="release folder", metavar="R")
    output: str | None = setting(None, "run folder", metavar="RUN",
                                 default_text="runs/<release>-<preset>")
    preset: str = setting("10M", "model size: 10M 60M 150M 400M 1.1B 7B 13B 33B 65B (tiny: tests)")
    tokens: int = setting(10_000_000, "training tokens, e.g. 2B", type=parse_count, required=True)
    seq_len: int | None = setting(None, "tokens per sequence",
                                  default_text="256 on CPU, the preset's 2,048 on CUDA")
    batch_tokens: int | None = setting(None, "tokens per optimiser step", type=parse_count,
                                       default_text="the preset's, at most 1/20 of the run")
    micro_batch: int | None = setting(
        None, "sequences per forward pass per process",
        default_text="8 on CPU; on CUDA the preset's for an 80 GB GPU, scaled by free memory")
    lr: float | None = setting(None, "peak learning rate", default_text="the preset's")
    min_lr_ratio: float = 0.1  # the cosine schedule ends at this share of the peak (the paper's)
    warmup_steps: int | None = setting(None, "warm-up steps",
                                       default_text="the paper's 2,000, or 1/10 of a shorter run")
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    log_every: int | None = setting(None, "steps between progress lines and metrics records "
                                         "(each a mean over its steps)",
                                    default_text="1/50 of the run")
    eval_every: int = setting(50, "steps between validations")
    eval_sequences: int = 32  # validation sequences per source
    checkpoint_every: int = setting(100, "steps between checkpoints")
    checkpoint_keep: int = setting(2, "newest checkpoints kept (at least 1)")
    async_checkpoint: bool = setting(
        False, "write checkpoints from a background thread while training goes on (the state is "
               "first copied to CPU memory: worth it on GPUs)")
    doc_mask: bool = setting(True, "let attention cross document boundaries inside a sequence",
                             flag="--no-doc-mask")
    attention: str = setting("auto", "document-masked attention: flex (FlexAttention; trains on "
                                     "CUDA only), mask (boolean mask + SDPA), auto: flex on CUDA, "
                                     "mask elsewhere", choices=ATTENTION_SETTINGS)
    activation_checkpointing: bool = setting(
        False, "recompute cheap activations, keep matmul outputs (saves memory)")
    compile: bool | None = setting(None, "torch.compile each transformer block",
                                   default_text="on with CUDA, off on CPU",
                                   action=argparse.BooleanOptionalAction)
    peak_tflops: float | None = setting(None, "dense bf16 peak TFLOP/s of one device, for MFU",
                                        default_text="the device's, from training/flops.py")
    val_fraction: float = setting(0.01, "share of each source's documents held out for "
                                        "validation")
    seed: int = setting(0, "data order and initialisation seed")

    def __post_init__(self):
        if self.attention not in ATTENTION_SETTINGS:
            raise SettingError(f"attention {self.attention!r}: one of "
                               f"{', '.join(ATTENTION_SETTINGS)}")
        if self.output is None:
            self.output = f"runs/{Path(self.release).name}-{self.preset}"


@dataclasses.dataclass(frozen=True)
class AblateConfig:
    """``llama-data ablate``: one training setting, run on each release with each seed."""

    releases: Sequence[str] = setting(help_text="release folders; the first is the baseline",
                                      flag="releases", nargs="+", metavar="R")
    tokens: int = setting(help_text="training tokens per run, e.g. 100M", type=parse_count)
    preset: str = setting("10M", "model size (as train --preset)")
    seeds: int = setting(3, "runs per release, seeds 0 .. N-1 (the spread is over them)")
    seq_len: int = setting(256, "tokens per sequence")
    batch_tokens: int | None = setting(None, "tokens per optimiser step", type=parse_count,
                                       default_text="the preset's, at most 1/20 of the run")
    micro_batch: int = setting(8, "sequences per forward pass")
    lr: float | None = setting(None, "peak learning rate", default_text="the preset's")
    val_fraction: float = setting(0.01, "share of each source's documents held out (as train's)")
    held_out_documents: int = setting(1000, "most held-out documents per source (those of lowest "
                                            "id hash: the same whatever the releases' order)")
    output: str | None = setting(None, "folder for the table, plot and JSON", metavar="DIR",
                                 default_text="R1/runs/ablate-<hash of the settings>")

    def train_config(self, release: str, seed: int, output: str) -> TrainConfig:
        return TrainConfig(release=release, output=output, preset=self.preset, tokens=self.tokens,
                           seq_len=self.seq_len, batch_tokens=self.batch_tokens,
                           micro_batch=self.micro_batch, lr=self.lr,
                           val_fraction=self.val_fraction, seed=seed)


@dataclasses.dataclass(frozen=True)
class GenerateConfig:
    """``llama-data generate``: a run's model continuing a prompt."""

    run: str = setting(help_text="run folder (its checkpoint.pt)", flag="run", metavar="RUN")
    prompt: str = setting(help_text="text to continue", metavar="TEXT")
    max_new_tokens: int = setting(64, "most tokens to generate (fewer at </s> or the model's "
                                      "context length)", metavar="N")
    temperature: float = setting(0.0, "softmax temperature; 0: greedy (the likeliest token)",
                                metavar="T")
    top_p: float = setting(0.9, "sample from the likeliest tokens whose probabilities sum to P",
                           metavar="P")
    seed: int = setting(0, "sampling seed")

    def __post_init__(self):
        if self.max_new_tokens < 1:
            raise SettingError(f"max new tokens {self.max_new_tokens}: at least 1")
        if self.temperature < 0:
            raise SettingError(f"temperature {self.temperature}: at least 0")
        if not 0 < self.top_p <= 1:
            raise SettingError(f"top p {self.top_p}: in (0, 1]")
