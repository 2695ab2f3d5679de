"""What every source pipeline shares: options, reading with accounting, steps, shard writing, the run.

A source pipeline is ``inputs -> ReadInputs -> Reshuffle -> ApplySteps -> WriteShards``; every record
read is counted once as kept, dropped (by reason) or unreadable (by reason) in Beam metrics, which the
driver gathers into the release manifest with the shards' hashes and the errors' messages. A job
writes into a staging area and its source is swapped into the release only when it succeeded
within its error budget (:mod:`llama_data.release`); a failed job fails loudly and changes nothing.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import logging
import math
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
import fsspec
import pyarrow as pa
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils import shared

from llama_data import manifest as manifest_lib
from llama_data import release as release_lib
from llama_data.document import Document
from llama_data.errors import InputError, PipelineFailed, ProcessingError
from llama_data.filters import Rejected, Step, run_steps
from llama_data.hashing import sha1_int
from llama_data.io import position
from llama_data.release import Stage, is_local
from llama_data.shards import (
    BATCH_DOCUMENTS,
    DEFAULT_SHARD_BYTES,
    SUFFIX,
    DocumentWriter,
    ShardInfo,
    read_shard,
    read_table,
    write_shards,
)

from . import console

log = logging.getLogger("llama_data.pipelines")

# Beam's DirectRunner first tries to download the Prism runner; FnApiRunner is the same local
# engine without that attempt, so it works offline.
DEFAULT_RUNNER = "FnApiRunner"
PROGRESS_EVERY = 10_000  # records between two progress reports while reading one input file
PROGRESS_SECONDS = 3.0  # or seconds, where records are large (books, papers, repositories)
# Uncompressed size of a compressed dump, per compressed byte (measured on Wikipedia dumps).
EXPANSION = {".bz2": 5.0, ".gz": 4.0, ".xz": 5.0, ".7z": 5.0, ".tgz": 4.0, ".zip": 3.0}
HTTP_SIZE_SAMPLE = 8  # remote files asked for their size when sizing the job

Reader = Callable[[str], Iterable[Document | InputError]]
StepsFactory = Callable[[], Sequence[Step]]


def pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Standard Beam options from the command line; local and parallel on all cores by default."""
    options = PipelineOptions(list(beam_args))
    if options.view_as(StandardOptions).runner is None:
        options.view_as(StandardOptions).runner = DEFAULT_RUNNER
        direct = options.view_as(DirectOptions)
        given = {arg.split("=", 1)[0] for arg in beam_args}
        if "--direct_num_workers" not in given:
            direct.direct_num_workers = os.cpu_count() or 1
        if "--direct_running_mode" not in given and direct.direct_num_workers > 1:
            direct.direct_running_mode = "multi_processing"
    return options


class _Counter:
    """Beam counters of one source, created on first use (counter names carry the reason)."""

    def __init__(self, source: str):
        self.namespace = f"llama_data.{source}"
        self._counters: dict[str, Any] = {}

    def inc(self, name: str, n: int = 1) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter(self.namespace, name)
        counter.inc(n)


def _error_record(error: InputError, doc_id: str | None = None) -> dict[str, Any]:
    return {"path": error.path, "position": error.position, "reason": error.reason,
            "message": str(error), "doc_id": doc_id}


class ReadFn(beam.DoFn):
    """One input file -> its Documents; what cannot be read is counted and reported, not raised."""

    ERRORS = "errors"

    def __init__(self, source: str, reader: Reader):
        self._source = source
        self._reader = reader

    def setup(self):
        self._count = _Counter(self._source)

    def process(self, path: str):
        records = 0
        reported = time.monotonic()
        reader = self._reader(path)
        for item in reader:
            records += 1
            self._count.inc("read")
            if records % PROGRESS_EVERY == 0 or time.monotonic() - reported > PROGRESS_SECONDS:
                log.info(console.report(path, records, position(path), done=False))
                reported = time.monotonic()
            if isinstance(item, InputError):
                self._count.inc(f"unreadable/{item.reason}")
                log.warning("unreadable: %s", item)
                yield beam.pvalue.TaggedOutput(self.ERRORS, _error_record(item))
            else:
                yield item
        # Records a reader passes over as not documents (a WARC's request and metadata records):
        # read, and dropped with that reason, so that the funnel still accounts for every record.
        skipped = getattr(reader, "skipped", 0)
        if skipped:
            self._count.inc("read", skipped)
            self._count.inc("dropped/reader:not_a_page", skipped)
        log.info(console.report(path, records + skipped, position(path), done=True))


class _StepChain:
    """The steps of a source, built once per worker process (they may hold large models)."""

    def __init__(self, steps: Sequence[Step]):
        self.steps = list(steps)


class ApplyStepsFn(beam.DoFn):
    """Run the source's steps on each document; count kept, dropped by reason, and failures."""

    REJECTED = "rejected"

    def __init__(self, source: str, steps_factory: StepsFactory, handle: shared.Shared,
                 keep_rejects: bool):
        self._source = source
        self._factory = steps_factory
        self._handle = handle
        self._keep_rejects = keep_rejects

    def setup(self):
        self._count = _Counter(self._source)
        self._chain = self._handle.acquire(lambda: _StepChain(self._factory()))

    def steps_for(self, *side_inputs) -> Sequence[Step]:
        """The steps for one document; a subclass may add steps built from side inputs."""
        return self._chain.steps

    def process(self, doc: Document, *side_inputs):
        try:
            result = run_steps(doc, self.steps_for(*side_inputs))
        except Exception as e:  # noqa: BLE001 (one bad record is counted and skipped, never fatal)
            error = ProcessingError(doc.url or doc.id, f"{type(e).__name__}: {e}",
                                    f"document {doc.id}" if doc.url else None)
            self._count.inc(f"unreadable/{error.reason}")
            log.warning("skipped %s: %s", doc.id, error)
            yield beam.pvalue.TaggedOutput(ReadFn.ERRORS, _error_record(error, doc.id))
            return
        yield from route(self._count, result, self._keep_rejects)


def route(count: _Counter, result: Document | Rejected, keep_rejects: bool):
    """Pass a document on, or count its drop (and keep it, tagged, for --keep-rejects)."""
    if isinstance(result, Rejected):
        count.inc(f"dropped/{result.reason}")
        if keep_rejects:
            meta = {**result.doc.meta, "rejected_by": result.reason}
            yield beam.pvalue.TaggedOutput(ApplyStepsFn.REJECTED, result.doc.replace(meta=meta))
    else:
        yield result


class CountFn(beam.DoFn):
    """Count what passes (the documents kept, once every step and stage is done)."""

    def __init__(self, source: str, name: str):
        self._source, self._name = source, name

    def setup(self):
        self._count = _Counter(self._source)

    def process(self, item):
        self._count.inc(self._name)
        yield item


def bucket_of(doc_id: str, buckets: int) -> int:
    """A stable bucket for a document id (Python's hash() differs between processes)."""
    return sha1_int(doc_id) % buckets


def document_id(doc: Document) -> str:
    return doc.id


class _SpillFn(beam.DoFn):
    """A bundle's documents into one file per bucket (of ``key``, the id by default), beside the
    shards; only the files' names go through Beam's shuffle, so no worker holds more than a
    batch of documents."""

    BATCH = 64  # documents buffered per open bucket file
    BATCH_BYTES = 1 << 20  # or fewer, once their text reaches this (papers, books)

    def __init__(self, directory: str, buckets: int,
                 key: Callable[[Document], str] = document_id):
        self._directory, self._buckets, self._key = directory, buckets, key

    def start_bundle(self):
        self._open: dict[int, tuple[str, Any, DocumentWriter]] = {}

    def process(self, doc: Document):
        bucket = bucket_of(self._key(doc), self._buckets)
        if bucket not in self._open:
            path = f"{self._directory}/{bucket:05d}-{uuid.uuid4().hex}{SUFFIX}"
            raw = fsspec.open(path, "wb", auto_mkdir=True).open()
            self._open[bucket] = (path, raw, DocumentWriter(raw, "lz4", self.BATCH,
                                                            self.BATCH_BYTES))
        self._open[bucket][2].write(doc)

    def finish_bundle(self):
        for bucket, (path, raw, writer) in sorted(self._open.items()):
            writer.close()
            raw.close()
            yield GlobalWindows.windowed_value((bucket, path))


def _write_bucket(element: tuple[int, Iterable[str]], directory: str,
                  max_bytes: int) -> Iterator[dict[str, Any]]:
    """One bucket's spilled documents, sorted by id, as its shards: about one shard of Arrow
    columns in memory, and one batch of documents as Python objects. A retried bundle's orphan
    files are never listed, so never read."""
    bucket, paths = element
    table = pa.concat_tables([read_table(path) for path in sorted(paths)]).sort_by("id")
    ordered = (Document.from_row(row) for batch in table.to_batches(BATCH_DOCUMENTS)
               for row in batch.to_pylist())
    for info in write_shards(ordered, directory, f"part-{bucket:05d}", max_bytes):
        yield dataclasses.asdict(info)


class WriteShards(beam.PTransform):
    """Documents -> ``part-BBBBB-KKK.arrow`` shards; bucket B by a hash of the id, sorted by id
    inside, rolled over at ``max_bytes``: the same documents always give the same files. The
    documents reach their bucket through files in ``spill`` rather than a shuffle."""

    def __init__(self, directory: str, spill: str, buckets: int,
                 max_bytes: int = DEFAULT_SHARD_BYTES):
        super().__init__()
        self._directory, self._spill = directory, spill
        self._buckets, self._max_bytes = buckets, max_bytes

    def expand(self, docs):
        return (
            docs
            | "Spill" >> beam.ParDo(_SpillFn(self._spill, self._buckets))
            | "GroupByBucket" >> beam.GroupByKey()
            | "WriteBucket" >> beam.FlatMap(_write_bucket, self._directory, self._max_bytes)
        )


class ThroughFiles(beam.PTransform):
    """Documents -> the same documents, parked in files in ``directory`` on the way. A stage
    that waits for a side input computed from these same documents then waits on their file
    names, not on the documents held in memory."""

    def __init__(self, directory: str):
        super().__init__()
        self._directory = directory

    def expand(self, docs):
        return (docs
                | "Park" >> beam.ParDo(_SpillFn(self._directory, 1))
                | "Names" >> beam.Values()
                | "Boundary" >> beam.Reshuffle()  # the stage ends with the names
                | "Unpark" >> beam.FlatMap(read_shard))


class WriteReport(beam.PTransform):
    """JSON lines the driver reads back after the run (shard infos, error messages)."""

    def __init__(self, prefix: str):
        super().__init__()
        self._prefix = prefix

    def expand(self, records):
        return (records
                | "ToJson" >> beam.Map(lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))
                | "Write" >> beam.io.WriteToText(self._prefix, file_name_suffix=".jsonl"))


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """What makes one source's pipeline: its name, how to read a file, and its steps.

    ``read``, if any, replaces the plain read: given the job's inputs and a scratch folder of
    its run, a transform from their paths to documents (``docs``) and errors
    (``ReadFn.ERRORS``), each record counted once as ReadFn counts it, and optionally ``notes``
    (dicts merged into the manifest's config, as ``finish``'s) (CCNet's line dedup reads twice: the lines' hashes, then the
    documents without their duplicated lines). ``spread`` redistributes the documents read across
    workers (a shuffle of every document): for sources of a few large files; off where the
    inputs are many files, so that documents stream from their file to the shards."""

    name: str
    reader: Reader
    steps: StepsFactory
    read: Callable[[Sequence[str], str], beam.PTransform] | None = None
    spread: bool = True
    # A stage after the steps that needs every kept document at once (perplexity cut-offs from
    # the job's own distribution), given keep_rejects and a scratch folder to park documents in
    # (ThroughFiles); its transform returns {"kept", "rejected", "errors", "notes"}, the notes
    # being dicts merged into the manifest's config.
    finish: Callable[[bool, str], beam.PTransform] | None = None


def input_sizes(paths: Sequence[str]) -> dict[str, int | None]:
    """Each input's size in bytes; None for an HTTP one: not asked (a CommonCrawl paths list names
    tens of thousands)."""
    from llama_data.remote import is_http

    return {path: None if is_http(path) else _size(path) for path in paths}


def estimate_buckets(sizes: dict[str, int | None], max_bytes: int) -> int:
    """Enough buckets that each holds about one shard, from the inputs' (compressed) sizes
    (:func:`input_sizes`); those of unknown size are sized from a few of them."""
    web = [path for path, size in sizes.items() if size is None]
    total = sum(_expanded(path, size) for path, size in sizes.items() if size is not None)
    sampled = [_expanded(path, size) for path in web[:HTTP_SIZE_SAMPLE]
               if (size := _http_size(path)) is not None]
    if sampled:
        total += sum(sampled) / len(sampled) * len(web)
    return max(1, math.ceil(total / max_bytes))


def _expanded(path: str, size: int) -> float:
    return size * EXPANSION.get(os.path.splitext(path)[1], 1.0)


def _size(path: str) -> int:
    """A file's size, or a folder's (a repository): what its files add up to."""
    fs, fs_path = fsspec.core.url_to_fs(path)
    return fs.du(fs_path) if fs.isdir(fs_path) else fs.size(fs_path)


def _http_size(url: str) -> int | None:
    """The size an HTTP server announces for ``url``; None if it does not answer (the job will
    count the file as unreadable)."""
    from llama_data.remote import http_get

    try:
        response = http_get(url, 0, timeout=60)
    except (OSError, http.client.HTTPException) as e:
        log.warning("%s: size unknown (%s)", url, e)
        return None
    response.body.close()
    return response.size or 0


def build(pipeline: beam.Pipeline, spec: SourceSpec, inputs: Sequence[str], staged: Stage,
          buckets: int, max_bytes: int, keep_rejects: bool) -> None:
    """The source's graph, writing only into ``staged`` (the release is touched at commit)."""
    staging = staged.root
    paths = pipeline | "Inputs" >> beam.Create(list(inputs))
    read = paths | "Read" >> (spec.read(inputs, f"{staging}/spill/read") if spec.read is not None
                              else beam.ParDo(
        ReadFn(spec.name, spec.reader)).with_outputs(ReadFn.ERRORS, main="docs"))
    if isinstance(read, dict) and "notes" in read:  # a read that decides something says what
        read["notes"] | "ReportReadNotes" >> WriteReport(f"{staging}/notes-read")
    docs = read["docs"] | "Spread" >> beam.Reshuffle() if spec.spread else read["docs"]
    stepped = (docs
               | "Steps" >> beam.ParDo(ApplyStepsFn(spec.name, spec.steps, shared.Shared(),
                                                    keep_rejects)).with_outputs(
                   ReadFn.ERRORS, ApplyStepsFn.REJECTED, main="kept"))
    kept, rejected = stepped.kept, [stepped[ApplyStepsFn.REJECTED]]
    errors = [read[ReadFn.ERRORS], stepped[ReadFn.ERRORS]]
    if spec.finish is not None:
        finished = kept | "Finish" >> spec.finish(keep_rejects, f"{staging}/spill/finish")
        kept = finished["kept"]
        rejected.append(finished["rejected"])
        errors.append(finished["errors"])
        finished["notes"] | "ReportNotes" >> WriteReport(f"{staging}/notes")
    shards = (kept
              | "CountKept" >> beam.ParDo(CountFn(spec.name, "kept"))
              | "WriteShards" >> WriteShards(staged.shards, f"{staging}/spill/data", buckets,
                                             max_bytes))
    shards | "ReportShards" >> WriteReport(f"{staging}/shards")
    (tuple(errors)
     | "AllErrors" >> beam.Flatten()
     | "ReportErrors" >> WriteReport(f"{staging}/errors"))
    if keep_rejects:
        written = (tuple(rejected)
                   | "AllRejected" >> beam.Flatten()
                   | "WriteRejects" >> WriteShards(staged.rejects, f"{staging}/spill/rejects",
                                                 buckets, max_bytes))
        written | "ReportRejects" >> WriteReport(f"{staging}/rejects")


def _read_report(pattern: str) -> list[dict[str, Any]]:
    fs, fs_path = fsspec.core.url_to_fs(pattern)
    records = []
    for path in sorted(fs.glob(fs_path)):
        with fs.open(path, "r", encoding="utf-8") as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def _counts(result, source: str) -> dict[str, int]:
    namespace = f"llama_data.{source}"
    counts: dict[str, int] = {}
    for counter in result.metrics().query(MetricsFilter().with_namespace(namespace))["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        counts[counter.key.metric.name] = counts.get(counter.key.metric.name, 0) + value
    return counts


def run(spec: SourceSpec, inputs: Sequence[str], release: str, *, config: dict[str, Any],
        beam_args: Sequence[str] = (), max_bytes: int = DEFAULT_SHARD_BYTES,
        buckets: int | None = None, keep_rejects: bool = False, max_error_rate: float = 0.01,
        allow_empty: bool = False) -> manifest_lib.SourceEntry:
    """Run one source's pipeline and swap its shards and manifest entry into ``release``, only if
    the job succeeded, at most ``max_error_rate`` of the records read were unreadable or failed,
    and it kept something (or ``allow_empty``); otherwise the release is left as it was."""
    release = release.rstrip("/")
    sizes = input_sizes(inputs)
    buckets = buckets or estimate_buckets(sizes, max_bytes)
    options = pipeline_options(beam_args)
    log_path = (f"{release}/logs/{spec.name}.log" if is_local(release)
                else os.path.join(tempfile.mkdtemp(), f"{spec.name}.log"))
    runner = options.view_as(StandardOptions).runner
    workers = options.view_as(DirectOptions).direct_num_workers
    started = time.monotonic()
    with release_lib.stage(release, spec.name) as staged:
        print(f"{spec.name}: {len(inputs)} input file(s) -> {release}/{spec.name} "
              f"({runner}, {workers} worker(s); staging {staged.root}; Beam log: {log_path})",
              file=sys.stderr)
        pipeline = beam.Pipeline(options=options)
        build(pipeline, spec, inputs, staged, buckets, max_bytes, keep_rejects)
        try:
            with console.beam_output_to(log_path, spec.name, sizes):
                result = pipeline.run()
                result.wait_until_finish()
        except Exception as e:
            last = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            raise PipelineFailed(f"{spec.name} pipeline failed: {last} (full log: {log_path}); "
                                 "the release is unchanged") from e
        entry = _entry(staged, _counts(result, spec.name),
                       {**config, "buckets": buckets, "max_shard_bytes": max_bytes,
                        "runner": str(runner)})
        manifest_lib.check_budget(spec.name, entry.funnel, entry.errors, max_error_rate,
                                  allow_empty)
        entry = release_lib.commit(staged, entry, keep_rejects)
    funnel = entry.funnel
    merged = f", {sum(funnel.merged.values())} merged" if funnel.merged else ""
    print(f"{spec.name}: {funnel.read} read, {funnel.kept} kept, {sum(funnel.dropped.values())} "
          f"dropped, {sum(funnel.unreadable.values())} unreadable{merged}, {len(entry.shards)} "
          f"shard(s) in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return entry


def _entry(staged: Stage, counts: dict[str, int],
           config: dict[str, Any]) -> manifest_lib.SourceEntry:
    """The manifest entry of a finished job, from its reports and counters."""
    shards = sorted((ShardInfo(**s) for s in _read_report(f"{staged.root}/shards*")),
                    key=lambda s: s.name)
    errors = sorted(_read_report(f"{staged.root}/errors*"),
                    key=lambda e: (e["path"], e.get("doc_id") or "", e["message"]))
    notes: dict[str, Any] = {}
    for note in _read_report(f"{staged.root}/notes*"):
        for key, value in note.items():
            notes[key] = {**notes.get(key, {}), **value} if isinstance(value, dict) else value
    return manifest_lib.SourceEntry(
        shards=shards, funnel=manifest_lib.Funnel.from_counts(counts),
        counters=manifest_lib.other_counts(counts), config={**config, **notes},
        versions=manifest_lib.versions(), errors=errors)
