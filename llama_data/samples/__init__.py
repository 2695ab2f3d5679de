"""The built-in demo sample: small dumps written for llama-data, in each raw format."""

from pathlib import Path

SAMPLES_DIR = Path(__file__).parent


def wikipedia_dumps() -> list[Path]:
    """The sample's MediaWiki export dumps, one per language."""
    return sorted((SAMPLES_DIR / "wikipedia").glob("*wiki-*pages-articles*.xml*"))
