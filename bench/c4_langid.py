"""Calibrate lid.176's English threshold against C4's own detector, langdetect at 0.99.

Pages: the released C4 sample (``../shared/corpus/c4``, 1,000 pages that all passed langdetect
when C4 was built) and every WET page of ``../shared/corpus/commoncrawl`` (raw crawl text, many
languages). Each page gets langdetect's decision (top language ``en`` with probability >= 0.99,
seeded, as TFDS) and lid.176.ftz's top label and score; the threshold on a 0.05 grid that agrees
best with langdetect is printed with its precision and recall, and the agreement of a few others.

    .venv/bin/python bench/c4_langid.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from llama_data.document import Document
from llama_data.quality.langdetect_id import (
    C4_LANGDETECT_THRESHOLD,
    LangdetectIdentifier,
    agreement_at,
    calibrate,
    is_english,
)
from llama_data.quality.langid import LanguageIdentifier
from llama_data.sources.c4 import C4Reader
from llama_data.sources.commoncrawl import WarcReader

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
GRID = [i / 20 for i in range(21)]  # 0.05 steps: finer would fit single pages
UDHR_BLOCK = 20  # lines of a UDHR translation per page (a few paragraphs, as a short web page)


def sample_pages(corpus: Path = CORPUS) -> dict[str, list[str]]:
    """The texts of each sample: ``c4`` (released pages), ``commoncrawl`` (the WET page and the
    main text of the WARC HTML pages) and ``udhr`` (the UDHR in 18 languages, cut into pages)."""
    def texts(reader) -> list[str]:
        return [d.text for d in reader if isinstance(d, Document) and d.text.strip()]

    def udhr_blocks(path: Path) -> list[str]:
        lines = [line.split("\t", 1)[-1] for line in path.read_text(encoding="utf-8").splitlines()]
        return ["\n".join(lines[i:i + UDHR_BLOCK]) for i in range(5, len(lines), UDHR_BLOCK)]

    return {"c4": texts(C4Reader(str(corpus / "c4" / "c4-sample.00000-of-00001.json.gz"))),
            "commoncrawl": [t for path in sorted((corpus / "commoncrawl").glob("*.gz"))
                            for t in texts(WarcReader(str(path)))],
            "udhr": [t for path in sorted((corpus / "langid" / "udhr").glob("human_rights_*.txt"))
                     for t in udhr_blocks(path) if t.strip()]}


def decisions(texts: list[str]) -> tuple[list[bool], list[tuple[str, float]]]:
    """langdetect's English decisions and lid.176's (lang, score), page by page."""
    reference = [is_english(lang, score, C4_LANGDETECT_THRESHOLD)
                 for lang, score in LangdetectIdentifier().predict(texts)]
    return reference, LanguageIdentifier().predict(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    reference, lid = [], []
    for name, texts in sample_pages(args.corpus).items():
        start = time.process_time()
        ref, scores = decisions(texts)
        print(f"{name}: {len(texts)} pages, langdetect English {sum(ref)}, "
              f"{time.process_time() - start:.1f} CPU s for both detectors")
        reference += ref
        lid += scores
    best = calibrate(reference, lid, GRID)
    for a in sorted({agreement_at(reference, lid, t) for t in (0.0, 0.5, 0.8, 0.9, 0.99)} | {best},
                    key=lambda a: a.threshold):
        mark = "  <- best" if a == best else ""
        print(f"threshold {a.threshold:.2f}: agreement {a.agreement:.4f} precision "
              f"{a.precision:.4f} recall {a.recall:.4f} (both {a.both}, lid only {a.lid_only}, "
              f"langdetect only {a.langdetect_only}, of {a.pages}){mark}")


if __name__ == "__main__":
    main()
