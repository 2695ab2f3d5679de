"""Books: Project Gutenberg and Books3-style collections -> whole books, one copy of each work.

LLaMA removed books "with more than 90% content overlap". Here that is containment: the share of
the smaller book's 5-word shingles found in the other, at least 0.9 (:mod:`llama_data.dedup.minhash`
says why not Jaccard, and how the LSH bands are chosen so that such pairs are retrieved). The
graph, on the input paths::

    pass 1: paths -> books -> pre-dedup steps (pure) -> MinHash signature -> (band key, book)
            -> GroupByKey(band key) -> candidate pairs (books that share a band) -> distinct
    pass 2: paths -> the candidates' books only (a side input of their ids) -> their shingles,
            one file each in the run's scratch folder -> each pair (once every file is
            written) verified from the two files: exact containment -> the pairs at >= 0.9 ->
            clusters closed transitively, one book kept per cluster (the longest, ties by the
            smallest id)
    pass 3: paths -> books (the counted read), each loser marked -> steps, which drop the
            marked books as ``near_dup:duplicate``

Only band keys and candidate pairs are shuffled, never the books nor their shingles (the local
runner holds what it shuffles in memory): a worker holds the two shingle sets of one pair. The
clusters are written into the manifest.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Iterable, Iterator, Sequence

import apache_beam as beam
import fsspec
import numpy as np

from llama_data.dedup.minhash import (
    CONTAINMENT,
    MinHasher,
    band_keys,
    clusters,
    containment,
    jaccard_floor,
    keep_of,
    lsh_parameters,
    shingles,
)
from llama_data.document import Document
from llama_data.filters import FilterResult, MinWords, Rejected, Step, run_steps
from llama_data.io import expand_inputs
from llama_data.manifest import SourceEntry
from llama_data.sources.books import SOURCE, read_books

from . import common
from .common import Reader, ReadFn
from .config import BooksConfig

DUPLICATE_OF = "near_duplicate_of"


@dataclasses.dataclass(frozen=True)
class NearDupSettings:
    """The near-duplicate rule: containment at ``threshold``; MinHash with ``num_perm``
    permutations; LSH bands that retrieve, with probability 0.99, the pairs at the lowest Jaccard
    that a pair at that containment can have (the smaller book >= SIZE_RATIO of the larger)."""

    threshold: float = CONTAINMENT
    num_perm: int = 128
    seed: int = 1

    @property
    def jaccard(self) -> float:
        return jaccard_floor(self.threshold)

    def bands(self) -> tuple[int, int]:
        return lsh_parameters(self.num_perm, self.jaccard)


def pre_dedup_steps(min_words: int) -> list[Step]:
    return [MinWords(min_words)]


@dataclasses.dataclass(frozen=True)
class DropNearDuplicates:
    """Drop a book that pass 2 found inside a longer one (``meta["near_duplicate_of"]``)."""

    name: str = "near_dup"

    def filter(self, doc: Document) -> FilterResult:
        return (False, "duplicate") if doc.meta.get(DUPLICATE_OF) else True


def steps(min_words: int) -> list[Step]:
    return [*pre_dedup_steps(min_words), DropNearDuplicates()]


class _Books:
    """The books of a file that pass the pre-dedup steps (pass 1 and 2: not counted)."""

    def __init__(self, reader: Reader, min_words: int):
        self._reader, self._min_words = reader, min_words

    def __call__(self, path: str) -> Iterator[Document]:
        chain = pre_dedup_steps(self._min_words)
        for item in self._reader(path):
            if isinstance(item, Document):
                kept = run_steps(item, chain)
                if not isinstance(kept, Rejected):
                    yield kept


class _BandsFn(beam.DoFn):
    """Pass 1: a file -> (band key, (book id, words)) for every band of every book."""

    def __init__(self, books: _Books, settings: NearDupSettings):
        self._books, self._settings = books, settings

    def setup(self):
        self._hasher = MinHasher(self._settings.num_perm, self._settings.seed)
        self._b, self._r = self._settings.bands()

    def process(self, path: str):
        for book in self._books(path):
            signature = self._hasher.signature(shingles(book.text))
            words = len(book.text.split())
            for key in band_keys(signature, self._b, self._r):
                yield key, (book.id, words)


def _pairs(element: tuple[int, Iterable[tuple[str, int]]]) -> Iterator[tuple[str, str]]:
    _, books = element
    ids = sorted({book_id for book_id, _ in books})
    for i, first in enumerate(ids):
        for second in ids[i + 1:]:
            yield first, second


class _ShinglesFn(beam.DoFn):
    """Pass 2: a file -> the shingles of its books that are candidates, each saved to a file of
    its own in the scratch folder (the book's id, for the verification to wait on)."""

    def __init__(self, books: _Books, scratch: str):
        self._books, self._scratch = books, scratch

    def process(self, path: str, candidates: Iterable[str]):
        wanted = set(candidates)
        if not wanted:
            return
        for book in self._books(path):
            if book.id in wanted:
                with fsspec.open(_shingles_file(self._scratch, book.id), "wb",
                                 auto_mkdir=True) as f:
                    np.save(f, shingles(book.text))
                yield book.id


def _shingles_file(scratch: str, book_id: str) -> str:
    return f"{scratch}/{hashlib.sha1(book_id.encode()).hexdigest()}.npy"


def _load(scratch: str, book_id: str) -> np.ndarray:
    with fsspec.open(_shingles_file(scratch, book_id), "rb") as f:
        return np.load(f)


def _verified(pair: tuple[str, str], saved: int, scratch: str,
              threshold: float) -> Iterator[tuple[str, str, float]]:
    """A candidate pair -> the pair and its containment, if at ``threshold``; ``saved`` (the
    count of shingle files written, a side input) only makes the verification wait for them."""
    first, second = pair
    share = containment(_load(scratch, first), _load(scratch, second))
    if share >= threshold:
        yield first, second, share


def _losers(edges: list[tuple[str, str, float]], sizes: dict[str, int]) -> dict[str, str]:
    """Each book that is not its cluster's keeper -> the keeper."""
    out = {}
    for cluster in clusters([(a, b) for a, b, _ in edges]):
        keeper = keep_of(cluster, sizes)
        out.update({book: keeper for book in cluster if book != keeper})
    return out


class _ReadMarkedFn(ReadFn):
    """Pass 3: the job's counted read, each book found inside another marked with its keeper."""

    def process(self, path: str, losers: dict[str, str]):
        for item in super().process(path):
            if isinstance(item, Document) and item.id in losers:
                item = item.replace(meta={**item.meta, DUPLICATE_OF: losers[item.id]})
            yield item


class ReadNearDeduplicated(beam.PTransform):
    """Input paths -> the books (``docs``), near-duplicates marked, the reading errors
    (``ReadFn.ERRORS``) and the clusters for the manifest (``notes``)."""

    def __init__(self, reader: Reader, min_words: int, settings: NearDupSettings, scratch: str):
        super().__init__()
        self._reader, self._settings, self._scratch = reader, settings, scratch
        self._books = _Books(reader, min_words)

    def expand(self, paths):
        banded = paths | "Bands" >> beam.ParDo(_BandsFn(self._books, self._settings))
        sizes = (banded | "Sizes" >> beam.Values() | "DistinctSizes" >> beam.Distinct())
        pairs = (banded
                 | "ByBand" >> beam.GroupByKey()
                 | "Pairs" >> beam.FlatMap(_pairs)
                 | "DistinctPairs" >> beam.Distinct())
        candidates = (pairs
                      | "Candidates" >> beam.FlatMap(lambda pair: pair)
                      | "DistinctCandidates" >> beam.Distinct())
        # Each later read takes the paths through a shuffle of its own: fused with the first
        # read, it would wait in that stage for side inputs computed after it (the local runner
        # then stops with "watermark-pending bundles").
        saved = (paths
                 | "PathsToShingle" >> beam.Reshuffle()
                 | "Shingles" >> beam.ParDo(_ShinglesFn(self._books, self._scratch),
                                            beam.pvalue.AsList(candidates))
                 | "Saved" >> beam.combiners.Count.Globally())
        edges = pairs | "Verify" >> beam.FlatMap(_verified, beam.pvalue.AsSingleton(saved),
                                                 self._scratch, self._settings.threshold)
        losers = (edges
                  | "AllEdges" >> beam.combiners.ToList()
                  | "Keepers" >> beam.Map(_losers, beam.pvalue.AsDict(sizes)))
        read = paths | "PathsToRead" >> beam.Reshuffle() | "ReadMarked" >> beam.ParDo(
            _ReadMarkedFn(SOURCE, self._reader), beam.pvalue.AsSingleton(losers)).with_outputs(
            ReadFn.ERRORS, main="docs")
        notes = (edges
                 | "EdgesForNotes" >> beam.combiners.ToList()
                 | "Clusters" >> beam.Map(_cluster_notes, beam.pvalue.AsDict(sizes),
                                          self._settings))
        return {"docs": read["docs"], ReadFn.ERRORS: read[ReadFn.ERRORS], "notes": notes}


def _cluster_notes(edges: list[tuple[str, str, float]], sizes: dict[str, int],
                   settings: NearDupSettings) -> dict:
    """The manifest's record of the near-duplicate clusters: each with its keeper, its books and
    the containment of each verified pair."""
    shares = {(a, b): share for a, b, share in edges}
    listed = []
    for cluster in clusters(list(shares)):
        keeper = keep_of(cluster, sizes)
        listed.append({"kept": keeper, "books": sorted(cluster),
                       "pairs": [[a, b, round(share, 4)] for (a, b), share in sorted(shares.items())
                                 if a in cluster]})
    b, r = settings.bands()
    return {"near_dup": {"rule": f"containment >= {settings.threshold} of the smaller book's "
                                 "5-word shingles", "num_perm": settings.num_perm,
                         "bands": b, "rows": r, "lsh_jaccard": round(settings.jaccard, 4),
                         "clusters": sorted(listed, key=lambda c: c["kept"])}}


def spec(collection: str, min_words: int, settings: NearDupSettings) -> common.SourceSpec:
    reader = functools.partial(read_books, collection=collection)
    return common.SourceSpec(
        name=SOURCE, reader=reader, steps=functools.partial(steps, min_words),
        read=lambda _inputs, scratch: ReadNearDeduplicated(reader, min_words, settings, scratch),
        spread=False)


def run(config: BooksConfig, beam_args: Sequence[str] = (),
        inputs: Sequence[str] | None = None) -> SourceEntry:
    """Run the job ``config`` describes into its release."""
    inputs = expand_inputs(config.input, folders=True) if inputs is None else list(inputs)
    settings = NearDupSettings(threshold=config.overlap)
    record = {"inputs": list(inputs), "collection": config.collection,
              "min_words": config.min_words, "keep_rejects": config.keep_rejects}
    return common.run(spec(config.collection, config.min_words, settings), inputs,
                      config.output, config=record, beam_args=beam_args, **config.run_options())
