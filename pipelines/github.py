"""GitHub: repositories (folders, tarballs, zips) or the BigQuery ``github_repos`` export ->
licence-filtered, cleaned code files, each exact copy kept once.

    read:  RepositoryReader (the licence from LICENSE/COPYING/README, ScanCode's matcher) or
           BigQueryReader (the dataset's licence column), one record per file
    steps: code_steps (licence, text, extension, generated/minified, licence header stripped,
           RedPajama's thresholds, language) -> DropExactDuplicates

The exact file dedup is the two reads of ``pipelines/dedup.py`` with :class:`CodeFiles` as the
unit: pass 1 runs the (pure) pre-dedup steps on every file and hashes the content of those they
keep, after the header strip; pass 2 marks each file whose hash an earlier file (the smallest
id) holds, for ``DropExactDuplicates``. A file the steps drop claims no hash, so a copy under
a refused licence never wins over one under an allowed licence.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Sequence

from llama_data.document import Document
from llama_data.filters import Rejected, Step, run_steps
from llama_data.io import expand_inputs
from llama_data.manifest import SourceEntry
from llama_data.quality.code import CodeThresholds, code_steps, content_hash
from llama_data.sources.github import SOURCE, ArchiveLimits, read_github

from . import common
from .config import GitHubConfig
from .dedup import Documents, DropExactDuplicates, deduplicated_read


@dataclasses.dataclass(frozen=True)
class CodeFiles(Documents):
    """The dedup unit of GitHub: a file's content once the pre-dedup steps have run (nothing for
    a file they drop)."""

    cleaning: tuple[Step, ...]

    def hashed(self, doc: Document) -> list[tuple[int, int]]:
        cleaned = run_steps(doc, self.cleaning)
        return [] if isinstance(cleaned, Rejected) else [(0, content_hash(cleaned.text))]


def steps(licenses: Collection[str], thresholds: CodeThresholds,
          tokenizer: str | None) -> list[Step]:
    """Built once per worker."""
    return [*code_steps(frozenset(licenses), thresholds, tokenizer), DropExactDuplicates()]


def spec(licenses: Collection[str], thresholds: CodeThresholds, tokenizer: str | None,
         fmt: str, limits: ArchiveLimits) -> common.SourceSpec:
    """Files stream from their repository to the shards (a job is many repositories)."""
    reader = functools.partial(read_github, fmt=fmt, limits=limits)
    cleaning = tuple(code_steps(frozenset(licenses), thresholds, tokenizer))
    return common.SourceSpec(
        name=SOURCE, reader=reader,
        steps=functools.partial(steps, tuple(sorted(licenses)), thresholds, tokenizer),
        read=deduplicated_read(SOURCE, reader, keep="first", unit=CodeFiles(cleaning)),
        spread=False)


def run(config: GitHubConfig, beam_args: Sequence[str] = (),
        inputs: Sequence[str] | None = None) -> SourceEntry:
    """Run the job ``config`` describes into its release."""
    inputs = expand_inputs(config.input, folders=True) if inputs is None else list(inputs)
    limits = ArchiveLimits(max_files=config.max_files, max_file_bytes=config.max_file_size,
                           max_expanded_bytes=config.max_expanded_size)
    record = {"inputs": list(inputs), "format": config.fmt, "licenses": sorted(config.licenses),
              "tokenizer": config.tokenizer, "limits": dataclasses.asdict(limits),
              "thresholds": dataclasses.asdict(CodeThresholds()),
              "dedup": "exact files after the licence header strip, one copy kept (smallest id)",
              "keep_rejects": config.keep_rejects}
    return common.run(spec(config.licenses, CodeThresholds(), config.tokenizer, config.fmt,
                           limits), inputs, config.output, config=record, beam_args=beam_args,
                      **config.run_options())
