"""ArXiv papers as steps: PDF-only submissions dropped, the LaTeX cleaned (LLaMA §2.1; see
:func:`llama_data.text.latex.clean_paper`), papers without any section dropped."""

from __future__ import annotations

import dataclasses

from llama_data.document import Document
from llama_data.filters import FilterResult, Step
from llama_data.text.latex import SECTION, clean_paper


@dataclasses.dataclass(frozen=True)
class NotPdfOnly:
    """A PDF-only submission has no LaTeX to read (the reader flags it, a decision, not bad
    input)."""

    name: str = "arxiv"

    def filter(self, doc: Document) -> FilterResult:
        return (False, "pdf_only") if doc.meta.get("pdf_only") else True


@dataclasses.dataclass(frozen=True)
class CleanLatex:
    """The paper's text cleaned; what macro expansion did goes into the meta, so that a paper
    stopped by a cap can be found."""

    drop_appendix: bool = False
    name: str = "clean_latex"

    def map(self, doc: Document) -> Document:
        result = clean_paper(doc.text, self.drop_appendix)
        return doc.replace(text=result.text, meta={
            **doc.meta, "macros_expanded": result.stats.expanded,
            "macros_unexpanded": result.stats.unexpanded,
            "expansion_stopped": result.stats.stopped_reason})


@dataclasses.dataclass(frozen=True)
class HasSection:
    """After cleaning, a paper's text starts at its first section; one without (a letter, plain
    TeX, a paper with no .tex file) has nothing LLaMA kept."""

    name: str = "arxiv"

    def filter(self, doc: Document) -> FilterResult:
        return True if SECTION.match(doc.text) else (False, "no_section")


def arxiv_steps(drop_appendix: bool = False) -> list[Step]:
    return [NotPdfOnly(), CleanLatex(drop_appendix), HasSection()]
