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
from llama_data.errors import NoInputFiles
from llama_data.filters import MinWords, Step
from llama_data.io import expand_inputs
from llama_data.manifest import SourceEntry
from llama_data.shards import read_shard
from llama_data.sources.stackexchange import (
    SOURCE,
    IsQuestion,
    PostsReader,
    RenderThread,
    carries_posts,
    join_thread,
    largest_sites,
    site_of,
    thread_key,
)

from . import common
from .common import ReadFn, _Counter, _SpillFn
from .config import StackExchangeConfig


def thread_bucket_key(doc: Document) -> str:
    """Where a post is spilled: by its thread (:func:`thread_key`), so a thread meets whole."""
    site, post_id = thread_key(doc)
    return f"{site}/{post_id}"


class _JoinBucketFn(beam.DoFn):
    """One bucket's spilled posts -> its threads joined (a question and its answers become one
    document); answers joined are counted ``merged/answer``."""

    def setup(self):
        self._count = _Counter(SOURCE)

    def process(self, element: tuple[int, Iterable[str]]) -> Iterator[Document]:
        _, paths = element
        threads: dict[tuple[str, int], list[Document]] = defaultdict(list)
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
                                                            thread_bucket_key))
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
    posts = [path for path in inputs if carries_posts(path)]
    if not posts:
        raise NoInputFiles("no StackExchange posts dump among the inputs ('<site>.7z', "
                           "'<site>-Posts.7z', '<site>/Posts.xml' or '<site>.Posts.xml')")
    chosen = list(sites) if sites else largest_sites(posts, top)
    missing = sorted(set(chosen) - {site_of(path) for path in posts})
    if missing:
        raise NoInputFiles(f"--sites names sites with no posts dump among the inputs: "
                           f"{', '.join(missing)}")
    return chosen, [path for path in posts if site_of(path) in set(chosen)]


def run(config: StackExchangeConfig, beam_args: Sequence[str] = (),
        inputs: Sequence[str] | None = None) -> SourceEntry:
    """Run the job ``config`` describes into its release."""
    found = expand_inputs(config.input) if inputs is None else list(inputs)
    sites, selected = select_sites(found, config.sites, config.top_sites)
    sizes = common.input_sizes(selected)
    buckets = config.num_shards or common.estimate_buckets(sizes, config.shard_size)
    record = {"inputs": selected, "sites": sorted(sites),
              "sites_chosen_by": "--sites" if config.sites else f"the {config.top_sites} "
                                                                 "largest in the inputs",
              "inputs_not_read": sorted(set(found) - set(selected)),
              "max_expansion": config.max_expansion, "keep_rejects": config.keep_rejects,
              "answers": "sorted by score as numbers, highest first; ties by answer id"}
    options = {**config.run_options(), "buckets": buckets}
    return common.run(spec(buckets, config.max_expansion), selected, config.output,
                      config=record, beam_args=beam_args, **options)
