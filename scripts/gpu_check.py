"""The Python steps of scripts/gpu_check.sh, one subcommand each: what a lent GPU must show about
the trainer in one call (a synthetic release, run summaries, exact resume, FSDP2 on one rank, the
throughput rows). A GPU machine here has no Beam and no ../shared, so nothing below needs them.

    python scripts/gpu_check.py environment | release W | summary RUN | resume W | fsdp W |
                                bench SECONDS

Each subcommand prints its verdict on its last line and exits non-zero on a failed check.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import random
import runpy
import shutil
import subprocess
import sys
import time
from pathlib import Path

DEVICE = os.environ.get("DEV", "cuda")
SOURCES = {"wikipedia": 0.5, "c4": 0.5}
# 8 steps of 8 x 256 tokens on the tiny preset, a checkpoint at step 4: seconds on any device
RESUME_RUN = ["--preset", "tiny", "--tokens", "16384", "--seq-len", "256", "--micro-batch", "4",
              "--batch-tokens", "2048", "--eval-every", "4", "--checkpoint-every", "4",
              "--val-fraction", "0.05"]


class CheckFailed(Exception):
    """A check whose result contradicts what the trainer promises; the message says what."""


def environment() -> str:
    """Versions and device, and that the trainer is the wheel installed in SITE, not the checkout
    (whose llama_data/ has no training/)."""
    import torch

    from llama_data.training import train

    if not train.__file__.startswith(os.environ["SITE"]):
        raise CheckFailed(f"llama_data.training imported from {train.__file__}, not SITE")
    if DEVICE == "cuda" and not torch.cuda.is_available():
        raise CheckFailed("DEV=cuda but torch sees no GPU")
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    present = [name for name in ("apache_beam", "fasttext", "kenlm") if importable(name)]
    return (f"Python {sys.version.split()[0]}, torch {torch.__version__} (CUDA "
            f"{torch.version.cuda}), {gpu}; llama_data from {Path(train.__file__).parents[1]}; "
            f"importable of Beam, fastText, KenLM: {', '.join(present) or 'none'}")


def importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def synthetic_release(release: Path) -> None:
    """Two sources of 600 documents of random words, a 2,000-piece tokenizer, token shards and a
    mixture plan: the release format end to end, built without Beam or the shared corpus."""
    from llama_data import manifest, mixture
    from llama_data.document import Document
    from llama_data.shards import write_shards
    from llama_data.tokenizer import encode, train

    rng = random.Random(0)
    words = ["".join(rng.choices("etaoinshrdlucmfwypvbgk", k=rng.randint(2, 9)))
             for _ in range(800)]
    for source in SOURCES:
        docs = [Document(id=f"{source}/{i:05d}", source=source,
                         text=" ".join(rng.choices(words, k=rng.randint(20, 600))))
                for i in range(600)]
        shards = write_shards(docs, str(release / source), "part-00000")
        funnel = manifest.Funnel(read=len(docs), kept=len(docs))
        manifest.update_source(str(release), source, manifest.SourceEntry(shards, funnel, {}, {}))
    train.train(str(release), SOURCES, vocab_size=2000, sample_bytes=2_000_000)
    encode.encode_release(str(release), workers=1)
    tokens = sum(e.tokens["tokens"] for e in manifest.load(str(release)).sources.values())
    mixture.plan_for(tokens, SOURCES, str(release), {})
    print(f"release {release}: {len(SOURCES)} sources, {tokens:,} tokens")


def run_summary(run: Path) -> str:
    """One line on a finished run: it must have learnt (last loss below the first, all finite)."""
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    trained = [r for r in records if "loss" in r]
    losses = [r["loss"] for r in trained]
    if not trained or not all(map(math.isfinite, losses)) or losses[-1] >= losses[0]:
        raise CheckFailed(f"{run}: losses {losses} do not go down")
    last = trained[-1]
    mfu = f", MFU {last['mfu']:.1%}" if "mfu" in last else ""
    bpb = " ".join(f"{s} {v['bpb']:.2f}" for s, v in last.get("val", {}).items())
    return (f"{last['step']} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}, val bpb {bpb}, "
            f"{last['tokens_per_s']:,.0f} tok/s{mfu}")


def train_cli(release: Path, run: Path, *options: str) -> None:
    subprocess.run([sys.executable, "-m", "llama_data.cli", "train", "--release", str(release),
                    "--output", str(run), *RESUME_RUN, *options], check=True)


def losses_and_weights(run: Path) -> tuple[list[float], dict]:
    from llama_data.training import checkpoint as ckpt

    losses = [r["loss"] for r in map(json.loads, (run / "metrics.jsonl").open()) if "loss" in r]
    return losses, ckpt.load_model(run)[0].state_dict()


def exact_resume(work: Path) -> None:
    """A run resumed from its step-4 checkpoint must give the uninterrupted run's losses and final
    weights bit for bit. The resumed run starts from a copy of the whole run with its later
    checkpoint removed and ``latest`` pointing at step 4, as a run killed after step 4 leaves it
    (its metrics past step 4 are dropped on resume). Where they differ, a second uninterrupted run
    tells a resume bug from kernels that are not deterministic on this device."""
    import torch

    from llama_data.training import checkpoint as ckpt

    release, whole, resumed = work / "rel", work / "resume-whole", work / "resume-from-4"
    for run in (whole, resumed):
        shutil.rmtree(run, ignore_errors=True)
    train_cli(release, whole)
    shutil.copytree(whole, resumed)
    folder = resumed / ckpt.FOLDER
    shutil.rmtree(folder / "step-000008")
    (folder / ckpt.LATEST).write_text("step-000004\n")
    train_cli(release, resumed, "--resume")
    (want, want_weights), (got, got_weights) = map(losses_and_weights, (whole, resumed))
    differing = [n for n in want_weights if not torch.equal(want_weights[n], got_weights[n])]
    if got == want and not differing:
        print(f"resume from step 4 reproduces steps 1-8 bit for bit: losses {got}")
        return
    again = work / "resume-whole-again"
    shutil.rmtree(again, ignore_errors=True)
    train_cli(release, again)
    repeatable = losses_and_weights(again)[0] == want
    raise CheckFailed(f"resumed losses {got} != uninterrupted {want} (largest difference "
                      f"{max(abs(a - b) for a, b in zip(got, want, strict=True)):.3g}); "
                      f"{len(differing)} tensors differ; a second uninterrupted run "
                      + ("repeats the first: a resume bug" if repeatable else
                         "differs too: this device's kernels are not deterministic"))


def fsdp_one_rank(work: Path) -> None:
    """The trainer's multi-process path on one process: ``shard`` (FSDP2 ``fully_shard`` with the
    trainer's mixed precision), fused AdamW on DTensors, gradient clipping, a sharded checkpoint.
    Checks: the first loss agrees with the unsharded model's (same seed, same batch) to bf16
    rounding; the loss falls on a repeated batch; the checkpoint read back whole equals the
    gathered shards exactly; a model restored from it takes the same next step as the original."""
    import torch
    import torch.distributed as dist
    from torch.distributed.tensor import DTensor

    from llama_data import manifest
    from llama_data.training import checkpoint as ckpt
    from llama_data.training.config import TrainConfig
    from llama_data.training.data import MixtureSequences
    from llama_data.training.loader import batch_tensors, to_device
    from llama_data.training.model import Llama, model_config
    from llama_data.training.train import build_model, param_groups, shard

    device = torch.device(DEVICE, int(os.environ.get("LOCAL_RANK", "0"))) if DEVICE == "cuda" \
        else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    else:
        dist.init_process_group("gloo")
    release, run = work / "rel", work / "fsdp-run"
    shutil.rmtree(run, ignore_errors=True)
    vocab = manifest.load(str(release)).tokenizer["vocab_size"]
    shape = model_config("60M" if device.type == "cuda" else "tiny", vocab, 256)
    settings = TrainConfig(str(release), str(run), compile=False)
    batch = to_device(batch_tensors([MixtureSequences(str(release), 256, 8, val_fraction=0.05)[k]
                                     for k in range(8)]), device)

    def sharded() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
        with torch.device("meta"):  # build_model's order, with the sharding a 1-rank run skips
            model = Llama(shape)
        shard(model, device)
        model.to_empty(device=device)
        model.init_weights(settings.seed)
        return model, torch.optim.AdamW(param_groups(model, 0.1), lr=1e-3, fused=True)

    def step(model, optimizer) -> float:
        with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
            loss = model(batch["inputs"], batch["positions"], batch["doc_ids"], batch["targets"],
                         attention="flex" if device.type == "cuda" else "mask")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    reference = build_model(shape, settings, device, world=1)
    first = step(reference, torch.optim.AdamW(param_groups(reference, 0.1), lr=1e-3, fused=True))
    model, optimizer = sharded()
    if not all(isinstance(p, DTensor) for p in model.parameters()):
        raise CheckFailed("fully_shard left plain tensors")
    losses = [step(model, optimizer) for _ in range(4)]
    if not math.isclose(losses[0], first, rel_tol=2 ** -7) or not losses[-1] < losses[0]:
        raise CheckFailed(f"sharded losses {losses}, unsharded first loss {first}")
    checkpointer = ckpt.Checkpointer(run)
    checkpointer.save(model, optimizer, 4, {"model": dataclasses.asdict(shape),
                                             "tokenizer_model": ""})
    checkpointer.wait()
    whole = ckpt.load_model(run)[0].state_dict()
    for name, param in model.named_parameters():
        if not torch.equal(param.full_tensor().cpu(), whole[name]):
            raise CheckFailed(f"checkpoint's {name} differs from the gathered shards")
    restored, restored_optimizer = sharded()
    ckpt.restore(ckpt.latest(run), restored, restored_optimizer)
    after, after_restored = step(model, optimizer), step(restored, restored_optimizer)
    if after != after_restored:
        raise CheckFailed(f"step 5: {after} trained on, {after_restored} restored")
    dist.destroy_process_group()
    print(f"FSDP2 on 1 rank ({shape.num_params():,} parameters, {device}): losses "
          f"{', '.join(f'{x:.4f}' for x in losses)} (unsharded first {first:.4f}); sharded "
          f"checkpoint read back whole and restored exactly (step 5: {after:.4f})")


def bench(seconds: float) -> None:
    """bench/train.py's own timed runs (the trainer's build_model, random tokens, median step) of
    the rows issue 14 asks for, most wanted first, each only while ``seconds`` leave room for
    it; a markdown row each, MFU against the device's dense bf16 peak (training/flops.py)."""
    repo = Path(__file__).resolve().parents[1]
    bench_train = runpy.run_path(str(repo / "bench" / "train.py"))
    run, row_of, peak_flops = bench_train["run"], bench_train["Row"], bench_train["peak_flops"]
    if DEVICE == "cuda":
        presets, seq, steps, room = (("1.1B", 8), ("400M", 16)), 2048, 10, 75
    else:
        presets, seq, steps, room = (("tiny", 4),), 64, 3, 20
    rows = [(preset, batch, masked, compiled) for compiled in (True, False)
            for masked in (True, False) for preset, batch in presets]
    end = time.monotonic() + seconds
    print("| preset | batch x seq | attention | build | tokens/s | MFU | peak GiB |\n"
          "|---|---|---|---|---|---|---|", flush=True)
    failed, device = 0, "?"
    for preset, batch, masked, compiled in rows:
        attention = "document-masked" if masked else "causal, unmasked"
        build = "compiled" if compiled else "eager"
        if time.monotonic() + room > end:
            print(f"| {preset} | not run: out of time ({attention}, {build}) |||||", flush=True)
            continue
        row = row_of(f"{preset} {attention} {build}", "llama-data", masked, compiled)
        try:
            result = run(row, preset, batch, seq, steps, DEVICE)
        except subprocess.CalledProcessError as e:
            failed += 1
            print(f"| {preset} | FAILED ({attention}, {build}): exit {e.returncode} |||||")
            continue
        device, peak = result["device"], peak_flops(result["device"])
        mfu = f"{result['tokens_per_s'] * result['flops_per_token'] / peak:.1%}" if peak else "–"
        print(f"| {preset} | {batch} x {seq} | {attention} | {build} | "
              f"{result['tokens_per_s']:,.0f} | {mfu} | {result['peak_mb'] / 1024:.1f} |",
              flush=True)
    if failed:
        raise CheckFailed(f"{failed} bench row(s) failed")
    print(f"bench: {device}, {steps} timed steps a row (median)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("environment")
    for name in ("release", "resume", "fsdp"):
        commands.add_parser(name).add_argument("work", type=Path)
    commands.add_parser("summary").add_argument("run", type=Path)
    commands.add_parser("bench").add_argument("seconds", type=float)
    args = parser.parse_args()
    try:
        if args.command == "environment":
            print(environment())
        elif args.command == "release":
            synthetic_release(args.work / "rel")
        elif args.command == "summary":
            print(run_summary(args.run))
        elif args.command == "resume":
            exact_resume(args.work)
        elif args.command == "fsdp":
            fsdp_one_rank(args.work)
        else:
            bench(args.seconds)
    except CheckFailed as e:
        print(f"FAILED: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
