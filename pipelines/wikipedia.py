"""Wikipedia: MediaWiki XML dumps -> article text shards, one Beam graph for every runner."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence

from llama_data.io import expand_inputs
from llama_data.manifest import SourceEntry
from llama_data.sources.wikipedia import PAPER_LANGUAGES, SOURCE, DumpReader, wikipedia_steps

from . import common
from .config import WikipediaConfig


def spec(languages: Collection[str] | None = PAPER_LANGUAGES, min_words: int = 20) -> common.SourceSpec:
    languages = None if languages is None else tuple(sorted(languages))
    return common.SourceSpec(
        name=SOURCE,
        reader=functools.partial(DumpReader, languages=languages),
        steps=functools.partial(wikipedia_steps, min_words),
    )


def run(config: WikipediaConfig, beam_args: Sequence[str] = (),
        inputs: Sequence[str] | None = None) -> SourceEntry:
    """Run the job ``config`` describes into its release. ``inputs``: ``config.input`` already
    expanded (by a caller that checked the files first); expanded here when None."""
    inputs = expand_inputs(config.input) if inputs is None else list(inputs)
    record = {"inputs": list(inputs),
              "languages": sorted(config.languages) if config.languages else None,
              "min_words": config.min_words, "keep_rejects": config.keep_rejects}
    return common.run(spec(config.languages, config.min_words), inputs, config.output,
                      config=record, beam_args=beam_args, **config.run_options())
