"""The built-in demo sample: small dumps written for llama-data, in each raw format."""

from pathlib import Path

SAMPLES_DIR = Path(__file__).parent


def wikipedia_dumps() -> list[Path]:
    """The sample's MediaWiki export dumps, one per language."""
    return sorted((SAMPLES_DIR / "wikipedia").glob("*wiki-*pages-articles*.xml*"))


def commoncrawl_sample() -> Path:
    """The sample's Common Crawl WET file (uncompressed): pages cited by the English Wikipedia
    sample, random web pages and pages in other languages."""
    return SAMPLES_DIR / "commoncrawl" / "CC-DEMO-sample.warc.wet"


def c4_sample() -> Path:
    """The sample's released-C4 file (JSON lines, gzipped): ordinary English pages, exact
    duplicates, pages in other languages and pages that C4's own rules act on."""
    return SAMPLES_DIR / "c4" / "c4-demo.00000-of-00001.json.gz"


def github_repositories() -> list[Path]:
    """The sample's repository tarballs, as GitHub serves them: a small MIT-licensed project
    (headers, a vendored copy, generated, minified and binary files) and one with no licence."""
    return sorted((SAMPLES_DIR / "github").glob("*.tar.gz"))


def stackexchange_posts() -> Path:
    """The sample's extracted StackExchange dump of one site: its ``Posts.xml`` (questions,
    answers whose scores sort wrongly as strings, a tag wiki, an orphaned answer)."""
    return SAMPLES_DIR / "stackexchange" / "textcraft.example" / "Posts.xml"


def books_sample() -> list[Path]:
    """The sample's books: a Project Gutenberg book in today's form, an older edition of it in
    the 2000s form (the planted near-duplicate), and a Books3-style tarball of three books, one
    a revision of another that overlaps it by about 80% (kept)."""
    folder = SAMPLES_DIR / "books"
    return [folder / "pg90001.txt", folder / "90001-0.txt", folder / "books3-sample.tar.gz"]


def arxiv_sample() -> Path:
    """The sample's bulk arXiv source archive (``arXiv_src_2601_001.tar``): a paper as a gzipped
    tar of its files, one as a single gzipped ``.tex``, and a PDF-only submission."""
    return SAMPLES_DIR / "arxiv" / "arXiv_src_2601_001.tar"
