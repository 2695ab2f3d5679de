"""StackExchange: the Internet Archive's dump (per-site ``.7z`` archives or extracted
``Posts.xml``) -> one document per question: its title and body, then its answers by score.

The answer-to-question join is a keyed grouping that never holds a site in memory::

    paths -> PostsReader (counted read: one record per <row>) -> each post spilled to the file
          of its thread's bucket (question id, or the parent id of an answer) -> GroupByKey on
          the bucket (only file names are shuffled) -> per bucket, its posts grouped by thread
          key -> join_thread: one document per question, its answers attached (counted as
          ``merged``), orphans and other post types passed on for the steps to drop by reason
    steps: IsQuestion -> RenderThread (HTML to text, answers sorted by score as numbers) -> MinWords(1)

A bucket holds about one shard of posts (buckets are sized from the inputs), so a worker holds
one bucket's posts at a time however large the site; on Dataflow the same GroupByKey is the
service's disk-backed shuffle.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import apache_beam as beam

from llama_data.document import Document
from llama_data.filters import MinWords, Step
from llama_data.io import expand_inputs
from llama_data.manifest import SourceEntry
from llama_data.shards import read_shard
from llama_data.sources.stackexchange import (
    SOURCE,
    IsQuestion,
    PostsReader,
    RenderThread,
    join_thread,
    largest_sites,
    site_of,
)

from . import common
from .common import ReadFn, _Counter, _SpillFn
from .config import StackExchangeConfig


def thread_key(doc: Document) -> str:
    """The posts of one thread share a key: the question's id, an answer's parent id; any other
    post is a thread of its own."""
    meta = doc.meta
    if meta["post_type"] == "question":
        return f"{meta['site']}/{meta['post_id']}"
    if meta["post_type"] == "answer" and meta.get("parent_id") is not None:
        return f"{meta['site']}/{meta['parent_id']}"
    return f"{meta['site']}/{meta['post_type']}/{meta['post_id']}"


class _JoinBucketFn(beam.DoFn):
    """One bucket's spilled posts -> its threads joined (a question and its answers become one
    document); answers joined are counted ``merged/answer``."""

    def setup(self):
        self._count = _Counter(SOURCE)

    def process(self, element: tuple[int, Iterable[str]]) -> Iterator[Document]:
        _, paths = element
        threads: dict[str, list[Document]] = defaultdict(list)
        for path in sorted(paths):
            for doc in read_shard(path):
                threads[thread_key(doc)].append(doc)
        for key in sorted(threads):
            docs, merged = join_thread(threads.pop(key))
            if merged:
                self._count.inc("merged/answer", merged)
            yield from docs


class ReadThreads(beam.PTransform):
    """Input paths -> one document per thread (``docs``) and the reading errors
    (``ReadFn.ERRORS``)."""

    def __init__(self, reader, spill: str, buckets: int):
        super().__init__()
        self._reader, self._spill, self._buckets = reader, spill, buckets

    def expand(self, paths):
        read = paths | "ReadPosts" >> beam.ParDo(ReadFn(SOURCE, self._reader)).with_outputs(
            ReadFn.ERRORS, main="docs")
        threads = (read["docs"]
                   | "SpillByThread" >> beam.ParDo(_SpillFn(self._spill, self._buckets,
                                                            thread_key))
                   | "GroupByBucket" >> beam.GroupByKey()
                   | "JoinThreads" >> beam.ParDo(_JoinBucketFn()))
        return {"docs": threads, ReadFn.ERRORS: read[ReadFn.ERRORS]}


def steps() -> list[Step]:
    return [IsQuestion(), RenderThread(), MinWords(1)]


def spec(buckets: int, max_expansion: float) -> common.SourceSpec:
    reader = functools.partial(PostsReader, max_expansion=max_expansion)
    return common.SourceSpec(
        name=SOURCE, reader=reader, steps=steps,
        read=lambda _inputs, scratch: ReadThreads(reader, scratch, buckets), spread=False)


def select_sites(inputs: Sequence[str], sites: Sequence[str] | None,
                 top: int) -> tuple[list[str], list[str]]:
    """The sites to read and their inputs: ``sites`` as given, else the ``top`` largest of the
    inputs (all of them when there are no more)."""
    chosen = list(sites) if sites else largest_sites(inputs, top)
    return chosen, [path for path in inputs if site_of(path) in set(chosen)]


def run(config: StackExchangeConfig, beam_args: Sequence[str] = (),
        inputs: Sequence[str] | None = None) -> SourceEntry:
    """Run the job ``config`` describes into its release."""
    found = expand_inputs(config.input) if inputs is None else list(inputs)
    sites, selected = select_sites(found, config.sites, config.top_sites)
    buckets = config.num_shards or common.estimate_buckets(selected, config.shard_size)
    record = {"inputs": selected, "sites": sorted(sites),
              "sites_chosen_by": "--sites" if config.sites else f"the {config.top_sites} "
                                                                 "largest in the inputs",
              "inputs_not_read": sorted(set(found) - set(selected)),
              "max_expansion": config.max_expansion, "keep_rejects": config.keep_rejects,
              "answers": "sorted by score as numbers, highest first; ties by answer id"}
    options = {**config.run_options(), "buckets": buckets}
    return common.run(spec(buckets, config.max_expansion), selected, config.output,
                      config=record, beam_args=beam_args, **options)
