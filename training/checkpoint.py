"""Checkpoints: model, optimiser, schedule position, sampler position and RNG, written atomically.

A checkpoint is one file written to a temporary name and renamed over the previous one, so a run
killed while saving leaves the last complete checkpoint in place. Under FSDP the full (unsharded)
state is gathered on rank 0, which writes it; every rank reads it back on resume.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)

from llama_data.errors import LlamaDataError
from llama_data.io import atomic_path

FILE = "checkpoint.pt"
FORMAT = "llama-data-checkpoint"


class CheckpointError(LlamaDataError):
    """A checkpoint that is missing, truncated or from something else."""


def _rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def save(run: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, step: int,
         config: dict[str, Any]) -> Path:
    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    state = {
        "format": FORMAT,
        "step": step,
        "config": config,
        "model": get_model_state_dict(model, options=options),
        "optimizer": get_optimizer_state_dict(model, optimizer, options=options),
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
                "python": random.getstate()},
    }
    path = run / FILE
    if _rank() == 0:
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
    if dist.is_initialized():
        dist.barrier()
    return path


def load(run: Path) -> dict[str, Any]:
    path = run / FILE
    if not path.exists():
        raise CheckpointError(f"{path}: no checkpoint to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises several kinds on a truncated or foreign file
        raise CheckpointError(f"{path}: corrupt checkpoint ({type(e).__name__}: {e})") from e
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a llama-data checkpoint")
    return state


def restore(state: dict[str, Any], model: torch.nn.Module,
            optimizer: torch.optim.Optimizer) -> int:
    """Put the saved state into ``model`` and ``optimizer``; returns the step to continue from."""
    options = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, state["model"], options=options)
    set_optimizer_state_dict(model, optimizer, state["optimizer"], options=options)
    torch.set_rng_state(state["rng"]["torch"])
    np.random.set_state(state["rng"]["numpy"])
    random.setstate(state["rng"]["python"])
    return int(state["step"])


def load_model(run: Path) -> tuple[torch.nn.Module, Any, Path]:
    """The run's trained model (on the CPU, float32), its ModelConfig and its tokenizer file."""
    from .model import Llama, ModelConfig

    state = load(Path(run))
    config = ModelConfig(**state["config"]["model"])
    model = Llama(config)
    model.load_state_dict(state["model"])
    return model.eval(), config, Path(state["config"]["tokenizer_model"])
