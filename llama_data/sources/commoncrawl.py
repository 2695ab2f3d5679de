"""Common Crawl WARC and WET files (``*.warc[.gz]``, ``*.warc.wet[.gz]``) -> one Document per page.

WET ``conversion`` records already hold the page text (what CCNet starts from); WARC ``response``
records hold the HTML, turned into main-content text with Resiliparse; a body kept as the server
sent it (chunked, gzip, deflate, br, zstd: WARCs from wget, warcio, Browsertrix) is decoded first,
to at most ``max_bytes``. Records that are not pages (warcinfo, request, metadata, non-HTML
responses) are not documents: they are counted in ``skipped`` so that documents + errors + skipped
accounts for every record.

FastWARC parses the records, but it is given the stream that :func:`llama_data.io.open_input` has
already decompressed: FastWARC's own gzip reader stops silently at a cut or damaged stream, which
would lose the file's tail without a word, whereas Python's gzip reports it. Positions in messages
are record numbers (1-based, every record counted) and byte offsets in the decompressed stream.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5
from resiliparse.parse.html import HTMLTree

from llama_data.document import Document
from llama_data.errors import InputError, InvalidEncoding, MalformedRecord, TruncatedInput
from llama_data.io import COMPRESSION_ERRORS, open_input
from llama_data.sources.http_body import BodyError, decode_body

SOURCE = "commoncrawl"

# Common Crawl cuts every fetched payload at 1 MiB (WARC-Truncated: length), so no CC page and none
# that CCNet or RedPajama keep comes near this; the limit only bounds memory (and HTML parsing time)
# on foreign WARCs or a corrupt Content-Length, while leaving room for WARCs from other crawlers.
MAX_BYTES = 20 * 2**20

HTML_TYPES = ("text/html", "application/xhtml+xml")
FORMATS = ("auto", "wet", "warc")
_RECORD_START = re.compile(rb"\nWARC/1\.[01]\r?\n")


class _Decompressed(io.RawIOBase):
    """``open_input``'s stream for FastWARC: a cut or corrupt compressed stream reads as the end
    of the data, and the error is kept in ``error`` (reads go one decompressed chunk at a time, so
    nothing decoded before the damage is lost)."""

    def __init__(self, inner):
        self.inner = inner
        self.error: Exception | None = None
        self._read1 = getattr(inner, "read1", inner.read)

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.inner.tell()

    def read(self, size: int = -1) -> bytes:
        if self.error is not None:
            return b""
        try:
            return self._read1(size if size > 0 else 1 << 16)
        except COMPRESSION_ERRORS as e:
            self.error = e
            return b""


class WarcReader:
    """Iterate one WARC or WET file: a Document per page, or an :class:`InputError` for what
    cannot be read; it never raises for bad input.

    Per record (reading goes on): an empty payload, one over ``max_bytes`` (stored, or decoded from
    its HTTP coding), without a URI/ID or with a body that does not decode
    (:class:`MalformedRecord`), a WET text that is not UTF-8 (:class:`InvalidEncoding`). Garbage
    or an unparseable header between records is one :class:`MalformedRecord`, after which reading
    resumes at the next ``WARC/1.x`` line. A cut or corrupt file is one :class:`TruncatedInput` and
    ends it, keeping the records before.

    ``fmt`` "wet" reads conversion records, "warc" HTML responses, and "auto" decides on the first
    conversion or response record met.
    """

    def __init__(self, path: str, fmt: str = "auto", max_bytes: int = MAX_BYTES):
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
        self.path = path
        self.fmt = fmt
        self.max_bytes = max_bytes
        self.records = 0  # WARC records seen, of any type
        self.skipped = 0  # records that are not pages: warcinfo, request, metadata, non-HTML, ...

    def __iter__(self) -> Iterator[Document | InputError]:
        self.records = self.skipped = 0
        self._format = None if self.fmt == "auto" else self.fmt
        try:
            with open_input(self.path) as raw:
                yield from self._read(raw)
        except InputError as e:
            yield e
        except COMPRESSION_ERRORS as e:  # met while looking for the next record after garbage
            yield self._cut(e)

    def _cut(self, error: Exception, where: str | None = None) -> TruncatedInput:
        return TruncatedInput(self.path, f"compressed stream is cut or corrupt ({error})",
                              where or f"after record {self.records}")

    def _read(self, raw) -> Iterator[Document | InputError]:
        start = 0  # where the current ArchiveIterator began
        while True:
            stream = _Decompressed(raw)
            records = iter(ArchiveIterator(stream, parse_http=True))
            last: WarcRecord | None = None
            error: Exception | None = None
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except (OSError, ValueError) as e:  # FastWARC found no valid header here
                    error = e
                    break
                last = record
                self.records += 1
                if stream.error is not None and _length(record) is None:
                    # FastWARC hands out the part of a header that the end of the data cut short.
                    where = f"record {self.records}, byte {record.stream_pos}"
                    yield self._cut(stream.error, where)
                    return
                item = self._record(record)
                if isinstance(item, TruncatedInput):
                    yield item
                    return
                if item is not None:
                    yield item
            if stream.error is not None:  # the data ends (inside a header, or between records)
                yield self._cut(stream.error)
                return
            if error is None:
                return
            # Not a record header where one should start: report it, resume at the next one.
            # (For compressed input the seeks below decompress again from the file's start.)
            after = _record_end(raw, last) if last is not None else start + 1
            resume = _find_record_start(raw, after)
            lost = "the rest of the file" if resume is None else f"{resume - after} bytes"
            yield MalformedRecord(self.path, f"no valid WARC record header ({error}); skipped "
                                  f"{lost}", f"after record {self.records}, byte {after}")
            if resume is None:
                return
            raw.seek(start := resume)

    def _record(self, record: WarcRecord) -> Document | InputError | None:
        kind = record.record_type
        if self._format is None and kind in (WarcRecordType.conversion, WarcRecordType.response):
            self._format = "wet" if kind == WarcRecordType.conversion else "warc"
        if self._format == "wet" and kind == WarcRecordType.conversion:
            html = False
        elif (self._format == "warc" and kind == WarcRecordType.response and record.is_http
              and (record.http_content_type or "").lower() in HTML_TYPES):
            html = True
        else:
            html = None
        where = f"record {self.records}, byte {record.stream_pos}"
        if _length(record) is None:  # FastWARC takes the length as 0, not as an error
            return MalformedRecord(self.path, "record header without a valid Content-Length "
                                   "(malformed, or cut short by the end of the file)", where)
        size = record.content_length
        if html is None or size > self.max_bytes:
            if (got := record.consume()) < size:
                return self._ends_inside(got, size, where)
            if html is None:
                self.skipped += 1
                return None
            return MalformedRecord(self.path, f"record of {size} bytes over the limit of "
                                   f"{self.max_bytes} bytes", where)
        payload = record.reader.read()
        if len(payload) < size:
            return self._ends_inside(len(payload), size, where)
        url, record_id = record.headers.get("WARC-Target-URI"), record.record_id
        if not url or not record_id:
            return MalformedRecord(self.path, "record without WARC-Target-URI or WARC-Record-ID",
                                   where)
        if html:
            http = record.http_headers
            try:
                payload = decode_body(payload, http.get("Transfer-Encoding", ""),
                                      http.get("Content-Encoding", ""), self.max_bytes)
            except BodyError as e:
                return MalformedRecord(self.path, str(e), where)
        if not payload.strip():
            return MalformedRecord(self.path, "empty record", where)
        meta = {"warc_record_id": record_id, "date": record.headers.get("WARC-Date"),
                "format": self._format}
        if html:
            encoding = _html_encoding(record, payload)
            tree = HTMLTree.parse_from_bytes(payload, encoding)
            text = extract_plain_text(tree, main_content=True)
            meta |= {"digest": record.headers.get("WARC-Payload-Digest"), "encoding": encoding}
        else:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError as e:
                return InvalidEncoding(self.path, f"payload is not UTF-8 ({e.reason} at payload "
                                       f"byte {e.start})", where)
            meta["digest"] = record.headers.get("WARC-Block-Digest")
            if lang := record.headers.get("WARC-Identified-Content-Language"):
                meta["cc_lang"] = lang
        key = hashlib.sha1(f"{url}\n{record_id}".encode()).hexdigest()[:20]
        return Document(id=f"{SOURCE}/{key}", text=text, source=SOURCE, url=url, meta=meta)

    def _ends_inside(self, got: int, size: int, where: str) -> TruncatedInput:
        return TruncatedInput(self.path, f"the file ends inside the record ({got} of {size} "
                              "bytes)", where)


def _html_encoding(record: WarcRecord, body: bytes) -> str:
    """The HTTP Content-Type charset if it names a known encoding, else the HTML's
    ``<meta charset>``, else what the bytes look like."""
    declared = record.http_charset
    known = map_encoding_to_html5(declared, fallback_utf8=False) if declared else None
    return known or detect_encoding(body, from_html_meta=True) or "utf-8"


def _length(record: WarcRecord) -> int | None:
    """The record's Content-Length header, None if it has none or not a number."""
    length = record.headers.get("Content-Length", "").strip()
    return int(length) if length.isdigit() else None


def _record_end(raw, record: WarcRecord) -> int:
    """Where ``record`` (already read) ends: after its header and Content-Length bytes, or after
    its header alone when the length is unusable."""
    raw.seek(record.stream_pos)
    head = raw.read(64 << 10)
    header_end = head.find(b"\r\n\r\n")
    if header_end < 0:
        return record.stream_pos + 1
    return record.stream_pos + header_end + 4 + (_length(record) or 0)


def _find_record_start(raw, pos: int) -> int | None:
    """The offset of the first ``WARC/1.x`` line that starts after ``pos``, or None."""
    raw.seek(pos)
    carry, base = b"", pos
    while chunk := raw.read(1 << 20):
        data = carry + chunk
        if match := _RECORD_START.search(data):
            return base + match.start() + 1
        carry = data[-16:]
        base += len(data) - len(carry)
    return None
