from __future__ import annotations

import datasets
import pyarrow as pa
import pytest

from llama_data.document import SCHEMA, SCHEMA_VERSION, Document
from llama_data.shards import read_shard, read_table, write_shard, write_shards


def docs(n: int, size: int = 50) -> list[Document]:
    return [
        Document(id=f"test/{i:04d}", text=f"Dokument {i} — ünïcödé ✓ " + "x" * size, source="test",
                 url=f"https://example.org/{i}", lang="de" if i % 2 else None,
                 lang_score=0.5 + i / 1000 if i % 3 else None,
                 meta={"title": f"T{i}", "nested": {"k": [i, "v"]}})
        for i in range(n)
    ]


def test_every_field_round_trips_through_our_reader_pyarrow_and_datasets(tmp_path):
    written = docs(40)
    info = write_shard(written, str(tmp_path / "part-00000-000.arrow"))
    assert info.documents == 40
    assert info.text_bytes == sum(len(d.text.encode()) for d in written)

    assert list(read_shard(str(tmp_path / "part-00000-000.arrow"))) == written

    table = read_table(str(tmp_path / "part-00000-000.arrow"))
    assert table.schema.equals(SCHEMA, check_metadata=True)
    assert table.schema.metadata[b"llama_data.schema_version"] == SCHEMA_VERSION.encode()
    assert [Document.from_row(r) for r in table.to_pylist()] == written

    from_file = datasets.Dataset.from_file(str(tmp_path / "part-00000-000.arrow"))
    loaded = datasets.load_dataset("arrow", data_files=str(tmp_path / "*.arrow"), split="train",
                                   cache_dir=str(tmp_path / "hf-cache"))
    for dataset in (from_file, loaded):
        assert [Document.from_row(r) for r in dataset] == written


ZSTD_FRAME = b"\x28\xb5\x2f\xfd"  # RFC 8878: every Zstandard frame starts with these bytes
LZ4_FRAME = b"\x04\x22\x4d\x18"


def record_batch_bodies(path) -> list[bytes]:
    """The bodies of the IPC stream's record-batch messages: with compression, each buffer is an
    8-byte uncompressed length followed by one frame of the codec."""
    with pa.input_stream(str(path)) as stream:
        reader = pa.ipc.MessageReader.open_stream(stream)
        return [m.body.to_pybytes() for m in reader if m.type == "record batch"]


def test_shards_are_zstd_compressed_ipc_streams(tmp_path):
    write_shard(docs(5, size=5000), str(tmp_path / "s.arrow"))
    with pa.ipc.open_stream(str(tmp_path / "s.arrow")) as reader:
        assert reader.read_all().num_rows == 5
    bodies = record_batch_bodies(tmp_path / "s.arrow")
    assert bodies and all(ZSTD_FRAME in body and LZ4_FRAME not in body for body in bodies)
    # the check tells codecs apart: the same rows written by pyarrow without and with LZ4
    table = read_table(str(tmp_path / "s.arrow"))
    for codec in (None, "lz4"):
        other = tmp_path / f"{codec}.arrow"
        with pa.ipc.new_stream(str(other), table.schema,
                               options=pa.ipc.IpcWriteOptions(compression=codec)) as writer:
            writer.write_table(table)
        assert not any(ZSTD_FRAME in body for body in record_batch_bodies(other)), codec
    assert (tmp_path / "s.arrow").stat().st_size < 5 * 5000 / 5  # "x" * 5000 compresses well


def test_shards_roll_over_at_the_size_bound_with_deterministic_names_and_bytes(tmp_path):
    written = docs(30, size=1000)
    a = write_shards(written, str(tmp_path / "a"), "part-00007", max_bytes=5000)
    b = write_shards(written, str(tmp_path / "b"), "part-00007", max_bytes=5000)
    assert [s.name for s in a] == [f"part-00007-{k:03d}.arrow" for k in range(len(a))]
    assert len(a) > 1
    assert all(s.text_bytes <= 5000 for s in a)
    assert sum(s.documents for s in a) == 30
    assert [s.sha256 for s in a] == [s.sha256 for s in b]
    assert [d for s in a for d in read_shard(str(tmp_path / "a" / s.name))] == written


def test_a_failed_write_leaves_neither_the_shard_nor_a_temp_file(tmp_path):
    def exploding():
        yield from docs(3)
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_shard(exploding(), str(tmp_path / "part.arrow"))
    assert list(tmp_path.iterdir()) == []
