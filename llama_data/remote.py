"""Remote files over connections that drop: retries with exponential backoff that resume at the
byte reached, progress as the bytes come, and downloads verified before they are put in place.

Fetching a 1 GB WET file or a 4 GB language model takes minutes: long enough to meet a reset
connection, a stalled socket or a 503 from a busy server. Each such failure costs a wait and a
reconnect at the byte reached (an HTTP ``Range`` request), never the bytes already read and never
bytes read twice. Only a failure that repeats ``Retry.retries`` times without progress, or one no
retry can mend (a 404), ends the file, as a :class:`~llama_data.errors.RemoteReadError` naming the
URL and the byte offset.

HTTP(S) goes through urllib: one streamed GET per connection (fsspec's HTTP files make one range
request per block, and need aiohttp). Other protocols (``s3://``, ``gs://``, ...) go through
fsspec and resume by reopening and seeking.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import io
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO, TextIO

import fsspec

from llama_data import __version__
from llama_data.errors import ChecksumMismatch, LlamaDataError, RemoteReadError
from llama_data.hashing import sha256_file
from llama_data.units import format_size

log = logging.getLogger(__name__)

PROGRESS_EVERY = 64 * 2**20  # bytes between two progress lines of a remote read
NETWORK_ERRORS = (OSError, http.client.HTTPException)  # what a dropped connection raises
_PERMANENT = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")


@dataclasses.dataclass(frozen=True)
class Retry:
    """How failed reads are retried: up to ``retries`` times in a row without progress (any byte
    read resets the count), waiting ``backoff`` seconds, then twice as long each time, at most
    ``max_wait``. ``timeout``: seconds a connection may stay silent before it counts as failed."""

    retries: int = 5
    backoff: float = 1.0
    max_wait: float = 60.0
    timeout: float = 60.0

    def wait(self, failures: int) -> float:
        return min(self.backoff * 2 ** (failures - 1), self.max_wait)


RETRY = Retry()


def is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def is_remote(path: str) -> bool:
    """A URL whose protocol goes over a network (not a local path, ``file://`` or ``memory://``)."""
    return fsspec.core.split_protocol(path)[0] not in (None, "file", "local", "memory")


def transient(error: BaseException) -> bool:
    """Whether a later try may succeed: a dropped, reset or refused connection, a timeout, an HTTP
    5xx, 408 or 429; not a 404 or 403, nor a missing local file."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code in (408, 429)
    return isinstance(error, NETWORK_ERRORS) and not isinstance(error, _PERMANENT)


def _backoff(url: str, error: BaseException, offset: int, failures: int, retry: Retry) -> None:
    """Log ``error`` and sleep before the next try, or raise :class:`RemoteReadError` when no try
    is left or none can help."""
    what = str(error) or type(error).__name__
    if not transient(error):
        raise RemoteReadError(url, what, f"byte {offset}") from error
    if failures > retry.retries:
        raise RemoteReadError(url, f"{what} (gave up after {failures} tries)",
                              f"byte {offset}") from error
    wait = retry.wait(failures)
    log.warning("%s: %s at byte %d; retry %d of %d in %.1f s", url, what, offset, failures,
                retry.retries, wait)
    time.sleep(wait)


@dataclasses.dataclass
class _Response:
    body: BinaryIO
    start: int  # the byte of the file that the body starts at
    size: int | None  # the whole file's size, when the server says


def http_get(url: str, offset: int, timeout: float) -> _Response:
    """GET ``url`` from byte ``offset`` on. A server that ignores ``Range`` answers with the whole
    file (``start`` 0); a request for the byte just after the end (a complete file) gets an empty
    body rather than the 416 error."""
    headers = {"User-Agent": f"llama-data/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                          timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and e.headers.get("Content-Range", "") == f"bytes */{offset}":
            e.close()
            return _Response(io.BytesIO(), offset, offset)
        raise
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        if match is None:
            response.close()
            raise http.client.HTTPException("a 206 answer without a Content-Range")
        return _Response(response, int(match[1]), int(match[2]) if match[2] != "*" else None)
    length = response.headers.get("Content-Length", "")
    return _Response(response, 0, int(length) if length.isdigit() else None)


class RemoteFile(io.RawIOBase):
    """A remote file as a seekable raw stream that survives dropped connections: a failed read
    waits and reopens the file at the byte reached. A connection closed before the announced size
    counts as dropped (urllib reads it as a quiet end of data). Logs progress every
    :data:`PROGRESS_EVERY` bytes."""

    def __init__(self, url: str, retry: Retry | None = None):
        self.url = url
        self.retry = retry or RETRY
        self.size: int | None = None
        self._pos = 0
        self._body: BinaryIO | None = None
        self._next_report = PROGRESS_EVERY

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("a remote file seeks from its start or its position")
        if offset != self._pos:
            self._drop()
            self._pos = offset
        return self._pos

    def readinto(self, buffer) -> int:
        failures = 0
        while True:
            try:
                if self._body is None:
                    if self.size is not None and self._pos >= self.size:
                        return 0
                    self._body = self._open()
                # One socket read (read1), not a fill of the whole buffer: an error after it
                # would lose what it had received, to be fetched again.
                read = getattr(self._body, "read1", self._body.read)
                data = read(len(buffer))
                if not data and len(buffer) and self.size is not None and self._pos < self.size:
                    raise ConnectionError(f"connection closed before the end ({self.size} bytes)")
                break
            except NETWORK_ERRORS as e:
                self._drop()
                failures += 1
                _backoff(self.url, e, self._pos, failures, self.retry)
        n = len(data)
        buffer[:n] = data
        self._pos += n
        if self._pos >= self._next_report:
            total = f" of {format_size(self.size)}" if self.size else ""
            log.info("%s: %s%s", self.url, format_size(self._pos), total)
            self._next_report = (self._pos // PROGRESS_EVERY + 1) * PROGRESS_EVERY
        return n

    def _open(self) -> BinaryIO:
        """The file's bytes from ``self._pos`` on."""
        if not is_http(self.url):
            body = fsspec.open(self.url, "rb").open()
            self.size = getattr(body, "size", None)
            body.seek(self._pos)
            return body
        response = http_get(self.url, self._pos, self.retry.timeout)
        self.size = response.size
        try:
            if response.start > self._pos:
                raise http.client.HTTPException(f"asked for byte {self._pos} on, got "
                                                f"{response.start} on")
            if response.start < self._pos:
                log.warning("%s: the server ignores Range requests: reading %d bytes again to "
                            "resume", self.url, self._pos - response.start)
                _skip(response.body, self._pos - response.start)
        except BaseException:
            response.body.close()
            raise
        return response.body

    def _drop(self) -> None:
        if self._body is not None:
            with contextlib.suppress(*NETWORK_ERRORS):
                self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop()
        super().close()


def _skip(body: BinaryIO, n: int) -> None:
    while n:
        chunk = body.read(min(n, 1 << 20))
        if not chunk:
            raise ConnectionError("connection closed while skipping to the resume offset")
        n -= len(chunk)


class _Progress:
    """Download progress on ``out``, at most one line a second: bytes, share of the total, speed."""

    def __init__(self, name: str, out: TextIO):
        self.name, self.out = name, out
        self.start = self.last = time.monotonic()
        self.received = 0

    def update(self, received: int, done: int, total: int | None) -> None:
        self.received += received
        now = time.monotonic()
        if now - self.last < 1:
            return
        self.last = now
        share = f" of {format_size(total)} ({100 * done / total:.0f}%)" if total else ""
        speed = format_size(self.received / (now - self.start))
        print(f"{self.name}: {format_size(done)}{share}, {speed}/s", file=self.out, flush=True)


def download(url: str, dest: Path, sha256: str | None = None, size: int | None = None,
             retry: Retry | None = None, out: TextIO | None = None) -> str:
    """Fetch ``url`` into ``dest`` and return its sha256. Bytes go to ``dest.partial``, which a
    later call continues after an interruption (a server that ignores ``Range`` starts it over);
    failures are retried as :class:`RemoteFile` does. The file must have ``size`` and ``sha256``
    where given: otherwise the partial file is deleted (:class:`ChecksumMismatch`); else it is
    renamed to ``dest`` at once, so ``dest`` is never a partial or unverified file."""
    retry = retry or RETRY
    partial = dest.with_name(dest.name + ".partial")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if size is not None and partial.exists() and partial.stat().st_size > size:
        partial.unlink()  # longer than the file: not a prefix of it
    progress = _Progress(dest.name, out or sys.stderr)
    failures = 0
    with partial.open("ab") as f:
        while (offset := f.tell()) != size:
            try:
                _append(url, f, retry.timeout, progress)
                break
            except NETWORK_ERRORS as e:
                failures = 1 if f.tell() > offset else failures + 1
                _backoff(url, e, f.tell(), failures, retry)
        got_size = f.tell()
    if size is not None and got_size != size:
        partial.unlink()
        raise LlamaDataError(f"{dest}: {got_size} bytes, expected {size} (the download was "
                             "deleted)")
    got = sha256_file(partial)
    if sha256 is not None and got != sha256:
        partial.unlink()
        raise ChecksumMismatch(str(dest), sha256, got)
    os.replace(partial, dest)
    return got


def _append(url: str, f: BinaryIO, timeout: float, progress: _Progress) -> None:
    """Append the rest of ``url`` to ``f`` over one connection."""
    offset = f.tell()
    response = http_get(url, offset, timeout)
    with response.body as body:
        if response.start > offset:
            raise http.client.HTTPException(f"asked for byte {offset} on, got {response.start} on")
        if response.start < offset:
            log.warning("%s: the server ignores Range requests: downloading it again from byte "
                        "%d", url, response.start)
            f.truncate(response.start)
            f.seek(response.start)
        while chunk := body.read(1 << 20):
            f.write(chunk)
            progress.update(len(chunk), f.tell(), response.size)
    if response.size is not None and f.tell() < response.size:
        raise ConnectionError(f"connection closed before the end ({response.size} bytes)")
