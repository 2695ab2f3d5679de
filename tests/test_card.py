"""The data card: its figures against the manifest, its images, and the page in a real browser."""

from __future__ import annotations

import base64
import html
import io
import random
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from llama_data import card, manifest
from llama_data.cli import main
from llama_data.document import Document
from llama_data.manifest import Funnel, SourceEntry
from llama_data.shards import read_shard, write_shards


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """The demo's release (every kind of source, tokens, a mixture and a run), carded once."""
    from llama_data.demo import run_demo

    root = tmp_path_factory.mktemp("card") / "R"
    run_demo(str(root))
    card.write_card(str(root))
    return root


class _Page(HTMLParser):
    """The page's tables (by id, rows of cell texts), images' src, and example texts."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[str] = []
        self.pre: list[str] = []
        self.summaries: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._text: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th", "pre", "summary"):
            self._text = []
        elif tag == "img":
            self.images.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._table:
            self.tables[self._table][-1].append("".join(self._text))
        elif tag == "pre":
            self.pre.append("".join(self._text))
        elif tag == "summary":
            self.summaries.append("".join(self._text))

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def _page(root: Path) -> _Page:
    return _Page((root / card.CARD_HTML).read_text(encoding="utf-8"))


def test_sources_table_matches_the_manifest(release):
    entries = manifest.load(str(release)).sources
    rows = {row[0]: row for row in _page(release).tables["sources"][1:]}
    assert set(rows) == set(entries) | {"total"}
    total_tokens = sum(e.tokens["tokens"] for e in entries.values())
    for name, e in entries.items():
        assert rows[name][1:3] == [f"{e.documents:,}", f"{e.text_bytes:,}"]
        assert rows[name][4] == f"{e.tokens['tokens']:,}"
        assert rows[name][5] == f"{e.tokens['tokens'] / total_tokens:.1%}"
    assert rows["total"][4] == f"{total_tokens:,}"
    assert rows["commoncrawl"][6] == "67.0%" and rows["stackexchange"][6] == "2.0%"  # Table 1
    # the Markdown card has the same row
    c4 = entries["c4"]
    assert f"| c4 | {c4.documents:,} | {c4.text_bytes:,} |" in \
        (release / card.CARD_MD).read_text(encoding="utf-8")


def test_funnel_table_lists_every_reason_and_adds_up_to_read(release):
    entries = manifest.load(str(release)).sources
    rows = _page(release).tables["funnel"][1:]
    for name, e in entries.items():
        mine = {(outcome, int(n.replace(",", ""))) for s, read, outcome, n in rows if s == name}
        expected = {("kept", e.funnel.kept)}
        expected |= {(f"dropped: {r}", n) for r, n in e.funnel.dropped.items()}
        expected |= {(f"unreadable: {r}", n) for r, n in e.funnel.unreadable.items()}
        expected |= {(f"merged: {r}", n) for r, n in e.funnel.merged.items()}
        assert mine == expected
        assert sum(n for _, n in mine) == e.funnel.read
    # the demo's StackExchange folds its 7 answers into their questions
    assert ("stackexchange", "13", "merged: answer", "7") in {tuple(r) for r in rows}


def test_line_dedup_rate_and_mixture_and_validation(release):
    entries = manifest.load(str(release)).sources
    page = _page(release)
    counters = entries["commoncrawl"].counters
    [row] = page.tables["line-dedup"][1:]
    assert row[0] == "commoncrawl"
    assert row[3] == f"{counters['dedup/lines_removed'] / counters['dedup/lines_seen']:.1%}"
    plan = {r[0]: r for r in page.tables["mixture"][1:]}
    assert set(plan) == set(entries)
    assert plan["wikipedia"][3] == f"{entries['wikipedia'].tokens['tokens']:,}"
    validation = page.tables["validation-demo-tiny"][1:]
    assert {r[0] for r in validation} == {"c4", "github", "wikipedia"}  # the sources held out
    assert all(float(last) < float(first) for _, first, last in validation)  # it learned


def test_tokens_per_language_add_up_to_the_encoded_shards(release):
    """Encoding the sampled documents again gives the token shards' counts (for a source whose
    documents were all sampled whole), split by language."""
    entries = manifest.load(str(release)).sources
    rows = _page(release).tables["tokens-per-language"][1:]
    for name, e in entries.items():
        texts = [d.text for s in e.shards for d in read_shard(e.shard_path(str(release), name, s))]
        if len(texts) > card.TOKENIZED or max(map(len, texts)) > card.TOKENIZED_CHARS:
            continue
        assert sum(int(r[2].replace(",", "")) for r in rows if r[0] == name) == e.tokens["tokens"]
        assert sum(int(r[3].replace(",", "")) for r in rows if r[0] == name) == e.text_bytes
    assert {r[1] for r in rows if r[0] == "wikipedia"} >= {"en", "de", "ru"}


def test_every_image_is_an_embedded_png(release):
    text = (release / card.CARD_HTML).read_text(encoding="utf-8")
    images = _page(release).images
    # share, funnel, languages, lengths, perplexity, classifier scores, validation
    assert len(images) == 7
    for src in images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        with Image.open(io.BytesIO(base64.b64decode(src[len(prefix):], validate=True))) as image:
            assert image.format == "PNG" and image.width > 100 and image.height > 100
    assert not re.search(r"<script|<link|(src|href)=\"(https?:)?//", text)  # nothing to fetch


def test_examples_are_ten_seeded_documents_per_source_escaped(release, tmp_path):
    entries = manifest.load(str(release)).sources
    page = _page(release)
    texts = {d.id: d.text for name, e in entries.items() for s in e.shards
             for d in read_shard(e.shard_path(str(release), name, s))}
    ids = [summary.split(" · ")[1] for summary in page.summaries]
    for name, e in entries.items():
        assert sum(i.startswith(f"{name}/") for i in ids) == min(card.EXAMPLES, e.documents)
    for doc_id, shown in zip(ids, page.pre):
        full = texts[doc_id]
        assert shown == full if len(full) <= card.EXAMPLE_CHARS else \
            shown == full[:card.EXAMPLE_CHARS] + " […]"
    # another seed, other Wikipedia documents (40 of them); the same seed, the same card
    copy = tmp_path / "R"
    shutil.copytree(release, copy)
    card.write_card(str(copy), seed=1)
    assert _page(copy).summaries != page.summaries
    card.write_card(str(copy), seed=0)
    assert (copy / card.CARD_MD).read_bytes() == (release / card.CARD_MD).read_bytes()


def test_reservoir_is_uniform():
    """Each of 20 items lands in a 5-item sample a quarter of the time (2,000 seeded draws)."""
    counts = [0] * 20
    for trial in range(2000):
        sample = card.Reservoir(5, random.Random(trial))
        for item in range(20):
            sample.offer(item)
        assert len(set(sample.items)) == 5
        for item in sample.items:
            counts[item] += 1
    assert all(400 < c < 600 for c in counts), counts


def _hand_release(root: Path, docs: list[Document]) -> None:
    shards = write_shards(docs, str(root / "web"), "part")
    funnel = Funnel(read=len(docs) + 1, kept=len(docs), dropped={"rule:bad": 1})
    manifest.update_source(str(root), "web", SourceEntry(shards, funnel, {}, {}))


def test_hostile_text_is_escaped_and_missing_parts_are_said(tmp_path):
    hostile = "</pre><script>alert(1)</script> ``` | pipe"
    _hand_release(tmp_path, [Document(f"web/{i}", hostile * (i + 1), "web") for i in range(3)])
    md_path, html_path = card.write_card(str(tmp_path))
    text = html_path.read_text(encoding="utf-8")
    assert "<script>" not in text and html.escape("<script>alert(1)</script>") in text
    assert sorted(_Page(text).pre, key=len) == [hostile * (i + 1) for i in range(3)]
    markdown = md_path.read_text(encoding="utf-8")
    assert "````text\n" + hostile in markdown  # a fence longer than the text's backticks
    for missing in ("No tokenizer yet", "No mixture plan yet", "No training run",
                    "No source of this release removes repeated lines"):
        assert missing in markdown


def test_scan_caps_the_documents_read(tmp_path):
    _hand_release(tmp_path, [Document(f"web/{i}", "word " * (i + 1), "web", lang="en")
                             for i in range(50)])
    entry = manifest.load(str(tmp_path)).sources["web"]
    sample = card.sample_source(str(tmp_path), "web", entry, seed=0, scan=7)
    assert sample.scanned == 7 and sample.languages == {"en": 7}
    assert len(sample.examples) == 7 and len(sample.stats) == 7


def test_cli_prints_both_paths(tmp_path, capsys):
    _hand_release(tmp_path, [Document("web/0", "some text", "web")])
    assert main(["card", str(tmp_path), "--seed", "2"]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / card.CARD_MD),
                                               str(tmp_path / card.CARD_HTML)]


def _chromium() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)


@pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH (Debian: apt-get install "
                                                "chromium; see scripts/apt-packages.txt)")
def test_card_renders_in_a_real_browser(release, tmp_path):
    from playwright.sync_api import sync_playwright  # the test extra; its browser: the system's

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium())
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto((release / card.CARD_HTML).as_uri())
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        shot = page.screenshot(full_page=True)
        browser.close()
    assert len(images) == 7 and all(done and width > 0 for done, width in images)
    with Image.open(io.BytesIO(shot)) as image:
        gray = image.convert("L")
        pixels = list(gray.getdata())
    mean = sum(pixels) / len(pixels)
    assert gray.height > 2000  # the whole page, not a blank viewport
    assert sum((v - mean) ** 2 for v in pixels) / len(pixels) > 100  # not blank
