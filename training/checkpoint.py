"""Sharded checkpoints with ``torch.distributed.checkpoint`` (DCP): every process writes its own
shards, so no process ever holds the whole model and optimiser (4.5-15 GB at 400M-1.1B gathered on
one rank, impossible at 65B).

Layout: ``RUN/checkpoints/step-000100/`` holds the DCP files, ``meta.json`` (format, step, world
size, the run's config) and ``rng-<rank>.pt`` per process; ``RUN/checkpoints/latest`` names the
newest complete one and is written (atomically) last, so a run killed mid-save resumes from the
previous checkpoint. The sampler needs no state: sequence k is always the same tokens.

Resuming on the same world size continues bit for bit (shards, optimiser moments, step and every
rank's RNG come back). On another world size DCP reshards the model and optimiser exactly; the data
order is the same global batches, but the ranks reduce in another order, so the losses agree only to
float32 rounding. A rank that did not exist at save time gets an RNG seeded from (seed, step, rank).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import random
import re
import shutil
import warnings
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

from llama_data.errors import LlamaDataError
from llama_data.io import atomic_path

FOLDER = "checkpoints"
LATEST = "latest"
META = "meta.json"
FORMAT = "llama-data-dcp-checkpoint/1"
_STEP_NAME = re.compile(r"step-(\d+)")


class CheckpointError(LlamaDataError):
    """A checkpoint that is missing, truncated or from something else."""


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint as ``latest`` names it."""

    path: Path
    step: int
    world: int
    config: dict[str, Any]


def _rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def _barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def exists(run: Path) -> bool:
    return (Path(run) / FOLDER / LATEST).exists()


def latest(run: Path) -> Checkpoint:
    """The newest complete checkpoint of ``run``."""
    pointer = Path(run) / FOLDER / LATEST
    if not pointer.exists():
        raise CheckpointError(f"{pointer}: no checkpoint to resume from")
    name = pointer.read_text().strip()
    if not _STEP_NAME.fullmatch(name):
        raise CheckpointError(f"{pointer}: not a llama-data checkpoint pointer ({name[:40]!r})")
    meta_path = pointer.parent / name / META
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{meta_path}: corrupt checkpoint ({type(e).__name__}: {e})") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{meta_path}: not a llama-data checkpoint")
    return Checkpoint(meta_path.parent, int(meta["step"]), int(meta["world"]), meta["config"])


@contextlib.contextmanager
def _one_process_is_meant() -> Iterator[None]:
    """DCP warns on every save and load without a process group; one process is what we mean."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"torch\.distributed is .*single process", UserWarning)
        yield


def _load(state: dict[str, Any], checkpoint: Checkpoint, **options: Any) -> None:
    try:
        with _one_process_is_meant():
            dcp.load(state, checkpoint_id=checkpoint.path, **options)
    except (Exception, dcp.CheckpointException) as e:  # the latter wraps every rank's error
        cause = min(e.failures.items())[1][0] if isinstance(e, dcp.CheckpointException) else e
        why = ": ".join([type(cause).__name__, *str(cause).splitlines()[:1]])
        raise CheckpointError(f"{checkpoint.path}: corrupt checkpoint ({why})") from e


def _rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
            "python": random.getstate()}


def _restore_rng(checkpoint: Checkpoint) -> None:
    path = checkpoint.path / f"rng-{_rank()}.pt"
    if path.exists():
        state = torch.load(path, weights_only=False)
        torch.set_rng_state(state["torch"])
        np.random.set_state(state["numpy"])
        random.setstate(state["python"])
        return
    key = f"{checkpoint.config.get('seed', 0)}/{checkpoint.step}/{_rank()}".encode()
    seed = int.from_bytes(hashlib.sha256(key).digest()[:4], "little")
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def restore(checkpoint: Checkpoint, model: torch.nn.Module,
            optimizer: torch.optim.Optimizer) -> int:
    """Put the checkpoint into ``model`` and ``optimizer`` (sharded or not, on any world size);
    returns the step to continue from."""
    model_state, optimizer_state = get_state_dict(model, optimizer)
    state = {"model": model_state, "optimizer": optimizer_state}
    _load(state, checkpoint)
    set_state_dict(model, optimizer, model_state_dict=state["model"],
                   optim_state_dict=state["optimizer"])
    _restore_rng(checkpoint)
    return checkpoint.step


def load_model(run: Path) -> tuple[torch.nn.Module, Any, Path]:
    """The run's trained model (on the CPU, float32, whole: read in one process from however many
    shards), its ModelConfig and its tokenizer file."""
    from .model import Llama, ModelConfig

    checkpoint = latest(Path(run))
    config = ModelConfig(**checkpoint.config["model"])
    model = Llama(config)
    state = {"model": model.state_dict()}
    _load(state, checkpoint, no_dist=True)
    model.load_state_dict(state["model"])
    return model.eval(), config, Path(checkpoint.config["tokenizer_model"])


class Checkpointer:
    """Saves a run's checkpoints and keeps the newest ``keep``. With ``background``, DCP copies
    the state to CPU memory and writes it from a thread (its own gloo group, so its collectives
    never interleave with training's) while training goes on; that thread also commits it, so a
    run that dies after the write still resumes from it. A save waits for the previous one."""

    def __init__(self, run: Path, keep: int = 2, background: bool = False):
        self.folder = Path(run) / FOLDER
        self.keep = max(1, keep)
        self.background = background
        self.group = dist.new_group(backend="gloo") if background and dist.is_initialized() \
            else None
        self.pending: Future | None = None

    def save(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, step: int,
             config: dict[str, Any]) -> None:
        self.wait()
        path = self.folder / f"step-{step:06d}"
        if _rank() == 0:
            shutil.rmtree(path, ignore_errors=True)  # the remains of a save that was killed
            path.mkdir(parents=True)
            meta = {"format": FORMAT, "step": step, "world": dist.get_world_size()
                    if dist.is_initialized() else 1, "config": config}
            (path / META).write_text(json.dumps(meta, indent=2, default=str))
        _barrier()
        torch.save(_rng_state(), path / f"rng-{_rank()}.pt")
        model_state, optimizer_state = get_state_dict(model, optimizer)
        state = {"model": model_state, "optimizer": optimizer_state}
        if self.background:
            written = dcp.async_save(state, checkpoint_id=path, process_group=self.group)
            self.pending = Future()
            written.add_done_callback(functools.partial(self._commit_written, path=path,
                                                        committed=self.pending))
        else:
            with _one_process_is_meant():
                dcp.save(state, checkpoint_id=path)
            self._commit(path)

    def wait(self) -> Path | None:
        """Finish a background save; returns the newest complete checkpoint (None: none yet)."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()  # a failed write's or commit's error
        latest_path = self.folder / LATEST
        return self.folder / latest_path.read_text().strip() if latest_path.exists() else None

    def _commit_written(self, written: Future, path: Path, committed: Future) -> None:
        try:
            written.result()
            self._commit(path)
            committed.set_result(path)
        except (Exception, dcp.CheckpointException) as e:  # noqa: BLE001 (wait() raises it)
            committed.set_exception(e)

    def _commit(self, path: Path) -> None:
        """Point ``latest`` at ``path`` (every rank's shards are written: DCP's save ends with a
        collective), then drop the older checkpoints and any half-written one."""
        if _rank() != 0:
            return
        with atomic_path(self.folder / LATEST) as tmp:
            tmp.write_text(path.name + "\n")
        steps = {p: int(m[1]) for p in self.folder.iterdir() if (m := _STEP_NAME.fullmatch(p.name))}
        kept = sorted((p for p in steps if steps[p] <= steps[path]), key=steps.get)[-self.keep:]
        for old in steps:
            if old not in kept:
                shutil.rmtree(old)
