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

The same two passes deduplicate whole documents (``unit=DOCUMENTS``, the released C4's exact
dedup): one hash per document, of its normalised text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence

import apache_beam as beam
import numpy as np

from llama_data.document import Document
from llama_data.filters import FilterResult
from llama_data.hashing import sha1_int
from llama_data.text.ccnet import hashed_lines, normalize_text, remove_lines, split_lines

from .common import Reader, ReadFn, _Counter
from .config import JOB, group_size

KEEP_CHOICES = ("none", "first")


def groups_of(inputs: Sequence[str], scope: str) -> dict[str, int]:
    """Each input file's scope group: its position in ``inputs`` // N (0 for the whole job)."""
    size = group_size(scope)
    groups: dict[str, int] = {}
    for position, path in enumerate(inputs):
        groups.setdefault(path, 0 if size is None else position // size)
    return groups


@dataclasses.dataclass(frozen=True)
class LineHashes:
    """Distinct line hashes of some input, sorted: occurrences of each (counted up to 2, all dedup
    needs) and, with keep=first, the smallest (document id, line index) of each. Arrays: 9 bytes
    a distinct line, plus the id and index with keep=first."""

    hashes: np.ndarray  # uint64
    counts: np.ndarray  # uint8
    first_ids: np.ndarray | None = None  # bytes (UTF-8 ids sort as the strings do)
    first_lines: np.ndarray | None = None  # uint32

    @classmethod
    def of(cls, hashes: np.ndarray, counts: np.ndarray, ids: np.ndarray | None = None,
           lines: np.ndarray | None = None) -> LineHashes:
        """Occurrences in any order -> one row per distinct hash (the same for any order)."""
        order = (np.argsort(hashes, kind="stable") if ids is None
                 else np.lexsort((lines, ids, hashes)))
        hashes = hashes[order]
        starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]]) if len(hashes) \
            else np.empty(0, dtype=np.intp)
        total = (np.minimum(np.add.reduceat(counts[order].astype(np.uint32), starts), 2)
                 if len(starts) else np.empty(0)).astype(np.uint8)
        if ids is None:
            return cls(hashes[starts], total)
        return cls(hashes[starts], total, ids[order][starts], lines[order][starts])

    @classmethod
    def merge(cls, parts: Iterable[LineHashes]) -> LineHashes:
        columns = [np.concatenate(column) for column in zip(*(
            [p.hashes, p.counts] + ([p.first_ids, p.first_lines] if p.first_ids is not None
                                    else []) for p in parts))]
        return cls.of(*columns) if columns else cls(np.empty(0, np.uint64), np.empty(0, np.uint8))

    def duplicated(self) -> LineHashes:
        """The hashes that occur more than once."""
        keep = self.counts > 1
        return LineHashes(*(column[keep] for column in dataclasses.astuple(self)
                            if column is not None))

    def removals(self, doc_id: str, hashed: list[tuple[int, int]]) -> set[int]:
        """Line indices of a document to remove, given its (line index, hash) pairs, with this
        table of duplicated hashes: each of them, but its first occurrence with keep=first."""
        if not hashed or not len(self.hashes):
            return set()
        wanted = np.fromiter((h for _, h in hashed), dtype=np.uint64, count=len(hashed))
        at = np.minimum(np.searchsorted(self.hashes, wanted), len(self.hashes) - 1)
        found = self.hashes[at] == wanted
        if self.first_ids is None:
            return {index for (index, _), hit in zip(hashed, found) if hit}
        own = doc_id.encode("utf-8")
        return {index for (index, _), hit, i in zip(hashed, found, at)
                if hit and not (self.first_ids[i] == own and self.first_lines[i] == index)}


class Lines:
    """CCNet's unit: a document's non-blank lines; the duplicated ones are removed from it."""

    @staticmethod
    def hashed(doc: Document) -> list[tuple[int, int]]:
        return hashed_lines(doc.text)

    @staticmethod
    def apply(doc: Document, drop: set[int], count: _Counter) -> Document:
        text = remove_lines(doc.text, drop)
        count.inc("dedup/lines_seen", len(split_lines(doc.text)))
        if drop:
            count.inc("dedup/lines_removed", len(drop))
            count.inc("dedup/chars_removed", len(doc.text) - len(text))
            if not text.strip():
                count.inc("dedup/documents_emptied")
        return doc.replace(text=text, meta={**doc.meta, "dedup_lines_removed": len(drop)})


def text_hash(text: str) -> int:
    """A whole text's hash, the same for texts equal after CCNet's normalisation (case, accents,
    digits, punctuation) and with their runs of white space (line breaks too) made one space."""
    return sha1_int(" ".join(normalize_text(text).split()))


class Documents:
    """Exact document dedup: a document is one unit, hashed whole (:func:`text_hash`). A
    duplicate is marked (``meta["exact_duplicate"]``), for :class:`DropExactDuplicates` to drop
    with a reason among the steps (counted in the funnel, kept with --keep-rejects)."""

    @staticmethod
    def hashed(doc: Document) -> list[tuple[int, int]]:
        return [(0, text_hash(doc.text))]

    @staticmethod
    def apply(doc: Document, drop: set[int], count: _Counter) -> Document:
        return doc.replace(meta={**doc.meta, "exact_duplicate": True}) if drop else doc


@dataclasses.dataclass(frozen=True)
class DropExactDuplicates:
    """The step that drops what :class:`Documents` dedup marked as a duplicate."""

    name: str = "exact_dedup"

    def filter(self, doc: Document) -> FilterResult:
        return (False, "duplicate") if doc.meta.get("exact_duplicate") else True


Unit = Lines | Documents
LINES, DOCUMENTS = Lines(), Documents()


class _HashLinesFn(beam.DoFn):
    """Pass 1: one input file -> (its scope group, the file's LineHashes) of its units' hashes.
    Reading errors are left to pass 2, which counts them."""

    def __init__(self, reader: Reader, groups: dict[str, int], keep: str, unit: Unit):
        self._reader, self._groups, self._first = reader, groups, keep == "first"
        self._unit = unit

    def process(self, path: str) -> Iterator[tuple[int, LineHashes]]:
        hashes: list[int] = []
        ids: list[bytes] = []
        lines: list[int] = []
        for doc in self._reader(path):
            if isinstance(doc, Document):
                hashed = self._unit.hashed(doc)
                hashes += (h for _, h in hashed)
                if self._first:
                    ids += [doc.id.encode("utf-8")] * len(hashed)
                    lines += (index for index, _ in hashed)
        found = np.array(hashes, dtype=np.uint64)
        ones = np.ones(len(found), dtype=np.uint8)
        yield self._groups[path], (LineHashes.of(found, ones, np.array(ids, dtype=bytes),
                                                 np.array(lines, dtype=np.uint32))
                                   if self._first else LineHashes.of(found, ones))


class _ReadWithoutDuplicatesFn(ReadFn):
    """Pass 2: the job's counted read, each document without its duplicated units."""

    def __init__(self, source: str, reader: Reader, groups: dict[str, int], unit: Unit):
        super().__init__(source, reader)
        self._groups, self._unit = groups, unit

    def process(self, path: str, tables: dict[int, LineHashes]):
        table = tables[self._groups[path]]
        for item in super().process(path):
            yield self._dedup(item, table) if isinstance(item, Document) else item

    def _dedup(self, doc: Document, table: LineHashes) -> Document:
        return self._unit.apply(doc, table.removals(doc.id, self._unit.hashed(doc)), self._count)


class ReadDeduplicated(beam.PTransform):
    """Input paths -> the job's documents without their duplicated lines (main output ``docs``)
    and its reading errors (``ReadFn.ERRORS``), as :class:`pipelines.common.ReadFn` gives them.
    With ``unit=DOCUMENTS`` the unit is the whole document instead (exact dedup): duplicates are
    passed on marked, for the step :class:`DropExactDuplicates`.

    Counters, in the namespace ``llama_data.<source>``: ReadFn's, and ``dedup/lines_seen`` (lines
    of the documents, blank ones included), ``dedup/lines_removed``, ``dedup/chars_removed``
    (text length before minus after, line separators included) and ``dedup/documents_emptied``
    (documents left with no non-blank line by dedup).
    """

    def __init__(self, source: str, reader: Reader, inputs: Sequence[str], keep: str = "none",
                 scope: str = JOB, unit: Unit = LINES):
        super().__init__()
        if keep not in KEEP_CHOICES:
            raise ValueError(f"keep must be one of {KEEP_CHOICES}, not {keep!r}")
        self._source, self._reader, self._keep = source, reader, keep
        self._groups, self._unit = groups_of(inputs, scope), unit

    def expand(self, paths):
        tables = (
            paths
            | "HashLines" >> beam.ParDo(
                _HashLinesFn(self._reader, self._groups, self._keep, self._unit))
            | "ByGroup" >> beam.GroupByKey()
            | "Duplicated" >> beam.MapTuple(
                lambda group, parts: (group, LineHashes.merge(parts).duplicated()))
        )
        return paths | "ReadDeduplicated" >> beam.ParDo(
            _ReadWithoutDuplicatesFn(self._source, self._reader, self._groups, self._unit),
            beam.pvalue.AsDict(tables)).with_outputs(ReadFn.ERRORS, main="docs")


def deduplicated_read(source: str, reader: Reader, keep: str = "none", scope: str = JOB,
                      unit: Unit = LINES):
    """A ``SourceSpec.read`` that reads through :class:`ReadDeduplicated`."""
    return lambda inputs, _scratch: ReadDeduplicated(source, reader, inputs, keep, scope, unit)
