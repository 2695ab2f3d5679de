"""``llama-data demo``: every stage of a release on the built-in sample, in a few minutes."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from llama_data import manifest, samples


def _stage(title: str) -> None:
    print(f"\n== {title}", file=sys.stderr)


def run_demo(output: str, beam_args: Sequence[str] = ()) -> None:
    from llama_data.pipelines import wikipedia

    started = time.monotonic()
    dumps = [str(p) for p in samples.wikipedia_dumps()]
    _stage(f"1/1 wikipedia: {len(dumps)} sample dumps -> Arrow shards (Apache Beam)")
    wikipedia.run(dumps, output, beam_args=beam_args)
    print(manifest.render(output, manifest.load(output)))
    print(f"\ndemo release written to {output} in {time.monotonic() - started:.0f}s; "
          f"see it again with: llama-data inspect {output}")
