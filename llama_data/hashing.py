"""The project's stable hashes: the same value in every process, on every machine, in every run
(Python's ``hash()`` is salted per process)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import fsspec

HASH_BYTES = 8  # a 64-bit integer: what CCNet's line hashes and the bucket keys use
BYTE_ORDER = "little"  # CCNet's order (numpy's uint64 on x86 and ARM), fixed on every machine


def sha1_int(data: bytes | str, nbytes: int = HASH_BYTES) -> int:
    """The first ``nbytes`` of SHA-1(``data``; a str as UTF-8), read as an unsigned little-endian
    integer. With the defaults on a CCNet-normalised line this is CCNet's ``str_hash``."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return int.from_bytes(hashlib.sha1(data).digest()[:nbytes], BYTE_ORDER)


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file's bytes, local or an fsspec URL, read in blocks."""
    with fsspec.open(str(path), "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
