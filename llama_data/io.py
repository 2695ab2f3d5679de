"""Opening raw inputs: local paths or fsspec URLs, plain or compressed (detected from the bytes).
Remote URLs are read through :class:`llama_data.remote.RemoteFile`, which resumes after a dropped
connection at the byte reached."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from llama_data.errors import NoInputFiles, TruncatedInput
from llama_data.remote import RemoteFile, is_http, is_remote

# What Python's decompressors raise on a truncated or damaged stream.
COMPRESSION_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, OSError, lzma.LZMAError)

_MAGIC = {
    b"BZh": lambda raw: bz2.BZ2File(raw, "rb"),
    b"\x1f\x8b": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
    b"\xfd7z": lambda raw: lzma.LZMAFile(raw, "rb"),  # noqa: SIM115 (closed by open_input)
}
# The raw streams open_input has open in this process, by path: a reader's caller can tell how far
# into the (compressed) file it is, for progress, without the readers passing the stream out.
_OPEN: dict[str, BinaryIO] = {}


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path | str]:
    """A temporary path beside ``path`` to write a file or a folder to; moved over ``path`` when
    the block ends well, removed when it does not. A reader never sees a half-written file, and a
    killed writer leaves the previous one in place (and at most a ``.tmp-*`` sibling).

    A local ``path`` gives a :class:`Path` and an atomic rename. An fsspec URL gives a URL to write
    through fsspec; on object stores the final move is a copy, so readers there trust only files
    that a manifest written after them names."""
    fs, fs_path = fsspec.core.url_to_fs(str(path))
    tmp = f"{fs_path}.tmp-{uuid.uuid4().hex}"
    local = isinstance(fs, LocalFileSystem)
    try:
        yield Path(tmp) if local else fs.unstrip_protocol(tmp)
        if local:
            os.replace(tmp, fs_path)
        else:
            fs.mv(tmp, fs_path, recursive=True)
    finally:
        if fs.exists(tmp):
            fs.rm(tmp, recursive=True)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", **kwargs) -> Iterator[IO]:
    """``open(path, mode)`` through fsspec, written atomically as :func:`atomic_path` says."""
    with atomic_path(path) as tmp, fsspec.open(str(tmp), mode, **kwargs) as f:
        yield f


@contextlib.contextmanager
def open_input(path: str) -> Iterator[BinaryIO]:
    """A binary stream of ``path``'s content, decompressed if it is bzip2, gzip or xz (multistream
    too). A remote file that cannot be read on, even after retries, raises RemoteReadError."""
    opened = io.BufferedReader(RemoteFile(path), 1 << 20) if is_remote(path) else fsspec.open(
        path, "rb")
    with opened as raw:
        _OPEN[path] = raw
        try:
            head = raw.peek(3)[:3] if hasattr(raw, "peek") else raw.read(3)
            if not hasattr(raw, "peek"):
                raw.seek(0)
            opener = next((cls for magic, cls in _MAGIC.items() if head.startswith(magic)), None)
            if opener is None:
                yield raw
                return
            try:
                stream = opener(raw)
            except COMPRESSION_ERRORS as e:
                raise TruncatedInput(path, f"cannot decompress: {e}") from e
            with stream:
                yield stream
        finally:
            if _OPEN.get(path) is raw:
                del _OPEN[path]


def position(path: str) -> int | None:
    """How many raw (compressed) bytes of ``path`` this process has read so far through
    :func:`open_input`, decompressors' read-ahead included; None when it has no such file open."""
    raw = _OPEN.get(path)
    try:
        return None if raw is None else raw.tell()
    except (OSError, ValueError):  # closed meanwhile by another thread, or not seekable
        return None


def expand_inputs(patterns: list[str], list_base: str | None = None,
                  folders: bool = False) -> list[str]:
    """Every file matched by ``patterns`` (globs, local or fsspec URLs), sorted, each once. With
    ``list_base``, a matched ``*.paths.gz`` (CommonCrawl's lists) stands for the files it names,
    relative to ``list_base``. With ``folders``, a matched folder is an input too (a
    repository)."""
    found: set[str] = set()
    for pattern in patterns:
        for match in _matches(pattern, folders):
            if list_base is not None and match.endswith(".paths.gz"):
                found.update(_listed(match, list_base))
            else:
                found.add(match)
    return sorted(found)


def _matches(pattern: str, folders: bool = False) -> list[str]:
    """The files (and folders) ``pattern`` names. An HTTP(S) URL names itself: HTTP has no
    listing to glob."""
    if is_http(pattern):
        return [pattern]
    fs, _ = fsspec.core.url_to_fs(pattern)
    matches = [m for m in fs.glob(pattern) if fs.isfile(m) or folders and fs.isdir(m)]
    if not matches:
        raise NoInputFiles(f"no input file matches {pattern!r}")
    local = "file" in ([fs.protocol] if isinstance(fs.protocol, str) else fs.protocol)
    return [os.path.normpath(m) if local else fs.unstrip_protocol(m) for m in matches]


def _listed(path: str, base: str) -> list[str]:
    with open_input(path) as stream:
        lines = [line.strip() for line in stream.read().decode("utf-8").splitlines()]
    return [line if "://" in line or line.startswith("/") else base.rstrip("/") + "/" + line
            for line in lines if line]
