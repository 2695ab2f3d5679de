"""Released C4: the reader on the real sample and on broken files, the pipeline (exact dedup,
language ID) on Beam's real local runner, and the CLI."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import CORPUS, IN_PROCESS

from llama_data.cli import main
from llama_data.document import Document
from llama_data.errors import InputError
from llama_data.pipelines import c4
from llama_data.pipelines.config import C4Config
from llama_data.shards import read_shard
from llama_data.sources.c4 import C4Reader

SAMPLE = CORPUS / "c4" / "c4-sample.00000-of-00001.json.gz"
TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
STAMP = "2019-04-20T10:00:00Z"


def line(url: str, text: str) -> bytes:
    return json.dumps({"text": text, "timestamp": STAMP, "url": url}).encode() + b"\n"


def page(topic: str) -> str:
    return (f"The {topic} is a subject that many people find interesting to read about.\n"
            f"Historians have written long books about the {topic} and its uses over 200 years.")


def test_the_real_sample_every_line_a_document():
    if not SAMPLE.exists():
        pytest.skip(f"real C4 sample not found at {SAMPLE} (../shared beside the checkout)")
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        records = [json.loads(text) for text in f]
    docs = list(C4Reader(str(SAMPLE)))
    assert len(docs) == len(records) == 1000
    assert all(isinstance(d, Document) for d in docs)
    assert [(d.url, d.text, d.meta["timestamp"]) for d in docs] == \
        [(r["url"], r["text"], r.get("timestamp", r.get("date"))) for r in records]
    assert len({d.id for d in docs}) == len(docs)
    assert all(d.id.startswith("c4/") and d.source == "c4" for d in docs)


def test_bad_lines_are_counted_with_their_line_and_the_rest_read(tmp_path):
    good = [line(f"https://example.org/{i}", page(str(i))) for i in range(4)]
    path = tmp_path / "bad.json.gz"
    path.write_bytes(gzip.compress(b"".join([
        good[0], b'{"text": "cut here\n', good[1], b'{"text": "caf\xe9", "url": "x"}\n', good[2],
        b'["not", "a", "record"]\n'])))
    items = list(C4Reader(str(path)))
    errors = [(type(e).__name__, e.position) for e in items if isinstance(e, InputError)]
    assert errors == [("MalformedRecord", "line 2"), ("InvalidEncoding", "line 4"),
                      ("MalformedRecord", "line 6")]
    assert [d.url for d in items if isinstance(d, Document)] == [
        f"https://example.org/{i}" for i in range(3)]


def test_a_truncated_gzip_member_ends_the_file_with_the_lines_before_kept(tmp_path):
    whole = gzip.compress(b"".join(line(f"https://example.org/{i}", page(str(i)) * 50)
                                   for i in range(200)))
    path = tmp_path / "cut.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    items = list(C4Reader(str(path)))
    *docs, error = items
    assert all(isinstance(d, Document) for d in docs) and 0 < len(docs) < 200
    assert type(error).__name__ == "TruncatedInput"
    assert error.position == f"after line {len(docs)}"
    plain = tmp_path / "plain.json"  # the same lines uncompressed: read as they are
    plain.write_bytes(gzip.decompress(whole))
    assert len(list(C4Reader(str(plain)))) == 200


ENGLISH = {f"https://example.org/{t}": page(t) for t in ("river", "bicycle", "violin")}
GERMAN = ("Der Fluss fließt langsam durch das breite Tal bis zum Meer, und viele Schiffe fahren "
          "jeden Tag auf ihm.")


def two_files(tmp_path: Path) -> tuple[list[str], str, str]:
    """Two files; the river page again in the second, changed only by case, digits and
    spacing. Returns the paths and the two copies' URLs, the one with the smaller id first."""
    copy_url = "https://mirror.example.net/river-copy"
    copy = (ENGLISH["https://example.org/river"].replace("The ", "THE ").replace("200", "350")
            .replace("\n", "  \n "))
    first = tmp_path / "c4-train.00000-of-00002.json.gz"
    second = tmp_path / "c4-train.00001-of-00002.json"
    first.write_bytes(gzip.compress(b"".join(line(u, t) for u, t in ENGLISH.items())
                                    + line("https://example.de/fluss", GERMAN)))
    second.write_bytes(line(copy_url, copy) + b"not json\n")
    ids = {d.url: d.id for p in (first, second) for d in C4Reader(str(p))
           if isinstance(d, Document)}
    pair = sorted(["https://example.org/river", copy_url], key=ids.__getitem__)
    return [str(first), str(second)], pair[0], pair[1]


def docs_of(release: Path, folder: str = "c4") -> list[Document]:
    return sorted((d for p in sorted((release / folder).glob("*.arrow")) for d in read_shard(str(p))),
                  key=lambda d: d.url)


@pytest.mark.slow
def test_exact_duplicates_keep_the_smallest_id_and_the_same_shards_for_any_worker_count(
        tmp_path):
    paths, winner, loser = two_files(tmp_path)
    entries = [c4.run(C4Config(input=paths, output=str(tmp_path / name), keep_rejects=True,
                               max_error_rate=0.5), args)
               for name, args in (("one", IN_PROCESS), ("two", TWO_WORKERS))]
    one, two = entries
    assert [(s.name, s.sha256) for s in one.shards] == [(s.name, s.sha256) for s in two.shards]
    assert one.funnel == two.funnel
    one.funnel.check()
    assert one.funnel.read == 6 and one.funnel.kept == 3
    assert one.funnel.dropped == {"exact_dedup:duplicate": 1, "language:not_en": 1}
    assert one.funnel.unreadable == {"malformed_record": 1}
    kept = docs_of(tmp_path / "one")
    assert {d.url for d in kept} == set(ENGLISH) - {"https://example.org/river"} | {winner}
    assert all(d.lang == "en" and d.lang_score >= 0.5 and d.meta["timestamp"] == STAMP
               for d in kept)
    rejects = {d.url: d.meta["rejected_by"] for d in docs_of(tmp_path / "one", "rejects/c4")}
    assert rejects == {loser: "exact_dedup:duplicate", "https://example.de/fluss": "language:not_en"}


@pytest.mark.slow
def test_the_cli_end_to_end(tmp_path, capsys):
    paths, _, _ = two_files(tmp_path)
    release = tmp_path / "r"
    assert main(["prepare", "c4", "--input", *paths, "--output", str(release),
                 "--languages", "all", "--max-error-rate", "0.5", *IN_PROCESS]) == 0
    saved = json.loads((release / "manifest.json").read_text())["sources"]["c4"]
    assert saved["funnel"]["read"] == 6 and saved["funnel"]["kept"] == 4
    assert saved["config"]["languages"] is None
    assert {d.url for d in docs_of(release)} >= {"https://example.de/fluss"}
