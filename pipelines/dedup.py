"""CCNet's line-level dedup over a whole Beam job, as keyed groupings (no set of the whole input).

A line whose hash (:func:`llama_data.text.ccnet.line_hash`) occurs more than once in the
PCollection is a duplicate. With ``keep="none"`` (CCNet's rule, what the LLaMA paper used) it is
removed from every document, its first copy included; with ``keep="first"`` exactly one copy
stays, the occurrence with the smallest ``(document id, line index)``, so the result does not
depend on the order in which workers see the documents. Blank lines never take part
(:func:`llama_data.text.ccnet.hashed_lines`).

The graph::

    docs -> (hash, (doc id, line index)) per line -> GroupByKey(hash)
         -> (doc id, line index) of each occurrence to remove
    {(doc id, doc), (doc id, line index)} -> CoGroupByKey(doc id) -> document without those lines

Every document comes out (a document whose lines were all duplicates is counted as emptied and
passed on, for a later filter to drop with a reason); ``meta["dedup_lines_removed"]`` says how many
of its lines went. Document ids must be unique in the PCollection (they are: source + original
id); documents that share an id are passed on unchanged and counted as ``dedup/duplicate_ids``,
since their line indices cannot be told apart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import apache_beam as beam

from llama_data.document import Document
from llama_data.text.ccnet import BYTE_ORDER, HASH_BYTES, hashed_lines, remove_lines, split_lines

from .common import _Counter

log = logging.getLogger("llama_data.pipelines")

KEEP_CHOICES = ("none", "first")

Occurrence = tuple[str, int]  # (document id, line index)


def _line_keys(doc: Document) -> Iterator[tuple[bytes, Occurrence]]:
    # The hash as its 8 bytes: a compact, deterministic key (ints above 2**63 would not varint).
    for index, h in hashed_lines(doc.text):
        yield h.to_bytes(HASH_BYTES, BYTE_ORDER), (doc.id, index)


def _removals(element: tuple[bytes, Iterable[Occurrence]], keep: str) -> Iterator[Occurrence]:
    """The occurrences of one hash to remove: all if it occurs more than once (``keep="none"``),
    or all but the smallest (``keep="first"``). Streams the group; ``first`` reads it twice."""
    _, occurrences = element
    it = iter(occurrences)
    first = next(it, None)
    second = next(it, None)
    if second is None:
        return
    if keep == "none":
        yield first
        yield second
        yield from it
        return
    smallest = min(occurrences)
    skipped = False
    for occurrence in occurrences:
        if not skipped and occurrence == smallest:
            skipped = True
            continue
        yield occurrence


class _RemoveLinesFn(beam.DoFn):
    """One document id with its document(s) and the line indices to drop -> the document."""

    def __init__(self, source: str):
        self._source = source

    def setup(self):
        self._count = _Counter(self._source)

    def process(self, element):
        doc_id, grouped = element
        docs = list(grouped["doc"])
        if len(docs) != 1:
            if docs:
                self._count.inc("dedup/duplicate_ids", len(docs))
                log.warning("dedup: %d documents share the id %r; passed on unchanged",
                            len(docs), doc_id)
            for doc in docs:
                self._count.inc("dedup/lines_seen", len(split_lines(doc.text)))
                yield doc.replace(meta={**doc.meta, "dedup_lines_removed": 0})
            return
        doc = docs[0]
        drop = set(grouped["drop"])
        self._count.inc("dedup/lines_seen", len(split_lines(doc.text)))
        text = remove_lines(doc.text, drop)
        if drop:
            self._count.inc("dedup/lines_removed", len(drop))
            self._count.inc("dedup/chars_removed", len(doc.text) - len(text))
            if not text.strip():
                self._count.inc("dedup/documents_emptied")
        yield doc.replace(text=text, meta={**doc.meta, "dedup_lines_removed": len(drop)})


class DeduplicateLines(beam.PTransform):
    """Documents -> the same documents without their duplicated lines (see the module doc).

    Counters, in the namespace ``llama_data.<source>``: ``dedup/lines_seen`` (lines of the
    documents, blank ones included), ``dedup/lines_removed``, ``dedup/chars_removed`` (text length
    before minus after, line separators included), ``dedup/documents_emptied`` (documents left
    with no non-blank line by dedup) and, if any, ``dedup/duplicate_ids``.
    """

    def __init__(self, source: str, keep: str = "none"):
        super().__init__()
        if keep not in KEEP_CHOICES:
            raise ValueError(f"keep must be one of {KEEP_CHOICES}, not {keep!r}")
        self._source = source
        self._keep = keep

    def expand(self, docs):
        keyed = docs | "KeyById" >> beam.Map(lambda d: (d.id, d))
        drops = (
            docs
            | "LineHashes" >> beam.FlatMap(_line_keys).with_output_types(
                tuple[bytes, tuple[str, int]])
            | "GroupByHash" >> beam.GroupByKey()
            | "Duplicates" >> beam.FlatMap(_removals, self._keep).with_output_types(
                tuple[str, int])
        )
        return (
            {"doc": keyed, "drop": drops}
            | "JoinById" >> beam.CoGroupByKey()
            | "RemoveLines" >> beam.ParDo(_RemoveLinesFn(self._source))
        )
