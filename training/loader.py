"""Batches as the model takes them, built ahead of the step that needs them.

Gathering a batch's sequences from the memory-mapped shards is host work that a GPU would otherwise
wait for at every micro-step: a background thread does it while the GPU computes the previous
ones, into pinned memory, whence the copy to the GPU runs without blocking the host.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import torch

from .data import Sequence

Batch = dict[str, torch.Tensor]
Item = TypeVar("Item")


def batch_tensors(sequences: list[Sequence], pin: bool = False) -> Batch:
    """Inputs, targets, positions and document ids of a batch, on the CPU (``pin``: in pinned
    memory, for an asynchronous copy to a GPU)."""
    stack = lambda name: torch.from_numpy(np.stack([getattr(s, name) for s in sequences]))
    tokens, positions, docs = stack("tokens"), stack("position"), stack("doc")
    batch = {"inputs": tokens[:, :-1], "targets": tokens[:, 1:],
             "positions": positions[:, :-1].long(), "doc_ids": docs[:, :-1]}
    return {k: v.pin_memory() if pin else v for k, v in batch.items()}


def to_device(batch: Batch, device: torch.device) -> Batch:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def prefetched(build: Callable[[Item], Batch], items: Iterable[Item],
               depth: int = 2) -> Iterator[Batch]:
    """``build(item)`` for each item, in order, computed ``depth`` items ahead in a background
    thread. An error (or an interrupt) in ``build`` is raised here when its item is reached, so
    everything before it is used first. Close the iterator to stop the thread early."""
    items = iter(items)
    pool = ThreadPoolExecutor(1, thread_name_prefix="prefetch")
    try:
        pending = collections.deque(pool.submit(build, item)
                                    for item in itertools.islice(items, depth))
        while pending:
            batch = pending.popleft().result()
            pending.extend(pool.submit(build, item) for item in itertools.islice(items, 1))
            yield batch
    finally:
        pool.shutdown(cancel_futures=True)
