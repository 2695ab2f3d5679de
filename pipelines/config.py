"""The settings of each source's job (``llama-data prepare SOURCE``), one dataclass per source.

Beam-free on purpose: the CLI builds its options from these classes without importing Beam.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from llama_data.config import setting
from llama_data.quality.code import LLAMA_LICENSES, parse_licenses
from llama_data.quality.langid import CCNET_THRESHOLD
from llama_data.quality.reference import REF_THRESHOLD
from llama_data.shards import DEFAULT_SHARD_BYTES
from llama_data.sources.wikipedia import PAPER_LANGUAGES
from llama_data.units import format_size, parse_size


def languages(text: str) -> tuple[str, ...] | None:
    """``"en,de fr"`` -> ``("de", "en", "fr")``; ``"all"`` -> None (any language)."""
    if text.strip().lower() == "all":
        return None
    return tuple(sorted({code for code in re.split(r"[,\s]+", text.strip()) if code}))


def names(text: str) -> tuple[str, ...]:
    """``"head,middle"`` -> ``("head", "middle")``."""
    return tuple(name for name in re.split(r"[,\s]+", text.strip()) if name)


JOB = "job"  # the dedup scope of the whole job


def group_size(scope: str) -> int | None:
    """A line dedup scope: ``"job"`` -> None; ``"groups:N"`` (CCNet's) -> N input files a group."""
    if scope == JOB:
        return None
    kind, _, size = scope.partition(":")
    if kind != "groups" or not size.isdigit() or int(size) < 1:
        raise ValueError(f"dedup scope must be 'job' or 'groups:N' with N >= 1, not {scope!r}")
    return int(size)


def dedup_scope(text: str) -> str:
    """``--dedup-scope``, checked before any job starts."""
    group_size(text)
    return text


@dataclasses.dataclass(frozen=True)
class PrepareConfig:
    """What every source's job takes."""

    input: Sequence[str] = setting(
        help_text="files, globs or fsspec URLs: several at once (a shell's expanded glob) and "
                  "repeatable", metavar="PATH", nargs="+", action="extend")
    output: str = setting(help_text="release folder", metavar="RELEASE")
    shard_size: int = setting(DEFAULT_SHARD_BYTES, "largest shard, in bytes of text (KiB, MiB, "
                              "GiB; MB means MiB)", type=parse_size,
                              default_text=format_size(DEFAULT_SHARD_BYTES))
    num_shards: int | None = setting(None, "hash buckets of documents",
                                     default_text="from the input size")
    keep_rejects: bool = setting(False, "also write dropped documents, with their reason, to "
                                        "RELEASE/rejects/")
    max_error_rate: float = setting(0.01, "fail the job when more than this share of the "
                                          "records read is unreadable or fails a step")
    allow_empty: bool = setting(False, "accept a job that keeps no document of those it read")

    def run_options(self) -> dict[str, Any]:
        """The keyword arguments of ``pipelines.common.run`` these settings give: the one place
        where they are passed on."""
        return {"max_bytes": self.shard_size, "buckets": self.num_shards,
                "keep_rejects": self.keep_rejects, "max_error_rate": self.max_error_rate,
                "allow_empty": self.allow_empty}


@dataclasses.dataclass(frozen=True)
class WikipediaConfig(PrepareConfig):
    """MediaWiki XML dumps -> article text."""

    languages: tuple[str, ...] | None = setting(
        tuple(PAPER_LANGUAGES), "languages to accept, comma-separated, or 'all' (the default is "
                                "the paper's 20)", type=languages)
    min_words: int = setting(20, "drop articles with fewer words after cleaning")


@dataclasses.dataclass(frozen=True)
class LanguageIdConfig(PrepareConfig):
    """The fastText language ID of the web sources (CommonCrawl, C4): CCNet's model and rule."""

    languages: tuple[str, ...] | None = setting(
        ("en",), "languages to keep, comma-separated, or 'all' (en: as LLaMA)", type=languages)
    lang_threshold: float = setting(CCNET_THRESHOLD, "lowest language score kept (CCNet's)")
    lid_model: str | None = setting(None, "fastText language-ID model", metavar="PATH",
                                    default_text="lid.176.ftz")


@dataclasses.dataclass(frozen=True)
class CommonCrawlConfig(LanguageIdConfig):
    """WET/WARC -> CCNet's line dedup and language ID, then (with models) perplexity buckets and
    the Wikipedia-reference classifier."""

    fmt: str = setting("auto", "input format", flag="--format", choices=["auto", "wet", "warc"])
    dedup_keep: str = setting("none", "a repeated line: removed everywhere (none, CCNet's rule) "
                                      "or kept once (first, the TFDS C4 way)",
                              choices=["none", "first"])
    dedup_scope: str = setting(JOB, "where a line counts as repeated: in the whole job (job) "
                                      "or within each of N groups of hash shards (groups:N, "
                                      "CCNet's)", metavar="job|groups:N",
                               type=dedup_scope)
    base_url: str = setting("https://data.commoncrawl.org/",
                            "prefix of the relative paths in a *.paths.gz list")
    lm_dir: str | None = setting(None, "folder of {lang}.sp.model + {lang}.arpa.bin (llama-data "
                                       "train-lm, or CCNet's): score perplexity and keep "
                                       "--buckets", metavar="DIR")
    cutoffs: str | Mapping[str, tuple[float, float]] = setting(
        "auto", "perplexity cut-offs per language: the 30th/60th percentiles of this job's "
                "perplexities (auto), CCNet's published ones (ccnet, with CCNet's models), or a "
                "JSON file {\"en\": [head, tail], ...}; library callers may pass that mapping",
        metavar="auto|ccnet|FILE")
    buckets: tuple[str, ...] = setting(("head", "middle"), "perplexity buckets to keep",
                                       type=names)
    ref_model: str | None = setting(None, "Wikipedia-reference classifier (llama-data "
                                          "train-classifier): score ref_score and drop pages "
                                          "under --ref-threshold", metavar="PATH")
    ref_threshold: float = setting(REF_THRESHOLD, "lowest reference score kept (RedPajama's)")


@dataclasses.dataclass(frozen=True)
class C4Config(LanguageIdConfig):
    """Released C4 JSON lines -> exact document dedup and language ID (LLaMA's steps on C4); or,
    ``--from commoncrawl``, C4 rebuilt from WET/WARC files by its rules, then language ID."""

    from_: str = setting("released", "what the inputs are: the released C4's JSON lines, or "
                                     "CommonCrawl WET/WARC files that C4's rules rebuild C4 from",
                         flag="--from", choices=["released", "commoncrawl"])
    fmt: str = setting("auto", "input format with --from commoncrawl", flag="--format",
                       choices=["auto", "wet", "warc"])
    lang_detector: str = setting("lid176", "language ID: fastText lid.176 (fast), or langdetect, "
                                           "the C4 reference's detector (about 20x slower)",
                                 choices=["lid176", "langdetect"])
    lang_threshold: float | None = setting(
        None, "lowest language score kept",
        default_text="0.5, CCNet's, on released C4; with --from commoncrawl the reference's "
                     "langdetect 0.99, or for lid.176 0.30, calibrated against it")



@dataclasses.dataclass(frozen=True)
class StackExchangeConfig(PrepareConfig):
    """Per-site ``.7z`` archives or extracted ``Posts.xml`` -> one document per question, its
    answers joined and sorted by score."""

    sites: tuple[str, ...] | None = setting(
        None, "sites to read, comma-separated (e.g. math.stackexchange.com,stackoverflow.com)",
        type=names, default_text="the --top-sites largest of the inputs")
    top_sites: int = setting(28, "without --sites, read the N largest sites of the inputs (by "
                                 "the size of their files; LLaMA took the 28 largest)")
    max_expansion: float = setting(100.0, "refuse a .7z whose Posts.xml expands past this many "
                                          "times the archive's size (a decompression bomb)")


def licenses(text: str) -> tuple[str, ...]:
    """``--licenses "MIT,Apache-2.0"``: SPDX ids, checked before any job starts."""
    return tuple(sorted(parse_licenses(text)))


@dataclasses.dataclass(frozen=True)
class GitHubConfig(PrepareConfig):
    """Repositories (folders, tarballs, zips) or the BigQuery export -> licence-filtered code
    files, licence headers stripped, each exact copy kept once."""

    fmt: str = setting("auto", "input format: repositories (folders, .tar[.gz|.bz2|.xz], .zip) "
                               "or the BigQuery export's JSON lines; auto tells them by name "
                               "(.jsonl/.json[.gz] are JSON lines)", flag="--format",
                       choices=["auto", "repository", "bigquery"])
    licenses: tuple[str, ...] = setting(
        tuple(sorted(LLAMA_LICENSES)),
        "SPDX ids of the licences to keep, comma-separated (LLaMA's: Apache, BSD, MIT)",
        type=licenses)
    tokenizer: str | None = setting(
        None, "SentencePiece model whose tokens count alphabetic characters per token (e.g. "
              "the release's tokenizer/tokenizer.model)", metavar="MODEL",
        default_text="a split into words, numbers and single symbols")
    max_file_size: int = setting(2**20, "a larger file is dropped unread (GitHub's BigQuery "
                                        "contents stop at 1 MiB)", type=parse_size,
                                 default_text="1MiB")
    max_files: int = setting(200_000, "an archive with more files is refused past that many "
                                      "(files before kept)")
    max_expanded_size: int = setting(4 * 2**30, "an archive that expands to more is refused "
                                                "past that point (a decompression bomb)",
                                     type=parse_size, default_text="4GiB")


@dataclasses.dataclass(frozen=True)
class BooksConfig(PrepareConfig):
    """Project Gutenberg books and Books3-style collections -> whole books, one copy of each
    work (books inside another at --overlap removed)."""

    collection: str = setting("auto", "what the inputs are: Project Gutenberg plain-text books "
                                      "(.txt, .txt.gz, .zip), or a Books3-style collection (a "
                                      "tarball or folder of .txt, or JSON lines); auto tells them "
                                      "by name", choices=["auto", "gutenberg", "books3"])
    overlap: float = setting(0.9, "a book is a near-duplicate when at least this share of its "
                                  "5-word shingles is in a longer book (LLaMA: 90%)")
    min_words: int = setting(1000, "drop a book with fewer words once its boilerplate is gone")


@dataclasses.dataclass(frozen=True)
class ArxivConfig(PrepareConfig):
    """arXiv's bulk LaTeX sources or paper folders -> one cleaned document per paper."""

    drop_appendix: bool = setting(False, "also remove the appendices (RedPajama did; LLaMA names "
                                         "only the bibliography)")
    max_files: int = setting(10_000, "an archive with more files is refused past that many")
    max_expanded_size: int = setting(2 * 2**30, "an archive that expands to more is refused "
                                                "past that point (a decompression bomb)",
                                     type=parse_size, default_text="2GiB")
