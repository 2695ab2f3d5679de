"""ArXiv: arXiv's bulk LaTeX sources (``arXiv_src_YYMM_NNN.tar``) or paper folders and archives
-> one cleaned document per paper.

    read:  BulkReader / PaperReader: one record per paper, its main file with its \\input and
           \\include files inlined (from the paper's own files only), raw LaTeX
    steps: NotPdfOnly -> CleanLatex (comments removed, user macros expanded, everything before the
           first sectioning command and from the bibliography on removed; --drop-appendix) ->
           HasSection

Papers stream from their archive to the shards (no shuffle of the raw papers, which the local
runner would hold in memory): the work is spread by input file, and arXiv's bulk sources are
thousands of archives of ~500 MB.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

from llama_data.io import expand_inputs
from llama_data.manifest import SourceEntry
from llama_data.quality.arxiv import arxiv_steps
from llama_data.sources.archives import ArchiveLimits
from llama_data.sources.arxiv import PAPER_LIMITS, SOURCE, read_arxiv

from . import common
from .config import ArxivConfig


def spec(drop_appendix: bool, limits: ArchiveLimits = PAPER_LIMITS) -> common.SourceSpec:
    return common.SourceSpec(
        name=SOURCE, reader=functools.partial(read_arxiv, limits=limits),
        steps=functools.partial(arxiv_steps, drop_appendix), spread=False)


def run(config: ArxivConfig, beam_args: Sequence[str] = (),
        inputs: Sequence[str] | None = None) -> SourceEntry:
    """Run the job ``config`` describes into its release."""
    inputs = expand_inputs(config.input, folders=True) if inputs is None else list(inputs)
    limits = dataclasses.replace(PAPER_LIMITS, max_files=config.max_files,
                                 max_expanded_bytes=config.max_expanded_size)
    record = {"inputs": list(inputs), "drop_appendix": config.drop_appendix,
              "limits": dataclasses.asdict(limits), "keep_rejects": config.keep_rejects,
              "cleaning": "comments, user macros expanded, before the first sectioning command "
                          "and from the bibliography on removed"
                          + (", appendices removed" if config.drop_appendix else "")}
    return common.run(spec(config.drop_appendix, limits), inputs, config.output, config=record,
                      beam_args=beam_args, **config.run_options())
