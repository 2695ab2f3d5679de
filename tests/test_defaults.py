"""The training settings that depend on the device, resolved for a CPU and for a GPU (no GPU
needed: the device and its free memory are arguments)."""

from __future__ import annotations

import argparse

import pytest
import torch

from llama_data.config import add_dataclass_arguments, from_args
from llama_data.training.config import TrainConfig
from llama_data.training.defaults import MICRO_BATCH_80GB, micro_batch_for, resolve_for
from llama_data.training.model import PRESETS
from llama_data.training.train import TrainingError, cuda_device

GB = 10**9


def parse(*argv: str) -> TrainConfig:
    cli = argparse.ArgumentParser()
    add_dataclass_arguments(cli, TrainConfig)
    return from_args(TrainConfig, cli.parse_args(["--release", "r", "--tokens", "1M", *argv]))


def test_a_cpu_run_is_short_small_and_uncompiled():
    resolved = resolve_for(TrainConfig("r", preset="7B"), "cpu")
    assert (resolved.seq_len, resolved.micro_batch, resolved.compile) == (256, 8, False)


def test_a_cuda_run_takes_the_papers_context_and_the_tables_batch_on_an_80gb_gpu():
    resolved = resolve_for(TrainConfig("r", preset="150M"), "cuda", free_bytes=80 * GB)
    assert (resolved.seq_len, resolved.micro_batch, resolved.compile) == (2048, 24, True)
    recomputing = resolve_for(TrainConfig("r", preset="150M", activation_checkpointing=True),
                              "cuda", free_bytes=80 * GB)
    assert recomputing.micro_batch == 32  # recomputation frees activations: more sequences


def test_the_micro_batch_scales_with_free_memory_and_context_and_is_never_zero():
    assert micro_batch_for("150M", 2048, False, 40 * GB) == 12  # half the memory
    assert micro_batch_for("150M", 4096, False, 80 * GB) == 12  # twice the tokens a sequence
    assert micro_batch_for("150M", 2048, False, 141 * GB) == 42  # an H200: 24 x 1.76
    assert micro_batch_for("65B", 2048, False, 1 * GB) == 1


def test_the_table_shrinks_as_models_grow_and_checkpointing_never_costs_sequences():
    assert list(MICRO_BATCH_80GB) == list(PRESETS)
    off = [MICRO_BATCH_80GB[p][False] for p in PRESETS]
    assert off == sorted(off, reverse=True)
    assert all(on >= off for off, on in MICRO_BATCH_80GB.values())


def test_settings_given_are_kept_whatever_the_device():
    given = TrainConfig("r", preset="7B", seq_len=512, micro_batch=3, compile=False)
    for device, free in (("cpu", None), ("cuda", 80 * GB)):
        resolved = resolve_for(given, device, free)
        assert (resolved.seq_len, resolved.micro_batch, resolved.compile) == (512, 3, False)


def test_compile_is_a_three_way_option():
    assert parse().compile is None  # the device decides
    assert parse("--compile").compile is True
    assert parse("--no-compile").compile is False


def test_more_processes_than_gpus_is_an_error_naming_both():
    assert cuda_device(1, world=2, gpus=2) == torch.device("cuda", 1)
    with pytest.raises(TrainingError, match="WORLD_SIZE 4 exceeds the 2 GPUs"):
        cuda_device(2, world=4, gpus=2)
