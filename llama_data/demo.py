"""``llama-data demo``: every stage of a release on the built-in sample, in a few minutes."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from llama_data import manifest, mixture, samples

DEMO_VOCAB = 2000  # the sample is ~100 KB of text: far too little for LLaMA's 32,000 pieces
STAGES = 4


def _stage(number: int, title: str) -> None:
    print(f"\n== {number}/{STAGES} {title}", file=sys.stderr)


def run_demo(output: str, beam_args: Sequence[str] = ()) -> None:
    from llama_data.pipelines import wikipedia
    from llama_data.tokenizer import encode, train

    started = time.monotonic()
    dumps = [str(p) for p in samples.wikipedia_dumps()]
    _stage(1, f"wikipedia: {len(dumps)} sample dumps -> Arrow shards (Apache Beam)")
    wikipedia.run(dumps, output, beam_args=beam_args)
    print(manifest.render(output, manifest.load(output)))

    _stage(2, f"tokenizer: SentencePiece BPE with LLaMA's spec, {DEMO_VOCAB} pieces "
              f"(LLaMA has 32,000; the demo sample is too small for that)")
    train.train(output, mixture.load_weights("table1"), vocab_size=DEMO_VOCAB,
                sample_bytes=10 * 10**6)

    _stage(3, "tokens: every shard encoded into uint16 token shards")
    release = encode.encode_release(output)
    available = sum(e.tokens["tokens"] for e in release.sources.values())

    _stage(4, "mix: Table 1 weights; the demo has Wikipedia only, so the rest are renormalised away")
    plan = mixture.plan_for(3 * available, mixture.load_weights("table1"), output, {},
                            renormalize=True)
    print(mixture.render(plan))
    print(f"\ndemo release written to {output} in {time.monotonic() - started:.0f}s; "
          f"see it again with: llama-data inspect {output}")
