"""WET/WARC files read over HTTP from a real server on 127.0.0.1 that drops, stalls or fails:
a dropped connection is resumed at the byte reached (the same documents as the local file, no
byte lost or read twice), and one that never recovers is a counted InputError, not a crash."""

from __future__ import annotations

import gzip
import random
import re
import uuid
from pathlib import Path

import pytest
from conftest import CORPUS, IN_PROCESS
from test_download import FAST, flaky_server, serve

from llama_data import remote
from llama_data.document import Document
from llama_data.errors import InputError, RemoteReadError
from llama_data.io import expand_inputs, open_input
from llama_data.remote import Retry
from llama_data.sources.commoncrawl import WarcReader
from llama_data.units import format_size

SAMPLES = ["generated.warc.wet.gz", "whirlwind.warc.wet.gz", "resiliparse-warcfile.warc.gz"]


def generated_wet(records: int = 300) -> bytes:
    """A WET file as CommonCrawl writes them (one gzip member per record), about 450 KB."""
    rng = random.Random(0)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9)))
             for _ in range(3000)]
    out = []
    for n in range(records):
        url = f"https://example.org/page/{n}"
        payload = "\n".join(" ".join(rng.choices(words, k=12)) for _ in range(30)).encode()
        head = "\r\n".join([
            "WARC/1.0", "WARC-Type: conversion", f"WARC-Target-URI: {url}",
            "WARC-Date: 2024-05-01T00:00:00Z",
            f"WARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}>",
            "Content-Type: text/plain", f"Content-Length: {len(payload)}", "", ""])
        out.append(gzip.compress(head.encode() + payload + b"\r\n\r\n", mtime=0))
    return b"".join(out)


@pytest.fixture(params=SAMPLES)
def sample(request, tmp_path) -> Path:
    path = tmp_path / request.param
    if request.param.startswith("generated"):
        path.write_bytes(generated_wet())
        return path
    real = CORPUS / "commoncrawl" / request.param
    if not real.exists():
        pytest.skip(f"real Common Crawl sample {real} not found (../shared beside the checkout)")
    return real


@pytest.fixture
def server(tmp_path):
    yield from flaky_server(tmp_path)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(remote, "RETRY", FAST)


def records(items) -> list[tuple]:
    assert all(isinstance(i, Document) for i in items), [i for i in items
                                                         if not isinstance(i, Document)]
    return [(d.id, d.url, d.text, d.meta) for d in items]


@pytest.mark.parametrize("fault", ["drop", "reset"])
def test_a_dropped_connection_mid_file_reads_the_same_documents(server, sample, fault, caplog):
    data = sample.read_bytes()
    url = serve(server, sample.name, data)
    server.faults = [(fault, len(data) // 2)]
    local = records(list(WarcReader(str(sample))))
    assert local and records(list(WarcReader(url))) == local
    first, resumed = server.ranges(sample.name)  # one reconnect, not a restart of the file
    offset = int(resumed.removeprefix("bytes=").removesuffix("-"))
    assert first is None and 0 < offset <= len(data) // 2
    assert f"{url}: " in caplog.text and f"at byte {offset}; retry 1 of 3" in caplog.text


def test_a_stalled_connection_times_out_and_resumes(server, tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "RETRY", Retry(retries=3, backoff=0.01, timeout=0.3))
    data = generated_wet()
    url = serve(server, "x.warc.wet.gz", data)
    server.faults = [("stall", 100_000)]
    with open_input(url) as stream:
        assert stream.read() == gzip.decompress(data)
    assert server.ranges("x.warc.wet.gz") == [None, "bytes=100000-"]


def test_progress_of_a_remote_read_is_logged(server, monkeypatch, caplog):
    monkeypatch.setattr(remote, "PROGRESS_EVERY", 100 * 1024)
    data = generated_wet()
    url = serve(server, "x.warc.wet.gz", data)
    with caplog.at_level("INFO", logger="llama_data.remote"):
        list(WarcReader(url))
    total = format_size(len(data))
    done = re.findall(rf"{re.escape(url)}: (\d+\.\d) KiB of {total}", caplog.text)
    kib = [float(d) for d in done]  # every 100 KiB reached, each once (reads come in chunks)
    assert kib and kib[0] >= 100 and kib == sorted(set(kib)) and kib[-1] * 1024 <= len(data)


def test_a_server_that_keeps_failing_is_a_counted_error_after_the_documents_before(server,
                                                                                  tmp_path):
    data = generated_wet()
    (tmp_path / "x.warc.wet.gz").write_bytes(data)
    url = serve(server, "x.warc.wet.gz", data)
    server.dead_at = len(data) // 2
    items = list(WarcReader(url))
    *docs, error = items
    assert isinstance(error, RemoteReadError) and isinstance(error, InputError)
    assert error.reason == "remote_read_failed" and error.path == url
    assert error.position == f"byte {len(data) // 2}" and "gave up after 4 tries" in str(error)
    local = records(list(WarcReader(str(tmp_path / "x.warc.wet.gz"))))
    assert 0 < len(docs) < len(local) and records(docs) == local[:len(docs)]


def test_a_missing_remote_file_is_one_error_without_retries(server):
    url = server.url("missing.warc.wet.gz")
    items = list(WarcReader(url))
    assert len(items) == 1 and isinstance(items[0], RemoteReadError)
    assert "HTTP Error 404" in str(items[0]) and len(server.requests) == 1


def test_http_inputs_and_a_remote_paths_list_expand(server):
    listing = gzip.compress(b"crawl-data/a.warc.wet.gz\ncrawl-data/b.warc.wet.gz\n")
    paths = serve(server, "wet.paths.gz", listing)
    direct = server.url("c.warc.wet.gz")
    assert expand_inputs([paths, direct], list_base=server.url("")) == [
        server.url("c.warc.wet.gz"), server.url("crawl-data/a.warc.wet.gz"),
        server.url("crawl-data/b.warc.wet.gz")]


@pytest.mark.slow
def test_the_pipeline_counts_an_unreadable_remote_file_and_reads_the_others(server, tmp_path):
    from llama_data.pipelines import commoncrawl
    from llama_data.pipelines.config import CommonCrawlConfig

    data = generated_wet(40)
    good = serve(server, "good.warc.wet.gz", data)
    server.faults = [("drop", len(data) // 3)]
    entry = commoncrawl.run(CommonCrawlConfig(  # sized over HTTP; 1 of 41 unreadable, 0 kept
        input=[good, server.url("gone.warc.wet.gz")], output=str(tmp_path / "r"), languages=None,
        max_error_rate=0.05, allow_empty=True), IN_PROCESS)
    assert entry.funnel.unreadable == {"remote_read_failed": 1} and entry.config["buckets"] == 1
    assert entry.funnel.read == 40 + 1
    entry.funnel.check()
