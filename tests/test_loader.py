"""The prefetching loader: the same batches in the same order as building them in the loop, an
error raised when its batch is reached, a thread that stops when the loop does."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from llama_data.training.data import Sequence
from llama_data.training.loader import batch_tensors, prefetched


def sequence(k: int) -> Sequence:
    return Sequence(k, "s", np.arange(k, k + 5), np.array([0, 0, 1, 1, 1], np.int32),
                    np.array([0, 1, 0, 1, 2], np.int32))


def test_a_batch_is_inputs_and_targets_shifted_by_one_with_document_positions():
    batch = batch_tensors([sequence(0), sequence(10)])
    assert batch["inputs"].tolist() == [[0, 1, 2, 3], [10, 11, 12, 13]]
    assert batch["targets"].tolist() == [[1, 2, 3, 4], [11, 12, 13, 14]]
    assert batch["positions"].tolist() == [[0, 1, 0, 1]] * 2
    assert batch["positions"].dtype == torch.long and batch["doc_ids"].tolist() == [[0, 0, 1, 1]] * 2


def test_prefetched_batches_come_in_order_built_ahead_in_another_thread():
    threads = []

    def build(k: int) -> int:
        threads.append(threading.get_ident())
        return k * k

    assert list(prefetched(build, range(7), depth=3)) == [k * k for k in range(7)]
    assert set(threads) != {threading.get_ident()}


def test_an_error_is_raised_when_its_item_is_reached_after_the_ones_before():
    def build(k: int) -> int:
        if k == 3:
            raise KeyboardInterrupt  # as a run killed while reading: not only Exceptions
        return k

    batches = prefetched(build, range(10))
    assert [next(batches) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(KeyboardInterrupt):
        next(batches)


def test_closing_the_loader_early_stops_its_thread():
    built = []
    batches = prefetched(built.append, range(1000), depth=2)
    next(batches)
    batches.close()
    assert len(built) <= 4  # the one consumed, those in flight
    assert not any(t.name.startswith("prefetch") for t in threading.enumerate())
