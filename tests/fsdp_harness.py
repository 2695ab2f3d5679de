"""Runs ``llama-data train`` and records the gradients the optimiser is given at every step, as
whole tensors (gathered from their shards under FSDP), so that tests/test_train.py can compare a
sharded run with a one-process run on the same global batches.

Run under ``torchrun``: ``fsdp_harness.py OUT [--fault sum] [--stop-after STEP] TRAIN-ARGS...``;
rank 0 saves the gradients to OUT. ``--fault sum`` has FSDP sum the ranks' gradients instead of
averaging them (its gradient divide factor set to 1): the sharding bug the comparison must catch.
``--stop-after STEP`` ends the run (exit 0) just before the update of step STEP + 1, as if it had
been killed there: the checkpoint of step STEP is its last.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch.distributed import fsdp
from torch.distributed.tensor import DTensor
from torch.optim.optimizer import register_optimizer_step_pre_hook


def _whole(grad: torch.Tensor) -> torch.Tensor:
    return grad.full_tensor() if isinstance(grad, DTensor) else grad.detach().clone()


@contextlib.contextmanager
def recording() -> Iterator[list[list[torch.Tensor]]]:
    """Yields a list that gets, before every optimiser step, the gradients of its parameters (after
    clipping: what the optimiser is given), in the order of its parameter groups."""
    steps: list[list[torch.Tensor]] = []

    def before_step(optimizer, args, kwargs):
        steps.append([_whole(p.grad) for group in optimizer.param_groups
                      for p in group["params"]])

    handle = register_optimizer_step_pre_hook(before_step)
    try:
        yield steps
    finally:
        handle.remove()


_fully_shard = fsdp.fully_shard


def _summing_fully_shard(module: torch.nn.Module, **kwargs) -> torch.nn.Module:
    sharded = _fully_shard(module, **kwargs)
    sharded.set_force_sum_reduction_for_comms(True)  # gloo has no pre-multiplied sum
    sharded.set_gradient_divide_factor(1.0)  # nothing divides the sum by the world size
    return sharded


class Stopped(Exception):
    """Where ``--stop-after`` ends the run."""


def main() -> None:
    from llama_data.cli import main as cli

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--fault", choices=["sum"])
    parser.add_argument("--stop-after", type=int, metavar="STEP")
    args, train_args = parser.parse_known_args()
    if args.fault == "sum":
        fsdp.fully_shard = _summing_fully_shard  # train.py imports it when it shards the model
    with recording() as steps:

        def stop(optimizer, _args, _kwargs):
            if args.stop_after is not None and len(steps) > args.stop_after:
                steps.pop()  # never applied
                raise Stopped  # every rank here alike: after the same collectives

        handle = register_optimizer_step_pre_hook(stop)  # runs after recording()'s hook
        try:
            code = cli(["train", *train_args])
        except Stopped:
            code = 0
            dist.barrier()
        finally:
            handle.remove()
    if dist.get_rank() == 0:
        torch.save(steps, args.out)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
