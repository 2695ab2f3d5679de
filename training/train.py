"""The training loop: the paper's optimiser and schedule on the release's mixture, one process or
several (``torchrun``: FSDP2 ``fully_shard`` on GPUs, the gloo backend on CPUs).

Parallelism, activation checkpointing and ``torch.compile`` are applied here, from outside the model
(torchtitan's lesson), so ``model.py`` reads like the paper.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor
from torch.utils.checkpoint import (
    CheckpointPolicy,
    checkpoint,
    create_selective_checkpoint_contexts,
)
from tqdm import tqdm

from llama_data import manifest as manifest_lib
from llama_data import mixture, progress
from llama_data.errors import LlamaDataError

from . import checkpoint as ckpt
from . import metrics
from .attention import attention_kind
from .config import TrainConfig
from .data import MixtureSequences
from .defaults import resolve_for
from .evaluate import bytes_per_token, evaluate
from .flops import flops_per_token, peak_flops
from .loader import Batch, batch_tensors, prefetched, to_device
from .model import PRESETS, Llama, ModelConfig, model_config

PAPER_WARMUP_STEPS = 2000


class TrainingError(LlamaDataError):
    """A run that cannot go on (a NaN loss, a batch that does not divide); the message says why."""


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Steps and batch sizes of a run, derived once from its config and the world size."""

    steps: int
    global_sequences: int  # per optimiser step, all processes together
    micro_steps: int  # gradient accumulation steps per optimiser step
    warmup: int
    lr: float


def schedule_for(config: TrainConfig, preset_lr: float, preset_batch_tokens: int,
                 world: int) -> Schedule:
    per_pass = config.micro_batch * world
    batch_tokens = config.batch_tokens or min(preset_batch_tokens, config.tokens // 20)
    global_sequences = max(per_pass, batch_tokens // config.seq_len // per_pass * per_pass)
    steps = config.tokens // (global_sequences * config.seq_len)
    if steps < 1:
        raise TrainingError(f"--tokens {config.tokens} is less than one batch of "
                            f"{global_sequences} x {config.seq_len} tokens")
    warmup = config.warmup_steps if config.warmup_steps is not None else \
        min(PAPER_WARMUP_STEPS, max(1, steps // 10))
    return Schedule(steps, global_sequences, global_sequences // per_pass, warmup,
                    config.lr or preset_lr)


def lr_factor(step: int, schedule: Schedule, min_ratio: float) -> float:
    """Linear warm-up, then cosine decay to ``min_ratio`` of the peak (the paper: 10%)."""
    if step < schedule.warmup:
        return (step + 1) / schedule.warmup
    progress = (step - schedule.warmup) / max(1, schedule.steps - schedule.warmup)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Decay the matrices of the blocks and the output layer; not the norms' gains nor the input
    embedding (a lookup table: decay would only shrink rare tokens' rows)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim < 2 or "tok_embeddings" in name else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def _save_matmuls(ctx, op, *args, **kwargs):
    """The paper's selective recomputation: keep what is expensive to recompute (matmuls and
    attention, FlexAttention's included), recompute the cheap element-wise rest in the backward
    pass."""
    expensive = {torch.ops.aten.mm.default, torch.ops.aten.addmm.default,
                 torch.ops.aten.bmm.default,
                 torch.ops.aten._scaled_dot_product_efficient_attention.default,
                 torch.ops.aten._scaled_dot_product_flash_attention.default,
                 torch.ops.aten._scaled_dot_product_cudnn_attention.default,
                 torch.ops.higher_order.flex_attention}
    return CheckpointPolicy.MUST_SAVE if op in expensive else CheckpointPolicy.PREFER_RECOMPUTE


def apply_activation_checkpointing(model: Llama) -> None:
    """Each block's forward recomputed by :func:`_save_matmuls`'s policy. A function of ours, not
    a ``functools.partial`` of ``checkpoint``: ``torch.compile`` skips a block whose forward is
    the latter (torch's own code) and silently runs it uncompiled."""
    context = functools.partial(create_selective_checkpoint_contexts, _save_matmuls)
    for block in model.layers:
        def checkpointed(*args, forward=block.forward):
            return checkpoint(forward, *args, use_reentrant=False, context_fn=context)

        block.forward = checkpointed


def cuda_device(local_rank: int, world: int, gpus: int) -> torch.device:
    """This process's GPU: one process per GPU, as torchrun numbers them on each machine."""
    if local_rank >= gpus:
        raise TrainingError(f"WORLD_SIZE {world} exceeds the {gpus} GPUs of this machine "
                            f"(LOCAL_RANK {local_rank} has none): start at most {gpus} processes "
                            "per machine (torchrun --nproc_per_node)")
    return torch.device("cuda", local_rank)


def _distributed() -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if torch.cuda.is_available():
        device = cuda_device(int(os.environ.get("LOCAL_RANK", "0")), world,
                             torch.cuda.device_count())
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":  # device_id: NCCL connects now, to this GPU only
            dist.init_process_group("nccl", device_id=device)
        else:
            dist.init_process_group("gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, world, device


def shard(model: Llama, device: torch.device) -> None:
    """FSDP2, each block a unit, then the rest. On GPUs the blocks compute in bf16 and gradients
    are reduced in fp32 (torchtitan's policy: a bf16 sum over many ranks loses the small
    gradients); over gloo everything stays fp32."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard  # tests replace it

    policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) \
        if device.type == "cuda" else MixedPrecisionPolicy()
    for block in model.layers:
        fully_shard(block, mp_policy=policy)
    fully_shard(model, mp_policy=policy)


def build_model(model_cfg: ModelConfig, config: TrainConfig, device: torch.device,
                world: int) -> Llama:
    """The model in torchtitan's order: built on the meta device (no memory), activation
    checkpointing and ``torch.compile`` per block, sharded, and only then allocated on ``device``
    and initialised, parameter by parameter: a 7B run never holds the whole fp32 model on a rank.
    The initial values depend on the seed alone, so 1 and N processes start alike."""
    with torch.device("meta"):
        model = Llama(model_cfg)
    if config.activation_checkpointing:
        apply_activation_checkpointing(model)
    if config.compile:
        for block in model.layers:
            block.compile()  # in place: parameter names stay those of the checkpoints
    if world > 1:
        shard(model, device)
    model.to_empty(device=device)
    model.init_weights(config.seed)
    return model


def _log(rank: int, text: str) -> None:
    if rank == 0:
        print(text, file=sys.stderr, flush=True)


def train(config: TrainConfig, resume: bool = False) -> dict[str, Any]:
    """Train on ``config.release``'s mixture; returns the final metrics record.

    The host waits for the GPU only at record steps (every ``log_every`` steps, and at validation
    and checkpoint steps): loss and gradient norm stay on the device in between, and each record
    carries their means over the steps since the previous one. A non-finite one stops the run
    there, before any checkpoint could save it."""
    rank, world, device = _distributed()
    preset = PRESETS.get(config.preset)
    if preset is None:
        raise TrainingError(f"unknown preset {config.preset!r} (one of: {', '.join(PRESETS)})")
    config = resolve_for(config, device.type,
                         torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else None)
    run = Path(config.output)
    if rank == 0:
        run.mkdir(parents=True, exist_ok=True)
    release = manifest_lib.load(config.release)
    if release.tokenizer is None:
        raise TrainingError(f"{config.release}: no tokenizer (run: llama-data tokenizer train)")
    tokenizer_model = Path(config.release) / release.tokenizer["path"]
    plan = mixture.load_plan(config.release)
    model_cfg = model_config(config.preset, release.tokenizer["vocab_size"], config.seq_len)
    attention = attention_kind(config.attention, device)
    if attention == "flex" and config.doc_mask and device.type != "cuda":
        raise TrainingError(f"--attention flex trains on CUDA only (FlexAttention has no {device} "
                            "backward); use --attention mask")
    schedule = schedule_for(config, preset.lr, preset.batch_tokens, world)
    sequences = MixtureSequences(config.release, config.seq_len,
                                 schedule.steps * schedule.global_sequences,
                                 seed=config.seed, val_fraction=config.val_fraction)

    torch.manual_seed(config.seed)
    model = build_model(model_cfg, config, device, world)
    # fused: one kernel per parameter instead of a dozen passes over it (5x faster on a CPU too)
    optimizer = torch.optim.AdamW(param_groups(model, config.weight_decay), lr=schedule.lr,
                                  betas=config.betas, fused=True)
    step = 0
    if resume:
        checkpoint = ckpt.latest(run)
        step = ckpt.restore(checkpoint, model, optimizer)
        _log(rank, f"train: resumed from {checkpoint.path} at step {step}")
    checkpointer = ckpt.Checkpointer(run, config.checkpoint_keep, config.async_checkpoint)
    token_bytes = bytes_per_token(tokenizer_model)
    record_config = {**dataclasses.asdict(config), "model": dataclasses.asdict(model_cfg),
                     "schedule": dataclasses.asdict(schedule), "world": world,
                     "plan_sources": {s.source: s.weight for s in plan.sources},
                     "tokenizer_sha256": release.tokenizer["sha256"],
                     "tokenizer_model": str(tokenizer_model.resolve())}
    log = metrics.MetricsLog(run, resumed_at=step if resume else None, enabled=rank == 0)
    if rank == 0:
        (run / "config.json").write_text(json.dumps(record_config, indent=2, default=str))
    n_params = model_cfg.num_params()
    _log(rank, f"train: {config.preset} ({n_params / 1e6:.1f}M parameters), {schedule.steps} steps of "
               f"{schedule.global_sequences} x {config.seq_len} tokens ({schedule.micro_steps} "
               f"micro-batch(es) of {config.micro_batch} per step on {world} process(es), {device}); "
               f"lr {schedule.lr:g}, warm-up {schedule.warmup} steps"
               + ("" if schedule.warmup == PAPER_WARMUP_STEPS else
                  f" (the paper's {PAPER_WARMUP_STEPS}, scaled down to this run's length)"))

    def validate() -> dict[str, dict[str, float]]:
        return evaluate(model, sequences, token_bytes, config.eval_sequences, config.micro_batch,
                        device, config.doc_mask, attention)

    def micro_batch(first: int) -> Batch:
        return batch_tensors([sequences[k] for k in range(first, first + config.micro_batch)],
                             pin=device.type == "cuda")

    if step == 0:
        log.write({"step": 0, "tokens": 0, "val": validate()})
    flops = flops_per_token(model_cfg, config.seq_len)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = peak_flops(device_name, config.peak_tflops)
    if peak is None and device.type == "cuda":
        _log(rank, f"train: no peak FLOP/s known for {device_name}: MFU not reported "
                   "(--peak-tflops gives one)")
    step_tokens = schedule.global_sequences * config.seq_len
    log_every = config.log_every or max(1, schedule.steps // 50)  # about 50 records a run
    started, first_step = time.monotonic(), step
    since, tick = step, started
    firsts = (later * schedule.global_sequences + (micro * world + rank) * config.micro_batch
              for later in range(first_step, schedule.steps)
              for micro in range(schedule.micro_steps))
    batches = prefetched(micro_batch, firsts)
    sums = torch.zeros(2, device=device)  # loss and gradient norm since the last record
    bar = progress.bar(schedule.steps, "train", "step", initial=step) if rank == 0 \
        else tqdm(disable=True)
    with contextlib.closing(batches), bar:
        for step in range(first_step, schedule.steps):
            for group in optimizer.param_groups:
                group["lr"] = schedule.lr * lr_factor(step, schedule, config.min_lr_ratio)
            for _ in range(schedule.micro_steps):
                batch = to_device(next(batches), device)
                with torch.autocast(device.type, dtype=torch.bfloat16,
                                    enabled=device.type == "cuda"):
                    loss = model(batch["inputs"], batch["positions"],
                                 batch["doc_ids"] if config.doc_mask else None, batch["targets"],
                                 attention=attention)
                (loss / schedule.micro_steps).backward()
                sums[0] += loss.detach() / schedule.micro_steps
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            sums[1] += grad_norm.full_tensor() if isinstance(grad_norm, DTensor) else grad_norm
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            done = step + 1
            bar.update()
            evaluating = done % config.eval_every == 0 or done == schedule.steps
            saving = done % config.checkpoint_every == 0 or done == schedule.steps
            if not (done % log_every == 0 or evaluating or saving):
                continue
            if world > 1:
                dist.all_reduce(sums, op=dist.ReduceOp.AVG)
            train_loss, grad_norm_mean = (sums / (done - since)).tolist()  # the one sync
            if not (math.isfinite(train_loss) and math.isfinite(grad_norm_mean)):
                good = checkpointer.wait()
                saved = f"the last good checkpoint is {good}" if good else \
                    "no checkpoint was saved yet"
                raise TrainingError(f"loss is {train_loss} (gradient norm {grad_norm_mean}) over "
                                    f"steps {since + 1}-{done}; stopped ({saved}). Try a lower "
                                    "--lr or a longer warm-up.")
            tokens_per_s = (done - since) * step_tokens / (time.monotonic() - tick)
            entry = {"step": done, "tokens": done * step_tokens, "loss": train_loss,
                     "lr": optimizer.param_groups[0]["lr"], "grad_norm": grad_norm_mean,
                     "tokens_per_s": tokens_per_s}
            if peak is not None:
                entry["mfu"] = tokens_per_s * flops / (peak * world)
            if evaluating:
                entry["val"] = validate()
            log.write(entry)
            eta = (time.monotonic() - started) / (done - first_step) * (schedule.steps - done)
            mfu = f" | MFU {entry['mfu']:.0%}" if "mfu" in entry else ""
            val = " | val bpb " + " ".join(f"{s} {v['bpb']:.3f}" for s, v in entry["val"].items()) \
                if "val" in entry else ""
            if rank == 0:
                bar.write(f"step {done}/{schedule.steps} | loss {train_loss:.4f} | lr "
                          f"{entry['lr']:.2e} | {tokens_per_s:,.0f} tok/s{mfu} | ETA {eta:.0f}s"
                          f"{val}", file=sys.stderr)
            if saving:
                checkpointer.save(model, optimizer, done, record_config)
            sums.zero_()
            since, tick = done, time.monotonic()
    checkpointer.wait()
    log.close()
    if world > 1:
        dist.barrier()  # every rank ends in step: gloo aborts at exit otherwise
    return log.last
