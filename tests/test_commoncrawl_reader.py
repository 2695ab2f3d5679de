from __future__ import annotations

import gzip
import re
import tracemalloc
import uuid
import zlib
from pathlib import Path

import pyarrow as pa
import pytest

from llama_data.document import Document
from llama_data.errors import InputError, InvalidEncoding, MalformedRecord, TruncatedInput
from llama_data.sources.commoncrawl import WarcReader

CC_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "commoncrawl"
TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
CJK = re.compile(r"[\u4e00-\u9fff]")


def sample(name: str) -> Path:
    path = CC_CORPUS / name
    if not path.exists():
        pytest.skip(f"real Common Crawl sample {name} not found in {CC_CORPUS} "
                    "(../shared beside the checkout)")
    return path


def read(path: Path, **kwargs) -> tuple[WarcReader, list[Document], list[InputError]]:
    reader = WarcReader(str(path), **kwargs)
    items = list(reader)
    docs = [i for i in items if isinstance(i, Document)]
    errors = [i for i in items if isinstance(i, InputError)]
    assert len(docs) + len(errors) == len(items)
    return reader, docs, errors


# --- WARC files written by hand: header lines, CRLF, payload, CRLF CRLF; gzip per record ---

def record(warc_type: str, payload: bytes, uri: str | None = "http://example.com/",
           content_type: str = "text/plain") -> bytes:
    record_id = uuid.uuid5(uuid.NAMESPACE_URL, repr(payload) + str(uri))
    headers = [f"WARC-Type: {warc_type}", f"WARC-Record-ID: <urn:uuid:{record_id}>",
               "WARC-Date: 2020-02-17T10:00:00Z",
               f"Content-Type: {content_type}", f"Content-Length: {len(payload)}"]
    if uri:
        headers.insert(1, f"WARC-Target-URI: {uri}")
    return ("WARC/1.0\r\n" + "\r\n".join(headers) + "\r\n\r\n").encode() + payload + b"\r\n\r\n"


def wet(n: int, text: bytes | None = None) -> bytes:
    body = text if text is not None else f"Page {n} has some words.\nAnd a second line.".encode()
    return record("conversion", body, f"http://example.com/{n}")


def response(n: int, html: str, charset: str | None = "utf-8", content_type="text/html") -> bytes:
    ctype = f"{content_type}; charset={charset}" if charset else content_type
    body = html.encode(charset or "utf-8")
    http = (f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
    return record("response", http, f"http://example.com/{n}",
                  "application/http; msgtype=response")


def write_warc(path: Path, parts: list[bytes]) -> Path:
    """Plain, or one gzip member per part like Common Crawl's files when the name ends in .gz."""
    if path.suffix == ".gz":
        path.write_bytes(b"".join(gzip.compress(p, mtime=0) for p in parts))
    else:
        path.write_bytes(b"".join(parts))
    return path


WARCINFO = record("warcinfo", b"software: hand-written\r\n", None, "application/warc-fields")


# --- the real samples ---

def test_real_wet_file_gives_its_page_with_metadata():
    reader, docs, errors = read(sample("whirlwind.warc.wet.gz"))
    assert errors == [] and len(docs) == 1
    doc = docs[0]
    assert doc.url == "https://an.wikipedia.org/wiki/Escopete"
    assert doc.source == "commoncrawl" and re.fullmatch(r"commoncrawl/[0-9a-f]{20}", doc.id)
    assert doc.lang is None and doc.lang_score is None
    assert doc.meta["format"] == "wet" and doc.meta["cc_lang"]
    assert doc.meta["warc_record_id"].startswith("<urn:uuid:") and doc.meta["date"]
    assert doc.meta["digest"].startswith("sha1:")
    assert "Escopete" in doc.text
    assert reader.skipped == 1 and reader.records == 2  # the warcinfo record
    assert [d.id for d in read(sample("whirlwind.warc.wet.gz"))[1]] == [doc.id]  # stable


def test_real_warc_file_gives_clean_text_of_its_html_response():
    reader, docs, errors = read(sample("whirlwind.warc.gz"))
    assert errors == [] and len(docs) == 1
    doc = docs[0]
    assert doc.url == "https://an.wikipedia.org/wiki/Escopete" and doc.meta["format"] == "warc"
    assert not TAG.search(doc.text) and "<" not in doc.text
    assert "Escopete" in doc.text and "Castiella-La Mancha" in doc.text
    assert reader.records == 4 and reader.skipped == 3  # warcinfo, request, metadata


def test_real_warc_file_decodes_every_charset():
    reader, docs, errors = read(sample("resiliparse-warcfile.warc.gz"))
    assert errors == []
    assert len(docs) == 16  # its HTML responses; the rest are requests, metadata, warcinfo
    assert len(docs) + reader.skipped == reader.records == 50
    assert all(not TAG.search(d.text) for d in docs)
    assert all("\ufffd" not in d.text for d in docs)
    assert sum(bool(CJK.search(d.text)) for d in docs) >= 8
    texts = {d.url: d.text for d in docs}
    assert "中山英才网" in texts["http://0760.jxtdw.com/area/sanxiang/"]  # HTTP charset gb2312
    assert "耐磨板特价销售" in texts["http://041696.com/15477/list_6_4.html"]  # no HTTP charset
    assert "пожарной безопасности" in texts["http://01spb.ru/company/"]  # windows-1251
    assert len({d.id for d in docs}) == len(docs)


def test_fmt_picks_the_records_that_are_documents():
    reader, docs, errors = read(sample("whirlwind.warc.gz"), fmt="wet")
    assert docs == [] and errors == [] and reader.skipped == reader.records == 4
    with pytest.raises(ValueError):
        WarcReader("x.warc.gz", fmt="html")


# --- planted files ---

@pytest.mark.parametrize("name", ["pages.warc", "pages.warc.gz"])
def test_written_wet_and_warc_files_read_plain_or_gzipped(tmp_path, name):
    wet_file = write_warc(tmp_path / f"a.wet.{name}", [WARCINFO, wet(1), wet(2)])
    reader, docs, errors = read(wet_file)
    assert errors == [] and [d.text for d in docs] == [
        f"Page {i} has some words.\nAnd a second line." for i in (1, 2)]
    assert reader.skipped == 1
    html = "<html><body><article><h1>Title</h1><p>{}</p></article></body></html>"
    warc_file = write_warc(tmp_path / name, [
        WARCINFO, response(1, html.format("Grüße aus Köln, " * 20), "iso-8859-1"),
        response(2, "%PDF-1.4 not html", None, "application/pdf"),
        response(3, html.format("Plain words here. " * 20))])
    reader, docs, errors = read(warc_file)
    assert errors == [] and len(docs) == 2 and reader.skipped == 2
    assert "Grüße aus Köln" in docs[0].text and docs[0].meta["encoding"] == "cp1252"
    assert "Plain words here." in docs[1].text and not TAG.search(docs[1].text)


def test_truncated_gzip_keeps_records_before_and_reports_once(tmp_path):
    path = tmp_path / "cut.warc.wet.gz"
    data = write_warc(path, [WARCINFO, *(wet(i) for i in range(5))]).read_bytes()
    path.write_bytes(data[:-100])
    _, docs, errors = read(path)
    assert [d.url for d in docs] == [f"http://example.com/{i}" for i in range(4)]
    assert len(errors) == 1 and isinstance(errors[0], TruncatedInput)
    assert str(path) in str(errors[0]) and "record 6" in str(errors[0])


def test_plain_file_cut_inside_a_record(tmp_path):
    path = tmp_path / "cut.warc"
    path.write_bytes(b"".join([wet(1), wet(2)])[:-30])
    _, docs, errors = read(path)
    assert len(docs) == 1 and len(errors) == 1 and isinstance(errors[0], TruncatedInput)
    assert str(path) in str(errors[0]) and "ends inside the record" in str(errors[0])


@pytest.mark.parametrize("name", ["garbage.warc", "garbage.warc.gz"])
def test_garbage_between_records_is_one_error_and_reading_goes_on(tmp_path, name):
    garbage = b"this is not a WARC record\r\n\r\n"
    path = write_warc(tmp_path / name, [wet(1), garbage, wet(2), wet(3)])
    _, docs, errors = read(path)
    assert [d.url for d in docs] == [f"http://example.com/{i}" for i in (1, 2, 3)]
    assert len(errors) == 1 and isinstance(errors[0], MalformedRecord)
    assert str(path) in str(errors[0]) and "after record 1" in str(errors[0])


def test_garbage_between_gzip_members_ends_the_file(tmp_path):
    path = tmp_path / "bad-member.warc.gz"
    path.write_bytes(gzip.compress(wet(1), mtime=0) + b"junk" + gzip.compress(wet(2), mtime=0))
    _, docs, errors = read(path)
    assert len(docs) == 1 and len(errors) == 1 and isinstance(errors[0], TruncatedInput)
    assert str(path) in str(errors[0])


def test_a_file_that_is_no_warc_at_all(tmp_path):
    path = tmp_path / "notes.warc"
    path.write_text("just some notes\nnothing else\n")
    _, docs, errors = read(path)
    assert docs == [] and len(errors) == 1 and isinstance(errors[0], MalformedRecord)
    assert "rest of the file" in str(errors[0])


def test_bad_records_are_reported_one_each_and_the_rest_read(tmp_path):
    path = write_warc(tmp_path / "mixed.warc.wet.gz", [
        WARCINFO, wet(1), wet(2, "café".encode("latin-1")), wet(3), wet(4, b""),
        wet(5, b"x" * 5000), wet(6)])
    reader, docs, errors = read(path, max_bytes=4096)
    assert [d.url for d in docs] == [f"http://example.com/{i}" for i in (1, 3, 6)]
    assert [type(e) for e in errors] == [InvalidEncoding, MalformedRecord, MalformedRecord]
    assert "record 3" in str(errors[0]) and "not UTF-8" in str(errors[0])
    assert "record 5" in str(errors[1]) and "empty record" in str(errors[1])
    assert "record 6" in str(errors[2]) and "record of 5000 bytes over the limit" in str(errors[2])
    assert all(str(path) in str(e) for e in errors)
    assert len(docs) + len(errors) + reader.skipped == reader.records == 7


# --- HTTP bodies kept as sent (wget, warcio, Browsertrix): chunked and/or compressed ---

PAGE = ("<html><head><title>Encoded</title></head><body><article><h1>Rivers of Europe</h1>"
        "<p>{}</p></article></body></html>").format("The Rhine flows north to the sea. " * 30)
PAGE_TEXT = "Rivers of Europe\n\n" + ("The Rhine flows north to the sea. " * 30).strip()


def encoded_response(n: int, body: bytes, headers: dict[str, str]) -> bytes:
    """A response whose HTTP headers say how ``body`` was encoded, as a crawler stores it."""
    http = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    return record("response", http.encode() + body, f"http://example.com/{n}",
                  "application/http; msgtype=response")


def chunked(body: bytes, size: int = 100) -> bytes:
    """HTTP/1.1 chunked framing written by hand (RFC 9112 7.1), a chunk extension on the first."""
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    framed = [b"%x%s\r\n%s\r\n" % (len(c), b";name=value" if i == 0 else b"", c)
              for i, c in enumerate(chunks)]
    return b"".join(framed) + b"0\r\n\r\n"


def raw_deflate(body: bytes) -> bytes:
    encoder = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return encoder.compress(body) + encoder.flush()


def brotli(body: bytes) -> bytes:
    return pa.compress(body, codec="brotli", asbytes=True)


HTML = PAGE.encode()
ENCODED = {
    "identity": (HTML, {}),
    "gzip": (gzip.compress(HTML), {"Content-Encoding": "gzip"}),
    "x-gzip": (gzip.compress(HTML), {"Content-Encoding": "x-gzip"}),
    "deflate-zlib": (zlib.compress(HTML), {"Content-Encoding": "deflate"}),
    "deflate-raw": (raw_deflate(HTML), {"Content-Encoding": "deflate"}),
    "br": (brotli(HTML), {"Content-Encoding": "br"}),
    "zstd": (pa.compress(HTML, codec="zstd", asbytes=True), {"Content-Encoding": "zstd"}),
    "gzip-then-br": (brotli(gzip.compress(HTML)), {"Content-Encoding": "gzip, br"}),
    "chunked": (chunked(HTML), {"Transfer-Encoding": "chunked"}),
    "chunked-gzip": (chunked(gzip.compress(HTML)),
                     {"Content-Encoding": "GZIP", "Transfer-Encoding": "chunked"}),
    # header kept, body stored de-chunked (warcio reads it as it is, and so do we)
    "chunked-header-only": (HTML, {"Transfer-Encoding": "chunked"}),
}


@pytest.mark.parametrize("kind", ENCODED)
def test_encoded_http_bodies_give_the_page_text(tmp_path, kind):
    body, headers = ENCODED[kind]
    assert kind in ("identity", "chunked-header-only") or body != HTML
    path = write_warc(tmp_path / f"{kind}.warc", [WARCINFO, encoded_response(1, body, headers),
                                                  wet(2)])
    reader, docs, errors = read(path, fmt="warc")
    assert errors == [] and len(docs) == 1 and reader.skipped == 2
    assert docs[0].text == PAGE_TEXT


def bad_bodies() -> dict[str, tuple[bytes, dict[str, str], str]]:
    packed = gzip.compress(HTML)
    return {
        "corrupt-gzip": (packed[:20] + b"\xff" * 16 + packed[36:], {"Content-Encoding": "gzip"},
                         "not valid gzip"),
        "cut-gzip": (packed[:-30], {"Content-Encoding": "gzip"}, "not valid gzip"),
        "cut-br": (brotli(HTML)[:-10], {"Content-Encoding": "br"}, "not valid br"),
        "cut-chunked": (chunked(HTML)[:-200], {"Transfer-Encoding": "chunked"},
                        "chunked HTTP body is cut or corrupt"),
        "unknown-coding": (HTML, {"Content-Encoding": "compress"}, "unsupported HTTP coding"),
    }


@pytest.mark.parametrize("kind", bad_bodies())
def test_a_body_that_does_not_decode_is_one_error_with_its_position(tmp_path, kind):
    body, headers, message = bad_bodies()[kind]
    bad = encoded_response(1, body, headers)
    path = write_warc(tmp_path / "bad.warc", [WARCINFO, bad, encoded_response(2, HTML, {})])
    reader, docs, errors = read(path)
    assert [d.text for d in docs] == [PAGE_TEXT]
    assert len(errors) == 1 and isinstance(errors[0], MalformedRecord)
    assert message in str(errors[0]) and str(path) in str(errors[0])
    assert f"record 2, byte {len(WARCINFO)}" in str(errors[0])  # the bad record's offset
    assert len(docs) + len(errors) + reader.skipped == reader.records == 3


@pytest.mark.parametrize("encode, coding", [(lambda b: gzip.compress(b, 1), "gzip"),
                                            (brotli, "br")])
def test_a_decompression_bomb_is_one_error_in_bounded_memory(tmp_path, encode, coding):
    limit = 1 << 20
    bomb = encode(b"<p>" + b"a" * (64 << 20))
    assert len(bomb) < limit  # the stored record is within the limit, its decoded body is not
    path = write_warc(tmp_path / "bomb.warc", [
        WARCINFO, encoded_response(1, bomb, {"Content-Encoding": coding}),
        encoded_response(2, gzip.compress(HTML), {"Content-Encoding": "gzip"})])
    del bomb
    tracemalloc.start()
    try:
        _, docs, errors = read(path, max_bytes=limit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d.text for d in docs] == [PAGE_TEXT]
    assert len(errors) == 1 and isinstance(errors[0], MalformedRecord)
    assert f"decodes to more than the limit of {limit} bytes" in str(errors[0])
    assert f"record 2, byte {len(WARCINFO)}" in str(errors[0])
    assert peak < 8 * limit  # the 64 MiB body is never held
