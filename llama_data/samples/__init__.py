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
