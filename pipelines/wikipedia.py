"""Wikipedia: MediaWiki XML dumps -> article text shards, one Beam graph for every runner."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence

from llama_data.manifest import SourceEntry
from llama_data.shards import DEFAULT_SHARD_BYTES
from llama_data.sources.wikipedia import PAPER_LANGUAGES, SOURCE, DumpReader, wikipedia_steps

from . import common


def spec(languages: Collection[str] | None = PAPER_LANGUAGES, min_words: int = 20) -> common.SourceSpec:
    languages = None if languages is None else tuple(sorted(languages))
    return common.SourceSpec(
        name=SOURCE,
        reader=functools.partial(DumpReader, languages=languages),
        steps=functools.partial(wikipedia_steps, min_words),
    )


def run(inputs: Sequence[str], release: str, *, languages: Collection[str] | None = PAPER_LANGUAGES,
        min_words: int = 20, beam_args: Sequence[str] = (), max_bytes: int = DEFAULT_SHARD_BYTES,
        buckets: int | None = None, keep_rejects: bool = False, max_error_rate: float = 0.01,
        allow_empty: bool = False) -> SourceEntry:
    config = {"inputs": list(inputs), "languages": sorted(languages) if languages else None,
              "min_words": min_words, "keep_rejects": keep_rejects}
    return common.run(spec(languages, min_words), inputs, release, config=config,
                      beam_args=beam_args, max_bytes=max_bytes, buckets=buckets,
                      keep_rejects=keep_rejects, max_error_rate=max_error_rate,
                      allow_empty=allow_empty)
