"""The step contract: every processing step either rewrites a document or judges it.

A *filter* returns ``True`` to keep a document or ``(False, reason)`` to drop it (datatrove's contract),
so that the funnel is counted in one place and rejected documents can be kept for inspection.
A *mapper* returns a changed document (cleaning, annotation). Both are small, pure and typed; the
Beam layer only wraps :func:`run_steps` and counts what it reports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from llama_data.document import Document

FilterResult = Literal[True] | tuple[Literal[False], str]


@runtime_checkable
class Filter(Protocol):
    name: str

    def filter(self, doc: Document) -> FilterResult: ...


@runtime_checkable
class Mapper(Protocol):
    name: str

    def map(self, doc: Document) -> Document: ...


Step = Filter | Mapper


@dataclasses.dataclass(frozen=True)
class Rejected:
    """A dropped document and the qualified reason, ``"<step>:<reason>"``."""

    doc: Document
    reason: str


def run_steps(doc: Document, steps: Sequence[Step]) -> Document | Rejected:
    """Apply ``steps`` in order; stop at the first filter that drops the document."""
    for step in steps:
        # hasattr, not isinstance(step, Filter): a runtime Protocol check costs more than most steps
        if hasattr(step, "filter"):
            verdict = step.filter(doc)
            if verdict is not True:
                return Rejected(doc, f"{step.name}:{verdict[1]}")
        else:
            doc = step.map(doc)
    return doc


@dataclasses.dataclass(frozen=True)
class MinWords:
    """Drop empty and near-empty documents (stubs, pages whose text was all markup)."""

    min_words: int = 20
    name: str = "min_words"

    def filter(self, doc: Document) -> FilterResult:
        words = len(doc.text.split())
        if words == 0:
            return False, "empty"
        if words < self.min_words:
            return False, "too_short"
        return True
