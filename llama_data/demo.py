"""``llama-data demo``: every stage of a release on the built-in sample, in a few minutes."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from llama_data import manifest, mixture, samples

DEMO_VOCAB = 2000  # the sample is ~100 KB of text: far too little for LLaMA's 32,000 pieces
STAGES = 5
# ~14 epochs of the sample's ~36k tokens, 20-30 s on two cores: validation bits per byte fall
# until about there, and rise again as the tiny model starts to memorise so small a sample.
DEMO_TRAIN_TOKENS = 500_000


def _stage(number: int, title: str) -> None:
    print(f"\n== {number}/{STAGES} {title}", file=sys.stderr)


def run_demo(output: str, beam_args: Sequence[str] = ()) -> None:
    from llama_data.pipelines import wikipedia
    from llama_data.tokenizer import encode
    from llama_data.tokenizer import train as train_tokenizer
    from llama_data.training import metrics
    from llama_data.training.train import TrainConfig, train

    started = time.monotonic()
    dumps = [str(p) for p in samples.wikipedia_dumps()]
    _stage(1, f"wikipedia: {len(dumps)} sample dumps -> Arrow shards (Apache Beam)")
    wikipedia.run(dumps, output, beam_args=beam_args)
    print(manifest.render(output, manifest.load(output)))

    _stage(2, f"tokenizer: SentencePiece BPE with LLaMA's spec, {DEMO_VOCAB} pieces "
              f"(LLaMA has 32,000; the demo sample is too small for that)")
    train_tokenizer.train(output, mixture.load_weights("table1"), vocab_size=DEMO_VOCAB,
                sample_bytes=10 * 10**6)

    _stage(3, "tokens: every shard encoded into uint16 token shards")
    release = encode.encode_release(output)
    available = sum(e.tokens["tokens"] for e in release.sources.values())

    _stage(4, "mix: Table 1 weights; the demo has Wikipedia only, so the rest are renormalised "
              "away, and its few tokens are repeated for the short training run")
    plan = mixture.plan_for(DEMO_TRAIN_TOKENS, mixture.load_weights("table1"), output, {},
                            renormalize=True, max_epochs=DEMO_TRAIN_TOKENS / available)
    print(mixture.render(plan))

    _stage(5, "train: a tiny LLaMA on the release's mixture (CPU, half a minute)")
    run = Path(output) / "runs" / "demo-tiny"
    train(TrainConfig(release=output, output=str(run), preset="tiny", tokens=plan.total_tokens,
                      seq_len=128,
                      micro_batch=8, batch_tokens=2048, eval_every=50, eval_sequences=16,
                      checkpoint_every=10_000, val_fraction=0.1))
    records = [r for r in metrics.read(run) if r.get("val")]
    print("\nvalidation bits per byte, per source (lower is better)")
    print(f"{'source':<16}{'start':>10}{'end':>10}")
    for source, start in sorted(records[0]["val"].items()):
        print(f"{source:<16}{start['bpb']:>10.3f}{records[-1]['val'][source]['bpb']:>10.3f}")
    print(f"\ndemo release written to {output} in {time.monotonic() - started:.0f}s; "
          f"see it again with: llama-data inspect {output}")

