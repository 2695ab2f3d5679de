"""The shared helpers: stable hashes, atomic writes, sizes. Checked against published test vectors
and hand-worked values, not against themselves."""

from __future__ import annotations

import fsspec
import pytest

from llama_data.hashing import sha1_int, sha256_file
from llama_data.io import atomic_open, atomic_path
from llama_data.units import format_size, parse_size

# FIPS 180-2 test vectors for the message "abc".
SHA1_ABC = "a9993e364706816aba3e25717850c26c9cd0d89d"
SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_sha1_int_reads_the_first_8_bytes_little_endian_as_ccnet_does_on_x86():
    # a9 99 3e 36 47 06 81 6a, least significant byte first
    assert sha1_int("abc") == 0x6A810647363E99A9
    assert sha1_int(b"abc") == sha1_int("abc")
    assert sha1_int("abc", 20) == int.from_bytes(bytes.fromhex(SHA1_ABC), "little")
    assert sha1_int("é") == sha1_int("é".encode())


def test_sha256_file_local_and_through_fsspec(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")
    assert sha256_file(tmp_path / "abc") == SHA256_ABC
    with fsspec.open("memory://hashing/abc", "wb") as f:
        f.write(b"abc")
    assert sha256_file("memory://hashing/abc") == SHA256_ABC


@pytest.mark.parametrize("root", ["local", "memory://atomic"])
def test_a_failed_atomic_write_leaves_the_previous_file_and_no_temporary(tmp_path, root):
    base = str(tmp_path) if root == "local" else root
    fs, folder = fsspec.core.url_to_fs(base)
    fs.makedirs(folder, exist_ok=True)
    path = f"{base}/out.json"
    with atomic_open(path, "w") as f:
        f.write("old")
    with pytest.raises(RuntimeError), atomic_open(path, "w") as f:
        f.write("half of the new")
        raise RuntimeError("killed")
    assert fs.cat(f"{folder}/out.json") == b"old"
    assert [p.rsplit("/", 1)[-1] for p in fs.ls(folder, detail=False)] == ["out.json"]


def test_atomic_path_writes_a_folder_whole_or_not_at_all(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "index") as tmp:
        tmp.mkdir()
        (tmp / "a.npy").write_bytes(b"1")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []
    with atomic_path(tmp_path / "index") as tmp:
        tmp.mkdir()
        (tmp / "a.npy").write_bytes(b"1")
    assert [p.name for p in tmp_path.iterdir()] == ["index"]
    assert (tmp_path / "index" / "a.npy").read_bytes() == b"1"


@pytest.mark.parametrize("text, size", [
    ("4096", 4096), ("10B", 10), ("2K", 2048), ("2KiB", 2048), ("256MB", 256 * 1024 * 1024),
    ("256 MiB", 268_435_456), ("100mb", 104_857_600), ("1.5G", 1_610_612_736),
    ("1TiB", 1_099_511_627_776),
])
def test_sizes_are_binary_with_or_without_the_i(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "MB", "-1", "1.5 GB x", "1 PB", ""])
def test_what_is_not_a_size_is_refused(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


@pytest.mark.parametrize("n, text", [
    (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
    (268_435_456, "256.0 MiB"), (104_857_600, "100.0 MiB"), (131_266_198, "125.2 MiB"),
    (3 * 1024**4, "3.0 TiB"),
])
def test_sizes_print_in_binary_units(n, text):
    assert format_size(n) == text


def test_a_size_printed_reads_back_as_the_same_size():
    for n in (1024, 3 * 2**20, 256 * 2**20, 5 * 2**30):
        assert parse_size(format_size(n)) == n
