"""Shared fixtures: the real corpus samples beside the checkout, and small dumps written on the fly."""

from __future__ import annotations

import bz2
import gzip
import io
import logging
import re
import tarfile
import uuid
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
WIKI_CORPUS = CORPUS / "wikipedia"

# A pipeline in one process: fast to start, for tests that are not about parallelism.
IN_PROCESS = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
TWO_WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]


def corpus_files(folder: Path, pattern: str) -> list[Path]:
    """The shared corpus's files of ``folder`` matching ``pattern``; the test is skipped, saying
    why, when there are none."""
    files = sorted(folder.glob(pattern))
    if not files:
        pytest.skip(f"real corpus samples not found at {folder} (../shared beside the checkout)")
    return files


@pytest.fixture
def log_level():
    """Sets the llama_data logger's level for one test (INFO: progress shown, as the CLI has it
    without -q), restored after it."""
    logger = logging.getLogger("llama_data")
    before = logger.level
    yield logger.setLevel
    logger.setLevel(before)


@pytest.fixture(scope="session")
def wiki_corpus() -> list[Path]:
    return corpus_files(WIKI_CORPUS, "*.bz2")


def dump_xml(pages: list[str], lang: str = "en", header: str = "") -> str:
    """A minimal but real-format MediaWiki export around ``pages`` (``<page>`` elements)."""
    return (
        f'{header}<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" '
        f'xml:lang="{lang}"><siteinfo><sitename>Wikipedia</sitename><dbname>{lang}wiki</dbname>'
        f"<base>https://{lang}.wikipedia.org/wiki/Main_Page</base><namespaces>"
        '<namespace key="6" case="first-letter">File</namespace>'
        '<namespace key="14" case="first-letter">Category</namespace></namespaces></siteinfo>'
        + "".join(pages) + "</mediawiki>"
    )


def page_xml(page_id: int, title: str, text: str, ns: int = 0, redirect: str | None = None) -> str:
    from xml.sax.saxutils import escape

    red = f'<redirect title="{escape(redirect)}" />' if redirect else ""
    return (f"<page><title>{escape(title)}</title><ns>{ns}</ns><id>{page_id}</id>{red}<revision>"
            f"<id>{page_id * 10}</id><timestamp>2022-07-01T00:00:00Z</timestamp>"
            f'<text xml:space="preserve">{escape(text)}</text></revision></page>')


def prose(n_words: int, seed: str = "word") -> str:
    return " ".join(f"{seed}{i}" for i in range(n_words)) + "."


def write(path: Path, content: str | bytes) -> Path:
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.suffix == ".bz2":
        data = bz2.compress(data)
    elif path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def count_articles(xml: str) -> tuple[int, int]:
    """(pages, namespace-0 non-redirect pages) of a dump, counted with regexes, not our reader."""
    pages = re.findall(r"<page>.*?</page>", xml, re.DOTALL)
    articles = [p for p in pages if re.search(r"<ns>0</ns>", p) and "<redirect" not in p]
    return len(pages), len(articles)


def decompressed(path: Path) -> str:
    data = path.read_bytes()
    if data[:3] == b"BZh":
        data = bz2.decompress(data)
    elif data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    for bom, encoding in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding)
    return data.decode("utf-8")


MARKUP_REMNANTS = ("[[", "{{", "<ref", "'''", "<!--", "|}")


def corpus_texts() -> dict[str, list[str]]:
    """Real documents of several sources from ../shared/corpus, as text (no llama-data cleaning
    except Wikipedia's, whose raw form is markup)."""
    import gzip as _gzip
    import json as _json

    from llama_data.filters import Rejected, run_steps
    from llama_data.sources.wikipedia import DumpReader, wikipedia_steps

    texts: dict[str, list[str]] = {"wikipedia": [], "c4": [], "books": []}
    for dump in sorted(WIKI_CORPUS.glob("*.bz2")):
        for doc in DumpReader(str(dump)):
            result = run_steps(doc, wikipedia_steps()) if not isinstance(doc, Exception) else None
            if result is not None and not isinstance(result, Rejected):
                texts["wikipedia"].append(result.text)
    with _gzip.open(CORPUS / "c4" / "c4-sample.00000-of-00001.json.gz", "rt") as f:
        texts["c4"] = [_json.loads(line)["text"] for line in f]
    for book in sorted((CORPUS / "books").glob("*.txt")):
        data = book.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:  # one of the Gutenberg files is Windows-1252
            text = data.decode("cp1252")
        texts["books"] += [text[i:i + 20_000] for i in range(0, len(text), 20_000)]
    return texts


@pytest.fixture(scope="session")
def corpus_release(tmp_path_factory):
    """A release with three real sources' text shards (two shards each) and no tokenizer yet."""
    if not CORPUS.exists():
        pytest.skip(f"real corpus samples not found at {CORPUS} (../shared beside the checkout)")
    from llama_data import manifest
    from llama_data.document import Document
    from llama_data.shards import write_shards

    release = tmp_path_factory.mktemp("corpus-release")
    for source, texts in corpus_texts().items():
        docs = sorted((Document(id=f"{source}/{i:05d}", text=t, source=source)
                       for i, t in enumerate(texts)), key=lambda d: d.id)
        half = len(docs) // 2
        shards = [*write_shards(docs[:half], str(release / source), "part-00000"),
                  *write_shards(docs[half:], str(release / source), "part-00001")]
        funnel = manifest.Funnel(read=len(docs), kept=len(docs))
        manifest.update_source(str(release), source, manifest.SourceEntry(shards, funnel, {}, {}))
    return release


@pytest.fixture(scope="session")
def encoded_release(corpus_release, tmp_path_factory):
    """The corpus release with a small tokenizer, token shards and a mixture plan."""
    import shutil

    from llama_data import manifest, mixture
    from llama_data.tokenizer import encode, train

    release = tmp_path_factory.mktemp("encoded") / "r"
    shutil.copytree(corpus_release, release)
    weights = {"wikipedia": 0.5, "c4": 0.3, "books": 0.2}
    train.train(str(release), weights, vocab_size=2000, sample_bytes=2_000_000)
    encode.encode_release(str(release), workers=1)
    available = sum(e.tokens["tokens"] for e in manifest.load(str(release)).sources.values())
    # books repeated (> 1 epoch), wikipedia a prefix of one epoch
    mixture.plan_for(available, {"wikipedia": 0.2, "c4": 0.3, "books": 0.5}, str(release), {})
    return release


@pytest.fixture(scope="session")
def reference_pages():
    """Pages for the reference classifier from the real samples: the English Wikipedia dump's
    articles, cut into ~1,500-character pages, stand at URLs that its own <ref> tags cite (the
    cited pages' CommonCrawl text is not in the samples); C4's CommonCrawl pages are the random
    pages. Returns (pages to train on, held-apart cited texts, held-apart random texts, cited URLs):
    every fifth article and the last 200 C4 pages are held apart."""
    if not CORPUS.exists():
        pytest.skip(f"real corpus samples not found at {CORPUS} (../shared beside the checkout)")
    import gzip as _gzip
    import json as _json

    from llama_data.document import Document
    from llama_data.filters import Rejected, run_steps
    from llama_data.sources.wikipedia import DumpReader, cited_urls, wikipedia_steps

    dump = str(WIKI_CORPUS / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    urls = sorted(set(cited_urls([dump])))
    articles = [r.text for r in (run_steps(d, wikipedia_steps()) for d in DumpReader(dump))
                if not isinstance(r, Rejected)]
    chunks: list[tuple[int, str]] = []
    for i, article in enumerate(articles):
        page = ""
        for paragraph in article.split("\n"):
            page += paragraph + "\n"
            if len(page) > 1500:
                chunks.append((i, page))
                page = ""
    with _gzip.open(CORPUS / "c4" / "c4-sample.00000-of-00001.json.gz", "rt") as f:
        c4 = [_json.loads(line) for line in f]
    pages = [Document(id=f"commoncrawl/wiki{k:05d}", text=text, source="commoncrawl", url=urls[k])
             for k, (i, text) in enumerate(chunks) if i % 5]
    pages += [Document(id=f"commoncrawl/c4{k:05d}", text=r["text"], source="commoncrawl",
                       url=r["url"]) for k, r in enumerate(c4[:800])]
    held_cited = [text for i, text in chunks if i % 5 == 0]
    return pages, held_cited, [r["text"] for r in c4[800:]], urls


@pytest.fixture(scope="session")
def ref_model(reference_pages, tmp_path_factory) -> str:
    """A small reference classifier trained on ``reference_pages``' training pages."""
    from llama_data.quality.reference import (
        TrainingParams,
        normalize_url,
        select_examples,
        train_reference_classifier,
    )

    pages, _, _, urls = reference_pages
    examples = select_examples({normalize_url(u) for u in urls}, lambda: pages)
    path = tmp_path_factory.mktemp("ref") / "ref.bin"
    train_reference_classifier(examples, path, TrainingParams(dim=16, bucket=2**16))
    return str(path)


def tar_members(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]],
                mode: str = "w:gz") -> Path:
    """An archive of ``members`` as given (links, devices and unsafe names included): data None
    for a member without content."""
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def outcomes(reader) -> tuple[list, list]:
    """What a reader yields, split: its Documents, and the InputErrors it counted."""
    from llama_data.document import Document

    out = list(reader)
    return ([d for d in out if isinstance(d, Document)],
            [e for e in out if not isinstance(e, Document)])


def word(n: int) -> str:
    """A word of letters per number, no digit (CCNet's normalisation maps digits to 0)."""
    letters, n = "", n + 26
    while n:
        n, r = divmod(n, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[r] + letters
    return letters


def wet_record(url: str, text: str) -> bytes:
    """One WET ``conversion`` record, gzipped on its own as in CommonCrawl's WET files."""
    payload = text.encode("utf-8")
    head = "\r\n".join([
        "WARC/1.0", "WARC-Type: conversion", f"WARC-Target-URI: {url}",
        "WARC-Date: 2024-05-01T00:00:00Z",
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}>",
        "Content-Type: text/plain", f"Content-Length: {len(payload)}", "", ""])
    return gzip.compress(head.encode() + payload + b"\r\n\r\n", mtime=0)


def write_wet(path: Path, pages: dict[str, str]) -> str:
    path.write_bytes(b"".join(wet_record(url, text) for url, text in pages.items()))
    return str(path)
