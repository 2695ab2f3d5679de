"""Training throughput: our LLaMA, on the trainer's default path, against transformers'
LlamaForCausalLM with the same configuration.

    .venv/bin/python bench/train.py [--pairs 5] [--steps 5] [--presets 10M 60M] [--peak-tflops T]

Every run is a fresh process: the preset's dimensions, a 32,000 vocabulary, AdamW (0.9, 0.95,
weight decay 0.1, fused) with the trainer's parameter groups, gradient clipping 1.0, random tokens;
tokens/s of its median timed step after the warm-up ones (a step that another process's burst
slowed does not count), and the process's peak memory. Rows:

- llama-data, document-masked: the trainer's default (``--doc-mask``), each sequence cut into
  documents at random places, positions restarting in each;
- llama-data, unmasked: plain causal SDPA (``--no-doc-mask``);
- transformers LlamaForCausalLM, SDPA attention: the reference of the ratios.

On a shared machine one run's speed says little, so the rows run in rounds, the order reversed
every other round (A B C, C B A, ...), and each round gives a ratio to the reference's run in the
same round: the table has the median ratio and its spread (IQR and min-max). A ratio holds when
its spread stays on one side of 1. On CUDA it adds the 400M and 1.1B presets in bf16, eager and
``torch.compile``d, with MFU against the device's dense bf16 peak (``training/flops.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from typing import NamedTuple

from llama_data.training.flops import peak_flops

WARMUP_STEPS = 2
DOCUMENTS = 4  # per sequence on the masked row, so that every sequence has boundaries to mask

RUN = textwrap.dedent("""
    import json, resource, statistics, sys, time
    import torch
    import torch.nn.functional as F
    from llama_data.training.flops import flops_per_token
    from llama_data.training.model import model_config
    from llama_data.training.train import param_groups
    row, preset, batch, seq, steps, device = json.loads(sys.argv[1])
    warmup, documents = int(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(0)
    cfg = model_config(preset, vocab_size=32000, max_seq_len=seq)
    if row["impl"] == "llama-data":  # the trainer's own build: meta init, per-block compile
        from llama_data.training.attention import attention_kind
        from llama_data.training.config import TrainConfig
        from llama_data.training.train import build_model
        settings = TrainConfig("bench", compile=row["compile"])
        model = build_model(cfg, settings, torch.device(device), world=1)
        kind = attention_kind(settings.attention, torch.device(device))
        loss_of = lambda x, y, positions, doc_ids: model(x, positions, doc_ids, targets=y,
                                                         attention=kind)
    else:
        from transformers import LlamaConfig, LlamaForCausalLM
        model = LlamaForCausalLM(LlamaConfig(
            vocab_size=cfg.vocab_size, hidden_size=cfg.dim, intermediate_size=cfg.hidden_dim,
            num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads,
            num_key_value_heads=cfg.n_heads, max_position_embeddings=seq, rms_norm_eps=cfg.norm_eps,
            rope_theta=cfg.rope_theta, tie_word_embeddings=False, attn_implementation="sdpa"))
        loss_of = lambda x, y, positions, doc_ids: F.cross_entropy(
            model(input_ids=x).logits.float().flatten(0, 1), y.flatten())
    model.to(device).train()
    optimizer = torch.optim.AdamW(param_groups(model, 0.1), lr=3e-4, betas=(0.9, 0.95),
                                  fused=True)  # as training/train.py, for both
    step_fn = torch.compile(loss_of) if row["compile"] and row["impl"] != "llama-data" \
        else loss_of  # the trainer compiles its blocks itself
    n = steps + warmup
    data = torch.randint(0, cfg.vocab_size, (n, batch, seq + 1), device=device)
    # documents: starts at 0 and at documents - 1 random places; ids count the starts so far,
    # positions count from the latest start
    cuts = torch.rand(n * batch, seq - 1).topk(documents - 1).indices + 1
    starts = torch.zeros(n * batch, seq, dtype=torch.bool).scatter_(1, cuts, True)
    index = torch.arange(seq).expand(n * batch, seq)
    positions = (index - torch.where(starts, index, 0).cummax(1).values).view(n, batch, seq)
    doc_ids = starts.cumsum(1).view(n, batch, seq)
    positions, doc_ids = positions.to(device), doc_ids.to(device)
    def step(i):
        masked = (positions[i], doc_ids[i]) if row["masked"] else (None, None)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = step_fn(data[i, :, :-1], data[i, :, 1:], *masked)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    def timed(i):
        start = time.perf_counter()
        step(i)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start
    for i in range(warmup):
        step(i)
    if device == "cuda":
        torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    seconds = statistics.median(timed(i) for i in range(warmup, n))
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else \\
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tokens_per_s": batch * seq / seconds, "peak_mb": peak,
                      "params": sum(p.numel() for p in model.parameters()),
                      "flops_per_token": flops_per_token(cfg, seq),
                      "device": torch.cuda.get_device_name() if device == "cuda" else "cpu"}))
""")


class Row(NamedTuple):
    name: str
    impl: str  # "llama-data" or "transformers"
    masked: bool = False
    compile: bool = False


CPU_ROWS = (Row("llama-data, document-masked (default)", "llama-data", masked=True),
            Row("llama-data, unmasked SDPA", "llama-data"),
            Row("transformers LlamaForCausalLM (sdpa)", "transformers"))
CUDA_ROWS = (Row("llama-data, document-masked (default), eager", "llama-data", masked=True),
             Row("llama-data, document-masked (default), compiled", "llama-data", masked=True,
                 compile=True),
             Row("llama-data, unmasked SDPA, compiled", "llama-data", compile=True),
             Row("transformers LlamaForCausalLM (sdpa), compiled", "transformers", compile=True))
CUDA_PRESETS = (("400M", 16), ("1.1B", 8))  # with their batch at 2,048 tokens a sequence


def run(row: Row, preset: str, batch: int, seq: int, steps: int, device: str) -> dict:
    """One fresh process; its stderr (warnings, a traceback) goes to ours."""
    spec = json.dumps([row._asdict(), preset, batch, seq, steps, device])
    out = subprocess.run([sys.executable, "-c", RUN, spec, str(WARMUP_STEPS), str(DOCUMENTS)],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def summary(values: list[float]) -> dict[str, float]:
    """Median, quartiles (inclusive: interpolated between the values, as numpy's default) and
    range; a noisy machine shows in the spread, which one best-of-N figure hides."""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 \
        else values * 3
    return {"median": statistics.median(values), "q1": q1, "q3": q3,
            "min": min(values), "max": max(values)}


def measure(rows: tuple[Row, ...], preset: str, batch: int, seq: int, steps: int, device: str,
            rounds: int) -> dict[Row, list[dict]]:
    """``rounds`` runs of every row, the order reversed every other round, so that drift of the
    machine's speed during a round weighs on both ends alike."""
    runs: dict[Row, list[dict]] = {row: [] for row in rows}
    for i in range(rounds):
        for row in rows if i % 2 == 0 else rows[::-1]:
            runs[row].append(run(row, preset, batch, seq, steps, device))
    return runs


def print_table(preset: str, runs: dict[Row, list[dict]], peak_tflops: float | None) -> None:
    """One line per row; ratios per round against the last row (the reference)."""
    reference = runs[list(runs)[-1]]
    for row, results in runs.items():
        speed = summary([r["tokens_per_s"] for r in results])["median"]
        peak = peak_flops(results[0]["device"], peak_tflops)
        mfu = f"{speed * results[0]['flops_per_token'] / peak:.1%}" if peak else "–"
        if results is reference:
            ratio = "1.00x | – | –"
        else:
            s = summary([a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(results, reference)])
            ratio = (f"**{s['median']:.2f}x** | {s['q1']:.2f}–{s['q3']:.2f} | "
                     f"{s['min']:.2f}–{s['max']:.2f}")
        print(f"| {preset} | {results[0]['params'] / 1e6:.1f}M | {row.name} | {speed:,.0f} | {mfu} "
              f"| {max(r['peak_mb'] for r in results):,.0f} | {ratio} |")


HEADER = ("| preset | parameters | implementation | tokens/s (median) | MFU | peak MB | "
          "ratio, median | IQR | min–max |\n|---|---|---|---|---|---|---|---|---|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=5,
                        help="rounds of all rows on the CPU presets, each giving one ratio per row")
    parser.add_argument("--steps", type=int, default=5, help="timed steps of each CPU run")
    parser.add_argument("--presets", nargs="+", default=["10M", "60M"], help="CPU presets")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--cuda-pairs", type=int, default=2,
                        help="rounds on the CUDA presets (each compiled run compiles anew)")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="dense bf16 peak of one device, for MFU (default: the device's, "
                             "from training/flops.py; none on a CPU)")
    args = parser.parse_args()
    import torch

    print(f"CPU, {torch.get_num_threads()} threads, float32; batch {args.batch} x {args.seq_len}, "
          f"{args.steps} timed steps after {WARMUP_STEPS} warm-up; {args.pairs} rounds, order "
          f"reversed every other round; ratio: tokens/s over transformers' in the same round\n")
    print(HEADER)
    for preset in args.presets:
        print_table(preset, measure(CPU_ROWS, preset, args.batch, args.seq_len, args.steps, "cpu",
                                    args.pairs), args.peak_tflops)
    if not torch.cuda.is_available():
        print("\nno GPU here: the bf16 / compiled / MFU rows need one (see BENCHMARKS.md)")
        return
    name = torch.cuda.get_device_name()
    if peak_flops(name, args.peak_tflops) is None:
        print(f"no peak FLOP/s known for {name}: MFU not reported (--peak-tflops gives one)",
              file=sys.stderr)
    print(f"\n{name}: bf16, batch x 2,048 tokens, 10 timed steps; {args.cuda_pairs} rounds\n")
    print(HEADER)
    for preset, batch in CUDA_PRESETS:
        print_table(preset, measure(CUDA_ROWS, preset, batch, 2048, 10, "cuda", args.cuda_pairs),
                    args.peak_tflops)


if __name__ == "__main__":
    main()
