"""HTTP response bodies as WARCs from wget, warcio or Browsertrix store them: as sent.

Common Crawl stores bodies decoded; other crawlers keep the transfer framing (``chunked``) and the
content coding (gzip, deflate, br, zstd). Each coding goes through a maintained decoder: zlib for
gzip and deflate (zlib-wrapped or raw, both met in the wild), FastWARC's stream readers for br and
zstd. Every decoder stops at ``limit`` bytes of output, so a decompression bomb costs ``limit``
bytes of memory and becomes one :class:`BodyError`, as does a cut or corrupt body.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable

from fastwarc.stream_io import BrotliReader, ZstdReader

# A chunk-size line: hex size, optional extensions (";name=value"), CRLF (or a bare LF).
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")
_BLOCK = 1 << 20


class BodyError(ValueError):
    """A body that cannot be decoded: cut, corrupt, over the size limit, or of an unknown coding."""


def decode_body(body: bytes, transfer_encoding: str, content_encoding: str, limit: int) -> bytes:
    """``body`` with its transfer and content codings undone, in the reverse of their order."""
    transfer = _codings(transfer_encoding)
    if "chunked" in transfer:  # framing only, never longer than the stored body: no limit needed
        transfer.remove("chunked")
        body = _dechunk(body)
    for coding in reversed(_codings(content_encoding) + transfer):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise BodyError(f"unsupported HTTP coding {coding!r}")
        try:
            body = decoder(body, limit)
        except (zlib.error, OSError) as e:
            raise BodyError(f"HTTP body is not valid {coding} ({e})") from None
    return body


def _codings(header: str) -> list[str]:
    """The codings a header lists, in the order they were applied; ``identity`` left out."""
    return [c for c in (c.strip().lower() for c in header.split(",")) if c not in ("", "identity")]


def _dechunk(body: bytes) -> bytes:
    """The data of a ``chunked`` body. One that does not start with a chunk-size line was stored
    already de-chunked under the original header (some crawlers do), and is taken as it is, as
    warcio reads it. (FastWARC's ChunkedReader refuses chunk extensions, which HTTP allows.)"""
    parts, pos = [], 0
    while (size_line := _CHUNK_SIZE.match(body, pos)) is not None:
        size = int(size_line.group(1), 16)
        if size == 0:
            return b"".join(parts)
        start, pos = size_line.end(), size_line.end() + size
        if pos > len(body):
            break
        parts.append(body[start:pos])
        if body.startswith(b"\r\n", pos):
            pos += 2
        elif body.startswith(b"\n", pos):
            pos += 1
    if pos == 0:
        return body
    raise BodyError(f"chunked HTTP body is cut or corrupt at body byte {min(pos, len(body))}")


def _inflate(body: bytes, limit: int, wbits: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    out = decoder.decompress(body, limit + 1)
    _check_size(out, limit)
    if not decoder.eof:
        raise zlib.error("the compressed stream is cut short")
    return out


def _deflate(body: bytes, limit: int) -> bytes:
    """HTTP's deflate is zlib-wrapped by the standard, raw deflate from some servers."""
    try:
        return _inflate(body, limit, zlib.MAX_WBITS)
    except zlib.error:
        return _inflate(body, limit, -zlib.MAX_WBITS)


def _stream_decoder(reader: type) -> Callable[[bytes, int], bytes]:
    def decode(body: bytes, limit: int) -> bytes:
        stream, parts, size = reader(io.BytesIO(body)), [], 0
        while size <= limit and (block := stream.read(min(_BLOCK, limit + 1 - size))):
            parts.append(block)
            size += len(block)
        return _check_size(b"".join(parts), limit)
    return decode


def _check_size(out: bytes, limit: int) -> bytes:
    if len(out) > limit:
        raise BodyError(f"HTTP body decodes to more than the limit of {limit} bytes")
    return out


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": lambda body, limit: _inflate(body, limit, 16 + zlib.MAX_WBITS),
    "x-gzip": lambda body, limit: _inflate(body, limit, 16 + zlib.MAX_WBITS),
    "deflate": _deflate,
    "br": _stream_decoder(BrotliReader),
    "zstd": _stream_decoder(ZstdReader),
}
