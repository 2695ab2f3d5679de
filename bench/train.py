"""Training throughput: our LLaMA against transformers' LlamaForCausalLM, same configuration.

    .venv/bin/python bench/train.py [--steps 6] [--presets 10M 60M]

Each row is a fresh process: the same preset dimensions, vocabulary (32,000), batch, sequence length,
AdamW (0.9, 0.95, weight decay 0.1) and gradient clipping 1.0, random tokens; tokens/s over the
timed steps after two warm-up steps, and the process's peak memory. On a GPU (none in CI) it also
runs the 400M and 1.1B presets in bf16 with torch.compile and reports MFU: 6N + 12·layers·heads·
head_dim·seq FLOPs per token (N: parameters less the input embedding; attention counted in full),
against the H100 SXM's 989 TFLOP/s dense bf16.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

RUN = textwrap.dedent("""
    import json, resource, sys, time
    import torch
    import torch.nn.functional as F
    impl, preset, batch, seq, steps, device, compile_ = sys.argv[1:8]
    batch, seq, steps, compile_ = int(batch), int(seq), int(steps), compile_ == "1"
    from llama_data.training.model import Llama, model_config
    from llama_data.training.train import flops_per_token, param_groups
    torch.manual_seed(0)
    cfg = model_config(preset, vocab_size=32000, max_seq_len=seq)
    if impl == "llama-data":
        model = Llama(cfg)
        loss_of = lambda x, y: model(x, targets=y)
    else:
        from transformers import LlamaConfig, LlamaForCausalLM
        model = LlamaForCausalLM(LlamaConfig(
            vocab_size=cfg.vocab_size, hidden_size=cfg.dim, intermediate_size=cfg.hidden_dim,
            num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads,
            num_key_value_heads=cfg.n_heads, max_position_embeddings=seq, rms_norm_eps=cfg.norm_eps,
            rope_theta=cfg.rope_theta, tie_word_embeddings=False, attn_implementation="sdpa"))
        loss_of = lambda x, y: F.cross_entropy(model(input_ids=x).logits.float().flatten(0, 1),
                                               y.flatten())
    model.to(device).train()
    optimizer = torch.optim.AdamW(param_groups(model, 0.1), lr=3e-4, betas=(0.9, 0.95),
                                  fused=True)  # as training/train.py, for both
    step_fn = torch.compile(loss_of) if compile_ else loss_of
    data = torch.randint(0, cfg.vocab_size, (steps + 2, batch, seq + 1), device=device)
    def step(i):
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = step_fn(data[i, :, :-1], data[i, :, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    for i in range(2):
        step(i)
    if device == "cuda":
        torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for i in range(2, steps + 2):
        step(i)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    tokens_per_s = steps * batch * seq / seconds
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else \\
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tokens_per_s": tokens_per_s, "peak_mb": peak,
                      "params": sum(p.numel() for p in model.parameters()),
                      "mfu": tokens_per_s * flops_per_token(cfg, seq) / 989e12}))
""")


def run(impl: str, preset: str, batch: int, seq: int, steps: int, device: str,
        compile_: bool = False) -> dict:
    out = subprocess.run([sys.executable, "-c", RUN, impl, preset, str(batch), str(seq), str(steps),
                          device, "1" if compile_ else "0"], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs of each, alternating; the best counts (the machine is shared)")
    parser.add_argument("--presets", nargs="+", default=["10M", "60M"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=256)
    args = parser.parse_args()
    import torch

    print(f"CPU, {torch.get_num_threads()} threads; batch {args.batch} x {args.seq_len}, "
          f"{args.steps} timed steps, best of {args.repeats} alternating runs\n")
    print("| preset | parameters | implementation | tokens/s | peak MB | ratio |")
    print("|---|---|---|---|---|---|")
    for preset in args.presets:
        runs: dict[str, list[dict]] = {"llama-data": [], "transformers": []}
        for _ in range(args.repeats):
            for impl, results in runs.items():
                results.append(run(impl, preset, args.batch, args.seq_len, args.steps, "cpu"))
        ours, theirs = (max(r, key=lambda x: x["tokens_per_s"]) for r in runs.values())
        for name, r in (("llama-data", ours), ("transformers LlamaForCausalLM", theirs)):
            print(f"| {preset} | {r['params'] / 1e6:.1f}M | {name} | {r['tokens_per_s']:,.0f} | "
                  f"{r['peak_mb']:.0f} | {r['tokens_per_s'] / theirs['tokens_per_s']:.2f}x |")
    if torch.cuda.is_available():
        print(f"\n{torch.cuda.get_device_name()}: bf16, torch.compile, fused attention\n")
        print("| preset | batch x seq | tokens/s | MFU | peak MB |\n|---|---|---|---|---|")
        for preset, batch in (("400M", 16), ("1.1B", 8)):
            r = run("llama-data", preset, batch, 2048, 10, "cuda", compile_=True)
            print(f"| {preset} | {batch} x 2048 | {r['tokens_per_s']:,.0f} | {r['mfu']:.1%} | "
                  f"{r['peak_mb']:.0f} |")
    else:
        print("\nno GPU here: the bf16 / MFU rows need one (see BENCHMARKS.md)")


if __name__ == "__main__":
    main()
