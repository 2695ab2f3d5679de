"""CCNet's line-level dedup over a whole Beam job: two streaming reads, only hashes shuffled.

A line whose hash (:func:`llama_data.text.ccnet.line_hash`) occurs more than once in its scope is
a duplicate. With ``keep="none"`` (CCNet's rule, what the LLaMA paper used) it is removed from
every document, its first copy included; with ``keep="first"`` exactly one copy stays, the
occurrence with the smallest ``(document id, line index)``, so the result does not depend on the
order in which workers see the documents. Blank lines never take part
(:func:`llama_data.text.ccnet.hashed_lines`).

The scope is the whole job (``"job"``) or, as CCNet does it, groups of input files
(``"groups:N"``: the inputs in the order given, cut into groups of N consecutive files; a line is a
duplicate if it occurs more than once in its group). CCNet (``cc_net/mine.py``) hashes each of a
dump's 1,600 shards, then deduplicates each shard against the hashes of its group of
``hash_in_mem`` (50) consecutive shards, which is what bounds the memory of one of its processes.

The graph, on the input paths::

    pass 1: paths -> read -> (scope group + hash, tally) per line -> CombinePerKey(tally)
            -> hashes seen twice or more (+ the smallest occurrence) -> compact tables per group
    pass 2: paths -> read (counted) -> lines removed with the tables as a side input -> documents

Why two reads rather than a join: documents are never shuffled nor held. Pass 1 shuffles only
(hash, tally) pairs, and the tally is combined before the shuffle (Beam lifts the combiner into
each bundle), so a line that occurs in millions of pages (a cookie banner) reaches the shuffle
once per bundle, not once per page: hot keys cost nothing and need no fan-out. Pass 2 joins the
documents with the duplicated hashes through a side input, a sorted array of 8 bytes per
duplicated hash (20 with ``keep="first"``: the winner's id hash and line index), held per worker
and built once per scope group. A join keyed by hash would shuffle every line occurrence and then
the documents (by id) to put them back together; a side input fed from the documents themselves
would make Beam's local runner hold every document until the side input is ready. Reading twice
costs a second decompression and parse of the input (fast next to language ID and perplexity); a
remote input is downloaded twice.

Pass 1 reads without counting; pass 2 is the job's counted read (``read``, ``unreadable/*``), so
the funnel balances. Every document comes out (a document whose lines were all duplicates is
counted as emptied and passed on, for a later filter to drop with a reason);
``meta["dedup_lines_removed"]`` says how many of its lines went. Document ids must be unique
(they are: source + original id); with ``keep="first"`` two documents that share an id (a file
given twice) both keep the line they share.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence

import apache_beam as beam
import numpy as np

from llama_data.document import Document
from llama_data.text.ccnet import BYTE_ORDER, HASH_BYTES, hashed_lines, remove_lines, split_lines

from .common import ReadFn, Reader, bucket_of
from .config import JOB, group_size

KEEP_CHOICES = ("none", "first")
CHUNK = 1 << 16  # duplicated hashes per side-input element

Occurrence = tuple[str, int]  # (document id, line index)
Tally = tuple[int, Occurrence | None]  # (occurrences, counted up to 2; the smallest one)


def groups_of(inputs: Sequence[str], scope: str) -> dict[str, int]:
    """Each input file's scope group: its position in ``inputs`` // N (0 for the whole job)."""
    size = group_size(scope)
    groups: dict[str, int] = {}
    for position, path in enumerate(inputs):
        groups.setdefault(path, 0 if size is None else position // size)
    return groups


def _smaller(a: Occurrence | None, b: Occurrence | None) -> Occurrence | None:
    return b if a is None or (b is not None and b < a) else a


class TallyLines(beam.CombineFn):
    """Occurrences of one line hash, counted up to 2 (all dedup needs), and, with keep=first, the
    smallest (doc id, line index). Tiny accumulators, merged in any order to the same result."""

    def create_accumulator(self) -> Tally:
        return 0, None

    def add_input(self, tally: Tally, occurrence: Occurrence | None) -> Tally:
        return min(tally[0] + 1, 2), _smaller(tally[1], occurrence)

    def merge_accumulators(self, tallies: Iterable[Tally]) -> Tally:
        count, first = 0, None
        for n, occurrence in tallies:
            count, first = min(count + n, 2), _smaller(first, occurrence)
        return count, first

    def extract_output(self, tally: Tally) -> Tally:
        return tally


class _HashLinesFn(beam.DoFn):
    """Pass 1: one input file -> ((group, hash), occurrence or None) per non-blank line. Reading
    errors are left to pass 2, which counts them."""

    def __init__(self, reader: Reader, groups: dict[str, int], keep: str):
        self._reader, self._groups, self._first = reader, groups, keep == "first"

    def process(self, path: str) -> Iterator[tuple[bytes, Occurrence | None]]:
        prefix = self._groups[path].to_bytes(4, "big")
        for doc in self._reader(path):
            if isinstance(doc, Document):
                for index, h in hashed_lines(doc.text):
                    yield (prefix + h.to_bytes(HASH_BYTES, BYTE_ORDER),
                           (doc.id, index) if self._first else None)


def _id_key(doc_id: str) -> int:
    """A document id as 64 bits, to name a first occurrence in the compact table."""
    return bucket_of(doc_id, 1 << 64)


def _chunks(batch: list[tuple[bytes, Tally]]) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
    """Duplicated hashes -> (group, (hashes, first doc keys, first line indices)) arrays."""
    by_group: dict[int, list[tuple[bytes, Tally]]] = {}
    for key, tally in batch:
        by_group.setdefault(int.from_bytes(key[:4], "big"), []).append((key, tally))
    for group, items in sorted(by_group.items()):
        hashes = np.array([int.from_bytes(k[4:], BYTE_ORDER) for k, _ in items], dtype=np.uint64)
        firsts = [first for _, (_, first) in items]
        if firsts[0] is None:
            yield group, (hashes,)
            continue
        docs = np.array([_id_key(doc_id) for doc_id, _ in firsts], dtype=np.uint64)
        lines = np.array([line for _, line in firsts], dtype=np.uint32)
        yield group, (hashes, docs, lines)


@dataclasses.dataclass(frozen=True)
class _Table:
    """One scope group's duplicated hashes, sorted, with their first occurrences if kept."""

    hashes: np.ndarray
    first_docs: np.ndarray | None = None
    first_lines: np.ndarray | None = None

    @classmethod
    def of(cls, chunks: Iterable[tuple[np.ndarray, ...]]) -> _Table:
        columns = list(zip(*chunks))
        if not columns:
            return cls(np.empty(0, dtype=np.uint64))
        merged = [np.concatenate(column) for column in columns]
        order = np.argsort(merged[0], kind="stable")
        return cls(*(column[order] for column in merged))

    def removals(self, doc_id: str, hashed: list[tuple[int, int]]) -> set[int]:
        """Line indices of a document to remove, given its (line index, hash) pairs."""
        if not hashed or not len(self.hashes):
            return set()
        wanted = np.fromiter((h for _, h in hashed), dtype=np.uint64, count=len(hashed))
        at = np.minimum(np.searchsorted(self.hashes, wanted), len(self.hashes) - 1)
        found = self.hashes[at] == wanted
        if self.first_docs is None:
            return {index for (index, _), hit in zip(hashed, found) if hit}
        own = _id_key(doc_id)
        return {index for (index, _), hit, i in zip(hashed, found, at)
                if hit and not (self.first_docs[i] == own and self.first_lines[i] == index)}


class _ReadWithoutDuplicatesFn(ReadFn):
    """Pass 2: the job's counted read, each document without its duplicated lines."""

    def __init__(self, source: str, reader: Reader, groups: dict[str, int]):
        super().__init__(source, reader)
        self._groups = groups

    def setup(self):
        super().setup()
        self._table: tuple[int, _Table] | None = None  # the last group's, built once

    def _table_of(self, group: int, tables) -> _Table:
        # The job has one (global) window, so a group's table is the same for every bundle.
        if self._table is None or self._table[0] != group:
            self._table = None  # let the previous group's arrays go first
            self._table = group, _Table.of(tables[group])
        return self._table[1]

    def process(self, path: str, tables):
        table = self._table_of(self._groups[path], tables)
        for item in super().process(path):
            yield self._dedup(item, table) if isinstance(item, Document) else item

    def _dedup(self, doc: Document, table: _Table) -> Document:
        drop = table.removals(doc.id, hashed_lines(doc.text))
        self._count.inc("dedup/lines_seen", len(split_lines(doc.text)))
        text = remove_lines(doc.text, drop)
        if drop:
            self._count.inc("dedup/lines_removed", len(drop))
            self._count.inc("dedup/chars_removed", len(doc.text) - len(text))
            if not text.strip():
                self._count.inc("dedup/documents_emptied")
        return doc.replace(text=text, meta={**doc.meta, "dedup_lines_removed": len(drop)})


class ReadDeduplicated(beam.PTransform):
    """Input paths -> the job's documents without their duplicated lines (main output ``docs``)
    and its reading errors (``ReadFn.ERRORS``), as :class:`pipelines.common.ReadFn` gives them.

    Counters, in the namespace ``llama_data.<source>``: ReadFn's, and ``dedup/lines_seen`` (lines
    of the documents, blank ones included), ``dedup/lines_removed``, ``dedup/chars_removed``
    (text length before minus after, line separators included) and ``dedup/documents_emptied``
    (documents left with no non-blank line by dedup).
    """

    def __init__(self, source: str, reader: Reader, inputs: Sequence[str], keep: str = "none",
                 scope: str = JOB):
        super().__init__()
        if keep not in KEEP_CHOICES:
            raise ValueError(f"keep must be one of {KEEP_CHOICES}, not {keep!r}")
        self._source, self._reader, self._keep = source, reader, keep
        self._groups = groups_of(inputs, scope)

    def expand(self, paths):
        tables = (
            paths
            | "HashLines" >> beam.ParDo(_HashLinesFn(self._reader, self._groups, self._keep))
            | "Tally" >> beam.CombinePerKey(TallyLines())
            | "Duplicated" >> beam.Filter(lambda kv: kv[1][0] > 1)
            | "Batch" >> beam.BatchElements(min_batch_size=CHUNK, max_batch_size=CHUNK)
            | "Tables" >> beam.FlatMap(_chunks)
        )
        return paths | "ReadDeduplicated" >> beam.ParDo(
            _ReadWithoutDuplicatesFn(self._source, self._reader, self._groups),
            beam.pvalue.AsMultiMap(tables)).with_outputs(ReadFn.ERRORS, main="docs")
