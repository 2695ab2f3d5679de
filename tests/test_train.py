"""The trainer on the real token shards of three sources, on the CPU."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from fsdp_harness import recording

from llama_data.cli import main
from llama_data.training import checkpoint as ckpt
from llama_data.training.data import MixtureSequences
from llama_data.training.flops import flops_per_token
from llama_data.training.model import ModelConfig
from llama_data.training.train import (
    Schedule,
    TrainConfig,
    TrainingError,
    lr_factor,
    param_groups,
    schedule_for,
    train,
)

TINY = {"preset": "tiny", "seq_len": 64, "micro_batch": 4, "batch_tokens": 512, "eval_every": 4,
        "eval_sequences": 4, "checkpoint_every": 4}


def config(release, run, **changes) -> TrainConfig:
    return TrainConfig(release=str(release), output=str(run), **{**TINY, "tokens": 8 * 512,
                                                                  **changes})


def losses(run) -> list[float]:
    return [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()
            if "loss" in json.loads(line)]


def test_the_schedule_warms_up_then_decays_to_a_tenth():
    schedule = Schedule(steps=1000, global_sequences=8, micro_steps=1, warmup=100, lr=3e-4)
    factors = [lr_factor(s, schedule, 0.1) for s in range(1000)]
    assert factors[0] == pytest.approx(0.01) and factors[99] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(factors[100:]))
    assert factors[-1] == pytest.approx(0.1, abs=1e-4)
    short = schedule_for(TrainConfig("r", "o", tokens=100 * 8 * 256, batch_tokens=8 * 256,
                                     micro_batch=8), 3e-4, 4_000_000, world=1)
    assert short.steps == 100 and short.warmup == 10  # the paper's 2,000, scaled down
    assert schedule_for(TrainConfig("r", "o", tokens=10**12), 3e-4, 4_000_000, 1).warmup == 2000


def test_norms_and_the_input_embedding_are_not_decayed():
    from llama_data.training.model import Llama, model_config

    model = Llama(model_config("tiny", vocab_size=300, max_seq_len=32))
    decay, no_decay = param_groups(model, 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(p.ndim == 2 and "tok_embeddings" not in names[id(p)] for p in decay["params"])
    assert any("tok_embeddings" in names[id(p)] for p in no_decay["params"])
    assert any("norm" in names[id(p)] for p in no_decay["params"])
    assert any("output" in names[id(p)] for p in decay["params"])


def test_a_run_learns_and_writes_its_metrics(encoded_release, tmp_path):
    run = tmp_path / "run"
    last = train(config(encoded_release, run, tokens=24 * 512, eval_every=8, peak_tflops=0.5))
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    model = ModelConfig(**json.loads((run / "config.json").read_text())["model"])
    for record in records[1:]:  # MFU on a CPU too, given a peak: FLOPs/s over 0.5 TFLOP/s
        assert record["mfu"] == pytest.approx(
            record["tokens_per_s"] * flops_per_token(model, 64) / 0.5e12)
    first_val, last_val = records[0]["val"], last["val"]
    assert set(first_val) == {"wikipedia", "c4", "books"}
    for source in first_val:
        assert last_val[source]["bpb"] < first_val[source]["bpb"], source
        assert 0 < last_val[source]["bpb"] < 20
    assert losses(run)[-1] < losses(run)[0]
    assert (run / "metrics.csv").read_text().startswith("step,tokens,loss")
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert ckpt.load(run)["step"] == 24


def test_a_resumed_run_reproduces_the_uninterrupted_loss_curve_exactly(encoded_release, tmp_path,
                                                                     monkeypatch):
    whole = tmp_path / "whole"
    train(config(encoded_release, whole))
    interrupted = tmp_path / "interrupted"
    original = MixtureSequences.__getitem__

    def crash_in_step_6(self, k):
        if k >= 5 * 8:  # the sequences of step 6 (8 per step)
            raise KeyboardInterrupt
        return original(self, k)

    monkeypatch.setattr(MixtureSequences, "__getitem__", crash_in_step_6)
    with pytest.raises(KeyboardInterrupt):
        train(config(encoded_release, interrupted))
    monkeypatch.setattr(MixtureSequences, "__getitem__", original)
    assert ckpt.load(interrupted)["step"] == 4
    train(config(encoded_release, interrupted), resume=True)
    assert losses(interrupted) == losses(whole)  # bit for bit, steps 1-8
    for a, b in zip(ckpt.load(whole)["model"].values(), ckpt.load(interrupted)["model"].values()):
        assert torch.equal(a, b)


def test_a_nan_loss_stops_with_the_last_good_checkpoint_kept(encoded_release, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(TrainingError, match=r"loss is (nan|inf).*last good checkpoint"):
        train(config(encoded_release, run, lr=1e9, checkpoint_every=1, warmup_steps=1))
    good = ckpt.load(run)
    assert all(torch.isfinite(t).all() for t in good["model"].values())


def test_missing_corrupt_and_half_written_checkpoints(encoded_release, tmp_path, monkeypatch):
    run = tmp_path / "run"
    with pytest.raises(ckpt.CheckpointError, match="no checkpoint"):
        train(config(encoded_release, run), resume=True)
    train(config(encoded_release, run, tokens=4 * 512))
    before = (run / ckpt.FILE).read_bytes()

    def killed_mid_save(state, path):
        with open(path, "wb") as f:
            f.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(ckpt.torch, "save", killed_mid_save)
    model, _, _ = ckpt.load_model(run)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save(run, model, torch.optim.AdamW(model.parameters()), 99, {})
    assert (run / ckpt.FILE).read_bytes() == before and ckpt.load(run)["step"] == 4
    assert not list(run.glob("*.tmp-*"))
    (run / ckpt.FILE).write_bytes(before[: len(before) // 2])
    with pytest.raises(ckpt.CheckpointError, match="corrupt checkpoint"):
        ckpt.load(run)


def test_compare_and_export_from_the_command_line(encoded_release, tmp_path, capsys):
    for name, seed in (("a", 0), ("b", 1)):
        assert main(["train", "--release", str(encoded_release), "--preset", "tiny",
                     "--tokens", "2048", "--seq-len", "64", "--batch-tokens", "512",
                     "--micro-batch", "4", "--seed", str(seed), "--output",
                     str(tmp_path / name)]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--plot",
                 str(tmp_path / "cmp.png")]) == 0
    out = capsys.readouterr().out
    assert "wikipedia" in out and "c4" in out and str(tmp_path / "a") in out
    assert (tmp_path / "cmp.png").exists()
    assert main(["export", str(tmp_path / "a"), "--format", "hf", "--output",
                 str(tmp_path / "hf")]) == 0
    from transformers import LlamaForCausalLM

    ours, _, _ = ckpt.load_model(tmp_path / "a")
    theirs = LlamaForCausalLM.from_pretrained(tmp_path / "hf", torch_dtype=torch.float32)
    tokens = torch.randint(3, ours.output.out_features, (2, 40))
    with torch.no_grad():
        assert torch.allclose(ours(tokens), theirs(tokens).logits, atol=1e-4)
    assert main(["compare", str(tmp_path / "nothing")]) == 1


FSDP_RUN = ["--preset", "tiny", "--tokens", "3072", "--seq-len", "64", "--batch-tokens", "512",
            "--micro-batch", "2", "--checkpoint-every", "100", "--eval-every", "100"]
HARNESS = Path(__file__).with_name("fsdp_harness.py")


@pytest.fixture(scope="module")
def one_process(encoded_release, tmp_path_factory):
    """A one-process run (no FSDP) and the gradients its optimiser was given at each step."""
    run = tmp_path_factory.mktemp("one-process") / "run"
    with recording() as gradients:
        assert main(["train", "--release", str(encoded_release), *FSDP_RUN,
                     "--output", str(run)]) == 0
    return run, gradients


def two_processes(release, run, *fault: str) -> list[list[torch.Tensor]]:
    """The same run as two ``torchrun`` processes with FSDP over gloo; returns its gradients."""
    gradients = run.with_suffix(".pt")
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(HARNESS), str(gradients), *fault, "--release", str(release), *FSDP_RUN,
         "--output", str(run)], check=False, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((run / "config.json").read_text())["world"] == 2
    return torch.load(gradients)


def assert_same_training(one, one_gradients, two, two_gradients) -> None:
    """What sharding must preserve: the optimiser is given the gradient of the whole global batch
    at every step (the ranks' gradients averaged), so losses and weights follow."""
    model, _, _ = ckpt.load_model(one)
    names = {id(p): name for name, p in model.named_parameters()}
    order = [names[id(p)] for group in param_groups(model, 0.1) for p in group["params"]]
    assert len(one_gradients) == len(two_gradients) == 6
    for step, (ours, theirs) in enumerate(zip(one_gradients, two_gradients), start=1):
        for name, a, b in zip(order, ours, theirs, strict=True):
            # The runs add the same float32 terms in another order (split over ranks, other
            # thread counts, another CPU's vector width): that moves a sum of n terms by about
            # sqrt(n) * 2^-24 of their size. In the L2 norm of a tensor, measured: 3e-7 at step 1
            # (same weights), 1e-5 later (weights apart by rounding that AdamW amplified). 1e-3
            # leaves 100x; a gradient summed, not averaged, over 2 ranks is off by 50%.
            off = float(torch.linalg.vector_norm(b - a) / torch.linalg.vector_norm(a))
            assert off <= 1e-3, f"step {step}: the gradient of {name} is off by {off:.1e} of its norm"
    for a, b in zip(losses(one), losses(two), strict=True):
        # each loss averages 512 token losses, summed in another order (measured: 7e-8)
        assert math.isclose(a, b, rel_tol=1e-4), (losses(one), losses(two))
    lrs = [r["lr"] for r in map(json.loads, (one / "metrics.jsonl").read_text().splitlines())
           if "lr" in r]
    first, second = ckpt.load(one)["model"], ckpt.load(two)["model"]
    for name in first:
        # AdamW moves a weight by lr_t * (|m_t / sqrt(v_t)| + decay * |w|) a step, and for
        # betas (0.9, 0.95) Cauchy-Schwarz bounds |m_t / sqrt(v_t)| (bias-corrected) by 1.004
        # over 6 steps: two runs from one start differ by at most twice the sum. Rounding stays
        # far inside (1.7e-4 at most, in a rare embedding row); a misassembled checkpoint does not.
        bound = 2 * sum(lrs) * (1.004 + 0.1 * float(first[name].abs().max()))
        assert float((first[name] - second[name]).abs().max()) <= bound, name


@pytest.mark.slow
def test_two_processes_with_fsdp_match_one_process(encoded_release, one_process, tmp_path):
    two = tmp_path / "two"
    assert_same_training(*one_process, two, two_processes(encoded_release, two))


@pytest.mark.slow
def test_the_fsdp_check_fails_when_ranks_sum_their_gradients(encoded_release, one_process,
                                                             tmp_path):
    """The check above must catch a sharding bug: FSDP told to sum the ranks' gradients instead of
    averaging them. AdamW cannot see it (it is scale-invariant and clipping caps the norm), so the
    losses stay alike for steps: only the gradients tell."""
    two = tmp_path / "two"
    gradients = two_processes(encoded_release, two, "--fault", "sum")
    with pytest.raises(AssertionError, match="step 1: the gradient of .* is off by"):
        assert_same_training(*one_process, two, gradients)


def test_selective_activation_checkpointing_gives_the_same_gradients():
    from llama_data.training.model import Llama, model_config
    from llama_data.training.train import apply_activation_checkpointing

    torch.manual_seed(0)
    plain = Llama(model_config("tiny", vocab_size=300, max_seq_len=32))
    recomputing = Llama(model_config("tiny", vocab_size=300, max_seq_len=32))
    recomputing.load_state_dict(plain.state_dict())
    apply_activation_checkpointing(recomputing)
    tokens = torch.randint(0, 300, (2, 33))
    docs = torch.tensor([[0] * 20 + [1] * 12, [0] * 32])
    for model in (plain, recomputing):
        logits = model(tokens[:, :-1], doc_ids=docs)
        torch.nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten()).backward()
    for (name, a), b in zip(plain.named_parameters(), recomputing.parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-6), name
