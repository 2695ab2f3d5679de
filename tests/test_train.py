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
from llama_data.training.defaults import resolve_for
from llama_data.training.flops import flops_per_token
from llama_data.training.model import Llama, ModelConfig
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


def weights(run) -> dict[str, torch.Tensor]:
    return ckpt.load_model(run)[0].state_dict()


def losses(run) -> list[float]:
    return [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()
            if "loss" in json.loads(line)]


def test_the_schedule_warms_up_then_decays_to_a_tenth():
    schedule = Schedule(steps=1000, global_sequences=8, micro_steps=1, warmup=100, lr=3e-4)
    factors = [lr_factor(s, schedule, 0.1) for s in range(1000)]
    assert factors[0] == pytest.approx(0.01) and factors[99] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(factors[100:]))
    assert factors[-1] == pytest.approx(0.1, abs=1e-4)
    short = schedule_for(resolve_for(TrainConfig("r", "o", tokens=100 * 8 * 256,
                                                 batch_tokens=8 * 256), "cpu"),
                         3e-4, 4_000_000, world=1)
    assert short.steps == 100 and short.warmup == 10  # the paper's 2,000, scaled down
    long = resolve_for(TrainConfig("r", "o", tokens=10**12), "cpu")
    assert schedule_for(long, 3e-4, 4_000_000, 1).warmup == 2000


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
    assert ckpt.latest(run).step == 24


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
    assert ckpt.latest(interrupted).step == 4
    train(config(encoded_release, interrupted), resume=True)
    assert losses(interrupted) == losses(whole)  # bit for bit, steps 1-8
    for a, b in zip(weights(whole).values(), weights(interrupted).values(), strict=True):
        assert torch.equal(a, b)


def test_a_nan_loss_stops_with_the_last_good_checkpoint_kept(encoded_release, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(TrainingError, match=r"loss is (nan|inf).*last good checkpoint") as error:
        train(config(encoded_release, run, lr=1e9, checkpoint_every=1, warmup_steps=1))
    good = ckpt.latest(run)
    assert all(torch.isfinite(t).all() for t in weights(run).values())
    assert f"over steps {good.step + 1}-{good.step + 1};" in str(error.value)
    assert all(math.isfinite(loss) for loss in losses(run))


def test_a_nan_loss_stops_the_run_at_the_end_of_its_log_interval(encoded_release, tmp_path):
    """The loss is read back every third step only: the NaN that the learning rate of 1e9 brings
    at step 2 or 3 stops the run at step 3, before the checkpoint of step 3 could keep it."""
    run = tmp_path / "run"
    with pytest.raises(TrainingError, match=r"loss is (nan|inf).* over steps 1-3; stopped "
                                            r"\(no checkpoint was saved yet\)"):
        train(config(encoded_release, run, lr=1e9, warmup_steps=1, log_every=3,
                     checkpoint_every=3, eval_every=100))
    assert not ckpt.exists(run)
    assert [r["step"] for r in map(json.loads, (run / "metrics.jsonl").open())] == [0]


def test_missing_corrupt_half_written_and_foreign_checkpoints(encoded_release, tmp_path,
                                                             monkeypatch, capsys):
    run = tmp_path / "run"
    with pytest.raises(ckpt.CheckpointError, match="no checkpoint"):
        train(config(encoded_release, run), resume=True)
    train(config(encoded_release, run, tokens=4 * 512))
    good = ckpt.latest(run)
    model, _, _ = ckpt.load_model(run)
    optimizer = torch.optim.AdamW(model.parameters())

    def killed_mid_save(state, checkpoint_id, **kwargs):
        (Path(checkpoint_id) / "__0_0.distcp").write_bytes(b"half a checkpoint")
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(ckpt.dcp, "save", killed_mid_save)
        with pytest.raises(KeyboardInterrupt):
            ckpt.Checkpointer(run).save(model, optimizer, 99, good.config)
    assert ckpt.latest(run) == good and (run / "checkpoints" / "step-000099").exists()
    for a, b in zip(weights(run).values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    ckpt.Checkpointer(run).save(model, optimizer, 5, good.config)  # drops the half-written one
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == \
        ["latest", "step-000004", "step-000005"]

    shard = next(ckpt.latest(run).path.glob("*.distcp"))
    shard.write_bytes(shard.read_bytes()[:1000])
    with pytest.raises(ckpt.CheckpointError, match="step-000005: corrupt checkpoint"):
        ckpt.load_model(run)
    capsys.readouterr()
    assert main(["export", str(run), "--output", str(tmp_path / "hf")]) == 1
    assert capsys.readouterr().err.count("\n") == 1  # one line
    meta = ckpt.latest(run).path / ckpt.META
    meta.write_text(meta.read_text().replace(ckpt.FORMAT, "someone-else/1"))
    with pytest.raises(ckpt.CheckpointError, match="meta.json: not a llama-data checkpoint"):
        ckpt.latest(run)
    meta.write_text("{")
    with pytest.raises(ckpt.CheckpointError, match="meta.json: corrupt checkpoint"):
        ckpt.latest(run)


def test_checkpoints_written_in_the_background_hold_the_state_of_their_step(encoded_release,
                                                                           tmp_path):
    """The background writer copies the state before training moves on: what it writes is the
    state at the step it was given, and the run ends with the same weights as one saving inline."""
    inline, background = tmp_path / "inline", tmp_path / "background"
    train(config(encoded_release, inline, tokens=4 * 512))
    train(config(encoded_release, background, tokens=4 * 512, async_checkpoint=True))
    model, _, _ = ckpt.load_model(inline)
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    checkpointer = ckpt.Checkpointer(tmp_path / "later", background=True)
    checkpointer.save(model, torch.optim.AdamW(model.parameters()), 4, ckpt.latest(inline).config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # training goes on while the thread writes
    assert checkpointer.wait() == tmp_path / "later" / "checkpoints" / "step-000004"
    for state in (weights(background), weights(tmp_path / "later")):
        for name, tensor in state.items():
            assert torch.equal(tensor, saved[name]), name


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


def two_processes(release, run, *options: str) -> list[list[torch.Tensor]]:
    """The same run as two ``torchrun`` processes with FSDP over gloo; returns its gradients.
    ``options``: the harness's (``--fault``, ``--stop-after``) and more of train's."""
    gradients = run.with_suffix(".pt")
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(HARNESS), str(gradients), "--release", str(release), *FSDP_RUN, *options,
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
    first, second = weights(one), weights(two)  # two: read whole from the ranks' shards
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


@pytest.mark.slow
def test_two_processes_save_one_process_resumes(encoded_release, one_process, tmp_path):
    """A checkpoint written as two FSDP processes' shards (in the background, and the run stopped
    before the next save would wait for it), resumed by one process (resharded by DCP): its
    optimiser moments are those the two processes' gradients give, and the loss curve goes on as
    the one-process run's that was never stopped."""
    run = tmp_path / "two-then-one"
    gradients = two_processes(encoded_release, run, "--checkpoint-every", "3", "--stop-after", "3",
                              "--async-checkpoint")
    checkpoint = ckpt.latest(run)
    assert (checkpoint.step, checkpoint.world, len(gradients)) == (3, 2, 3)
    assert sorted(p.name for p in checkpoint.path.glob("rng-*")) == ["rng-0.pt", "rng-1.pt"]

    model = Llama(ModelConfig(**checkpoint.config["model"]))
    optimizer = torch.optim.AdamW(param_groups(model, 0.1), betas=(0.9, 0.95), fused=True)
    assert ckpt.restore(checkpoint, model, optimizer) == 3
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for i, param in enumerate(params):
        mean = square = torch.zeros_like(param, dtype=torch.float64)
        for step in gradients:  # Adam's moments, by their definition, in float64
            grad = step[i].double()
            mean, square = 0.9 * mean + 0.1 * grad, 0.95 * square + 0.05 * grad * grad
        state = optimizer.state[param]
        # float32 moments after 3 rounded multiply-adds: off by a few 2^-24 of their size
        # (measured: 6e-8 at most); 1e-5 leaves 100x. A shard missing, stale or on the wrong
        # rows is off by ~1.
        for ours, reference in ((state["exp_avg"], mean), (state["exp_avg_sq"], square)):
            off = float(torch.linalg.vector_norm(ours.double() - reference)
                        / torch.linalg.vector_norm(reference))
            assert off <= 1e-5, f"parameter {i}: a moment is off by {off:.1e} of its norm"
        assert float(state["step"]) == 3

    assert main(["train", "--release", str(encoded_release), *FSDP_RUN, "--output", str(run),
                 "--resume"]) == 0
    assert json.loads((run / "config.json").read_text())["world"] == 1
    uninterrupted = losses(one_process[0])
    assert len(losses(run)) == len(uninterrupted) == 6
    for a, b in zip(losses(run), uninterrupted, strict=True):
        # two processes sum the same float32 terms in another order than one: each loss (a mean
        # of 512 token losses) moves by ~1e-7 (measured: 6e-8, and steps 4-6 from weights apart
        # by that rounding); 1e-4 leaves 1000x. Measured too: a resume that zeroes the
        # optimiser's moments is off by 2e-3 at step 5; one that loses the weights starts again
        # near step 1's loss, 4% above step 4's.
        assert math.isclose(a, b, rel_tol=1e-4), (losses(run), uninterrupted)


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


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="FlexAttention's backward runs on CUDA only")
def test_selective_activation_checkpointing_with_flex_attention_gives_the_same_gradients():
    from llama_data.training.model import Llama, model_config
    from llama_data.training.train import apply_activation_checkpointing

    torch.manual_seed(0)
    plain = Llama(model_config("tiny", vocab_size=300, max_seq_len=256)).cuda()
    recomputing = Llama(model_config("tiny", vocab_size=300, max_seq_len=256)).cuda()
    recomputing.load_state_dict(plain.state_dict())
    apply_activation_checkpointing(recomputing)
    tokens = torch.randint(0, 300, (2, 257), device="cuda")
    docs = torch.sort(torch.randint(0, 4, (2, 256), device="cuda"), dim=1).values
    for model in (plain, recomputing):
        model(tokens[:, :-1], doc_ids=docs, targets=tokens[:, 1:], attention="flex").backward()
    for (name, a), b in zip(plain.named_parameters(), recomputing.parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-6), name


def test_the_attention_setting_is_checked(encoded_release, tmp_path, capsys):
    from llama_data.training.config import SettingError

    with pytest.raises(SettingError, match="attention 'sdpa': one of auto, flex, mask"):
        config(encoded_release, tmp_path / "run", attention="sdpa")
    with pytest.raises(TrainingError, match="--attention flex trains on CUDA only"):
        train(config(encoded_release, tmp_path / "run", attention="flex"))


def test_generate_from_the_command_line(one_process, capsys):
    run = str(one_process[0])
    capsys.readouterr()
    outputs = []
    for options in ([], [], ["--temperature", "1", "--seed", "1"],
                    ["--temperature", "1", "--seed", "1"]):
        assert main(["generate", run, "--prompt", "The history of", "--max-new-tokens", "12",
                     *options]) == 0
        outputs.append(capsys.readouterr().out.strip())
    assert all(out.startswith("The history of") and len(out) > len("The history of")
               for out in outputs)
    assert outputs[0] == outputs[1] and outputs[2] == outputs[3]  # greedy; one seed's sample
    assert main(["generate", run, "--prompt", "x", "--top-p", "0"]) == 1
    assert capsys.readouterr().err.strip() == "llama-data: error: top p 0.0: in (0, 1]"


def test_blocks_compiled_with_checkpointing_give_the_same_gradients():
    """torchtitan's order, checkpointing then ``torch.compile`` per block, on the CPU: the blocks
    must really be compiled (a forward that torch.compile cannot trace runs eager, silently) and
    compute what the eager model does, up to float32 rounding (measured: 2e-8)."""
    from torch._dynamo.utils import counters

    from llama_data.training.model import model_config
    from llama_data.training.train import build_model

    shape = model_config("tiny", vocab_size=300, max_seq_len=32)
    tokens = torch.randint(0, 300, (2, 33), generator=torch.Generator().manual_seed(0))
    docs = torch.tensor([[0] * 20 + [1] * 12, [0] * 32])
    gradients = []
    for compiled in (False, True):
        settings = TrainConfig("r", compile=compiled, activation_checkpointing=compiled)
        model = build_model(shape, settings, torch.device("cpu"), world=1)
        counters.clear()
        model(tokens[:, :-1], doc_ids=docs, targets=tokens[:, 1:]).backward()
        gradients.append({name: p.grad for name, p in model.named_parameters()})
    assert counters["frames"]["ok"] >= 1  # the last run compiled its blocks
    for name, eager in gradients[0].items():
        assert torch.allclose(gradients[1][name], eager, atol=1e-6), name


REFUSE_PIPELINE_LIBRARIES = """
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"apache_beam", "fasttext", "kenlm"}:
            raise ImportError(f"{name} is not installed here")

sys.meta_path.insert(0, Refuse())
"""
TRAIN_A_LITTLE = """
from llama_data.training import data, evaluate, export, model, train
from llama_data.training.config import TrainConfig

last = train.train(TrainConfig(sys.argv[1], sys.argv[2], preset="tiny", tokens=1024, seq_len=64,
                               micro_batch=4, batch_tokens=512, eval_sequences=2))
assert last["step"] == 2, last
"""


def test_training_needs_none_of_the_pipelines_libraries(encoded_release, tmp_path):
    """A GPU machine that only trains has no Beam, fastText or KenLM: importing them is refused
    here, and the trainer must still import and train."""
    refused = subprocess.run([sys.executable, "-c", REFUSE_PIPELINE_LIBRARIES + "import kenlm"],
                             check=False, capture_output=True, text=True)
    assert "kenlm is not installed here" in refused.stderr  # the refusal works
    result = subprocess.run([sys.executable, "-c", REFUSE_PIPELINE_LIBRARIES + TRAIN_A_LITTLE,
                             str(encoded_release), str(tmp_path / "run")],
                            check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
