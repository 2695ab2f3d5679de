"""``llama-data demo``: ``release build`` of the shipped demo recipe (every stage on the built-in
samples, in a few minutes)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from llama_data import build, recipe


def run_demo(output: str, beam_args: Sequence[str] = ()) -> None:
    started = time.monotonic()
    build.build(recipe.load(recipe.shipped("demo"), output), beam_args)
    print(f"\ndemo release written to {output} in {time.monotonic() - started:.0f}s; "
          f"see it again with: llama-data inspect {output}")
