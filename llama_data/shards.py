"""Arrow IPC shards: size-bounded, zstd-compressed, written atomically, named deterministically.

The IPC *stream* format is used because ``datasets.Dataset.from_file`` reads only that one (it is
also what ``datasets`` writes for its own cache); ``load_dataset("arrow", ...)`` and pyarrow read it too.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator

import fsspec
import pyarrow as pa

from llama_data.document import SCHEMA, Document, to_record_batch
from llama_data.io import atomic_open

DEFAULT_SHARD_BYTES = 256 * 2**20
BATCH_DOCUMENTS = 1024
BATCH_BYTES = 8 << 20  # text a batch holds at most: a few books, not 1,024 of them
SUFFIX = ".arrow"


@dataclasses.dataclass(frozen=True)
class ShardInfo:
    """What the manifest records of one shard; ``name`` is relative to the source folder."""

    name: str
    documents: int
    text_bytes: int
    file_bytes: int
    sha256: str


class _HashingSink:
    """A write-only file that hashes and counts what passes through to the real file."""

    def __init__(self, raw):
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data) -> int:
        data = bytes(data)
        self.sha256.update(data)
        self.size += len(data)
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        self.closed = True


class DocumentWriter:
    """Documents appended one at a time to an Arrow IPC stream on ``raw``; memory holds one batch:
    ``batch`` documents, or fewer once their text reaches ``batch_bytes`` (books, papers)."""

    def __init__(self, raw, compression: str | None = "zstd", batch: int = BATCH_DOCUMENTS,
                 batch_bytes: int = BATCH_BYTES):
        options = pa.ipc.IpcWriteOptions(compression=compression)
        self._writer = pa.ipc.new_stream(pa.PythonFile(raw, mode="w"), SCHEMA, options=options)
        self._batch_size, self._batch_bytes = batch, batch_bytes
        self._batch: list[Document] = []
        self._pending = 0
        self.documents = self.text_bytes = 0

    def write(self, doc: Document) -> None:
        size = len(doc.text.encode("utf-8"))
        self._batch.append(doc)
        self.documents += 1
        self.text_bytes += size
        self._pending += size
        if len(self._batch) == self._batch_size or self._pending >= self._batch_bytes:
            self._flush()

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def _flush(self) -> None:
        if self._batch:
            self._writer.write_batch(to_record_batch(self._batch))
            self._batch, self._pending = [], 0


def write_shard(docs: Iterable[Document], path: str) -> ShardInfo:
    """Write one shard to ``path`` atomically: a temp file beside it, renamed when complete."""
    fs, fs_path = fsspec.core.url_to_fs(path)
    fs.makedirs(fs_path.rsplit("/", 1)[0], exist_ok=True)
    with atomic_open(path, "wb") as raw:
        sink = _HashingSink(raw)
        writer = DocumentWriter(sink)
        for doc in docs:
            writer.write(doc)
        writer.close()
    name = fs_path.rsplit("/", 1)[-1]
    return ShardInfo(name, writer.documents, writer.text_bytes, sink.size,
                     sink.sha256.hexdigest())


def _bounded_runs(docs: Iterable[Document], max_bytes: int) -> Iterator[list[Document]]:
    """Consecutive runs of documents whose text stays under ``max_bytes`` (a run holds one at least)."""
    run: list[Document] = []
    size = 0
    for doc in docs:
        doc_bytes = len(doc.text.encode("utf-8"))
        if run and size + doc_bytes > max_bytes:
            yield run
            run, size = [], 0
        run.append(doc)
        size += doc_bytes
    if run:
        yield run


def write_shards(
    docs: Iterable[Document], directory: str, stem: str, max_bytes: int = DEFAULT_SHARD_BYTES
) -> list[ShardInfo]:
    """Write ``docs`` in order as ``{stem}-000.arrow``, ``{stem}-001.arrow``, ... each under ``max_bytes``
    of text; the same documents in the same order always give the same names and bytes."""
    return [
        write_shard(run, f"{directory.rstrip('/')}/{stem}-{index:03d}{SUFFIX}")
        for index, run in enumerate(_bounded_runs(docs, max_bytes))
    ]


def read_table(path: str) -> pa.Table:
    with fsspec.open(path, "rb") as f:
        return pa.ipc.open_stream(f).read_all()


def read_shard(path: str) -> Iterator[Document]:
    """Documents of one shard, batch by batch (memory bounded by a batch, not the shard)."""
    with fsspec.open(path, "rb") as f:
        for batch in pa.ipc.open_stream(f):
            for row in batch.to_pylist():
                yield Document.from_row(row)
