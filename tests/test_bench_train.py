"""The training bench's summary of its per-round ratios (bench/train.py; the bench itself needs
transformers and minutes, so it is not run here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_train", ROOT / "bench" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_median_quartiles_and_range_by_hand(bench):
    # sorted 0.8 1.0 1.2 1.3 2.0: the quartiles fall on the 2nd and 4th values
    assert bench.summary([1.3, 0.8, 2.0, 1.0, 1.2]) == pytest.approx(
        {"median": 1.2, "q1": 1.0, "q3": 1.3, "min": 0.8, "max": 2.0})
    # 1 2 3 4: quartiles at positions 0.75 and 2.25 of 0..3, interpolated
    assert bench.summary([4.0, 1.0, 3.0, 2.0]) == pytest.approx(
        {"median": 2.5, "q1": 1.75, "q3": 3.25, "min": 1.0, "max": 4.0})


def test_one_round_has_no_spread(bench):
    assert bench.summary([1.5]) == {"median": 1.5, "q1": 1.5, "q3": 1.5, "min": 1.5, "max": 1.5}
