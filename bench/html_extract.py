"""HTML main text: Resiliparse (what our WARC reader uses) against trafilatura, on the same pages.

The input is every HTML ``response`` record of the two real WARC files in
``../shared/corpus/commoncrawl``: ``resiliparse-warcfile.warc.gz`` (16 pages: Chinese, Russian,
German, Dutch, one English) and ``whirlwind.warc.gz`` (1 page, a Wikipedia article in Aragonese,
whose full-page text by Common Crawl's own extractor is in ``whirlwind.warc.wet.gz``). Both tools
get the same bytes and the same charset (the one ``WarcReader`` picks: HTTP header, else
``<meta>``, else detection); Resiliparse parses the bytes with it, trafilatura is given the text
decoded with it (the decoding is timed as part of trafilatura's work; the charset choice, common
to both, is not timed).

Speed: each variant runs in a fresh subprocess, one thread; after one untimed pass (its outputs
are the ones scored), the 17 pages are extracted again and again until at least ``--min-cpu``
CPU-seconds (``time.process_time``) and 3 passes; pages/s and MB of HTML/s per CPU-second. Each
variant runs ``--runs`` times, alternating, and the least CPU time per pass is kept.

Quality: there is no gold standard for these pages, so only proxies: empty outputs; characters
and non-blank lines; the share of lines under 5 words (navigation-like; a word is a whitespace
token with a letter or digit, and a run of CJK characters counts one word per 2 characters);
markup/code remnants per 1,000 output characters; fastText lid.176 (``LanguageIdentifier``) top
label and score of each output, and agreement with the label of the full-page text (Resiliparse,
main_content=False); CCNet perplexity (``train_language_model`` on the cleaned English Wikipedia
sample, vocabulary 8,000) of the pages that the full-page text says are English; and, for the
whirlwind page, the share of Common Crawl's WET lines (the full page, boilerplate included) that
each output keeps, with short examples of lines kept by one tool and dropped by the other.

    .venv/bin/python bench/html_extract.py [--runs N] [--min-cpu S] [--examples N]

Needs ``scripts/setup.sh bench`` (trafilatura) and ../shared/corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
CC = CORPUS / "commoncrawl"
WARCS = (CC / "resiliparse-warcfile.warc.gz", CC / "whirlwind.warc.gz")
WHIRLWIND_WET = CC / "whirlwind.warc.wet.gz"
WIKI_DUMP = (CORPUS / "wikipedia"
             / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
INPUTS = (*WARCS, WHIRLWIND_WET, WIKI_DUMP)
WHIRLWIND_URL = "https://an.wikipedia.org/wiki/Escopete"

LM_VOCAB = 8000  # as bench/commoncrawl.py: the Wikipedia sample is too small for CCNet's 65,536
MIN_PASSES = 3
OURS = "resiliparse main"

# name -> (tool, options). "resiliparse main" is exactly what WarcReader does.
VARIANTS = {
    "resiliparse main": ("resiliparse", {"main_content": True}),
    "resiliparse full": ("resiliparse", {"main_content": False}),
    "trafilatura": ("trafilatura", {"include_comments": False}),
    "trafilatura no tables": ("trafilatura", {"include_comments": False,
                                              "include_tables": False}),
    "trafilatura precision": ("trafilatura", {"include_comments": False,
                                              "favor_precision": True}),
    "trafilatura fast": ("trafilatura", {"include_comments": False, "fast": True}),
}
REMNANTS = ("<", "{", "function(", "var ", "&nbsp;", "http")

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "RAYON_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


# ---------------------------------------------------------------------------------------------
# Input


def load_pages() -> list[dict]:
    """Every HTML response of the WARC files, as WarcReader selects them, with its charset."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from llama_data.sources.commoncrawl import HTML_TYPES, _html_encoding

    pages = []
    for path in WARCS:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f, parse_http=True,
                                          record_types=WarcRecordType.response):
                if not record.is_http or (record.http_content_type or "").lower() not in HTML_TYPES:
                    continue
                html = record.reader.read()
                pages.append({"url": record.headers.get("WARC-Target-URI"), "html": html,
                              "encoding": _html_encoding(record, html)})
    return pages


def decode(html: bytes, encoding: str) -> str | bytes:
    try:
        return html.decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know: let trafilatura guess from the bytes
        return html


# ---------------------------------------------------------------------------------------------
# The worker: one variant in a fresh process


def extractor(variant: str):
    tool, options = VARIANTS[variant]
    if tool == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        def run(page):
            tree = HTMLTree.parse_from_bytes(page["html"], page["encoding"])
            return extract_plain_text(tree, **options)
    else:
        import trafilatura

        def run(page):
            return trafilatura.extract(decode(page["html"], page["encoding"]), **options)
    return run


def worker(variant: str, min_cpu: float) -> dict:
    pages = load_pages()
    run = extractor(variant)
    outputs = [run(page) for page in pages]  # untimed: imports, lazy initialisation
    passes = 0
    start = time.process_time()
    while True:
        for page in pages:
            run(page)
        passes += 1
        cpu = time.process_time() - start
        if passes >= MIN_PASSES and cpu >= min_cpu:
            break
    return {"variant": variant, "cpu_s": cpu, "passes": passes, "pages": len(pages),
            "html_bytes": sum(len(p["html"]) for p in pages), "outputs": outputs}


def run_worker(variant: str, min_cpu: float) -> dict:
    env = {**os.environ, **ONE_THREAD}
    proc = subprocess.run([sys.executable, __file__, "--worker", variant, str(min_cpu)],
                          check=False, capture_output=True, text=True, env=env,
                          cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"bench/html_extract.py: the {variant!r} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


# ---------------------------------------------------------------------------------------------
# Quality proxies

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")


def words(line: str) -> int:
    n = 0
    for token in line.split():
        cjk = len(_CJK.findall(token))
        if cjk:
            n += max(1, (cjk + 1) // 2)
        elif any(c.isalnum() for c in token):
            n += 1
    return n


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def norm(line: str) -> str:
    """For matching lines across tools: table pipes and bullets out, whitespace collapsed."""
    return _SPACES.sub(" ", re.sub(r"[|•]|^- ", " ", line)).strip()


def wet_text() -> str:
    from llama_data.sources.commoncrawl import WarcReader

    for doc in WarcReader(str(WHIRLWIND_WET), fmt="wet"):
        if not isinstance(doc, Exception) and doc.url == WHIRLWIND_URL:
            return doc.text
    sys.exit(f"bench/html_extract.py: no WET record for {WHIRLWIND_URL} in {WHIRLWIND_WET}")


def wet_coverage(wet: str, output: str) -> dict:
    """Which WET lines ``output`` keeps: the whole line equals an output line, or it occurs in the
    output between word boundaries (a table row or paragraph may hold several WET lines)."""
    out_lines = {norm(line) for line in lines_of(output)}
    out_text = " " + " ".join(norm(line) for line in lines_of(output)) + " "
    kept, dropped = [], []
    for line in lines_of(wet):
        n = norm(line)
        if not n:
            continue
        hit = n in out_lines or re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", out_text)
        (kept if hit else dropped).append(line)
    chars = sum(map(len, kept)) + sum(map(len, dropped))
    return {"kept": kept, "dropped": dropped,
            "line_share": len(kept) / max(1, len(kept) + len(dropped)),
            "char_share": sum(map(len, kept)) / max(1, chars)}


def quality(outputs: list[str | None], reference_langs: list[str], english: list[int],
            lid, lm) -> dict:
    texts = [t or "" for t in outputs]
    all_lines = [line for t in texts for line in lines_of(t)]
    chars = sum(map(len, texts))
    joined = "\n".join(texts)
    present = [i for i, t in enumerate(texts) if t.strip()]
    labels = lid.predict([texts[i] for i in present]) if present else []
    langs = dict(zip(present, labels))
    return {
        "empty": len(texts) - len(present),
        "chars": chars,
        "lines": len(all_lines),
        "short_share": sum(words(line) < 5 for line in all_lines) / max(1, len(all_lines)),
        "remnants": {r: 1000 * joined.count(r) / max(1, chars) for r in REMNANTS},
        "pipes": 1000 * joined.count("|") / max(1, chars),
        "lang_score": sum(s for _, s in labels) / max(1, len(labels)),
        "lang_agree": sum(langs[i][0] == reference_langs[i] for i in present),
        "langs": {i: langs.get(i) for i in range(len(texts))},
        "ppl": {i: lm.perplexity(texts[i]) if texts[i].strip() else None for i in english},
    }


# ---------------------------------------------------------------------------------------------
# Report


def short(line: str, width: int = 48) -> str:
    line = _SPACES.sub(" ", line).strip()
    return json.dumps(line if len(line) <= width else line[:width] + "…", ensure_ascii=False)


def report(pages, timings, qualities, coverage, examples: int) -> None:
    from importlib.metadata import version

    n, mb = len(pages), sum(len(p["html"]) for p in pages) / 1e6
    print(f"\nInput: {n} HTML pages, {mb:.2f} MB of HTML "
          f"({', '.join(sorted({p['encoding'] for p in pages}))}); "
          f"resiliparse {version('resiliparse')}, trafilatura {version('trafilatura')}\n")

    ours = timings[OURS]["pages_s"]
    print("| extractor | passes x 17 pages | CPU s / pass | pages/s | MB HTML/s | speed vs ours |")
    print("|---|---|---|---|---|---|")
    for name, t in timings.items():
        print(f"| {name}{' (ours)' if name == OURS else ''} | {t['passes']} | "
              f"{t['cpu_pass']:.3f} | {t['pages_s']:,.0f} | {t['mb_s']:.2f} | "
              f"{t['pages_s'] / ours:.3f}x |")

    print("\n| extractor | empty | chars | lines | lines < 5 words | "
          + " | ".join(f"`{r.strip() or r}`" for r in REMNANTS)
          + " | `\\|` | lang = full page | mean lang score | WET chars kept | WET lines kept |")
    print("|---" * (10 + len(REMNANTS)) + "|")
    for name, q in qualities.items():
        rem = " | ".join(f"{q['remnants'][r]:.2f}" for r in REMNANTS)
        c = coverage[name]
        print(f"| {name} | {q['empty']} | {q['chars']:,} | {q['lines']:,} | "
              f"{q['short_share']:.0%} | {rem} | {q['pipes']:.1f} | {q['lang_agree']}/{n} | "
              f"{q['lang_score']:.3f} | {c['char_share']:.0%} | {c['line_share']:.0%} |")
    print("\n(remnants and `|` per 1,000 output characters; lang = full page: outputs whose "
          "lid.176 label equals that of the full-page text; WET: the whirlwind page only)")

    english = next(iter(qualities.values()))["ppl"]
    if english:
        print("\nPerplexity (English Wikipedia LM; lower = more prose-like) of the English pages:")
        print("\n| page | " + " | ".join(qualities) + " |")
        print("|---" * (len(qualities) + 1) + "|")
        for i in english:
            cells = " | ".join("-" if q["ppl"][i] is None else f"{q['ppl'][i]:,.0f}"
                               for q in qualities.values())
            print(f"| {pages[i]['url']} | {cells} |")
    else:
        print("\nNo English page (by the full-page text's label): no perplexity.")

    print("\nPer page: output characters (lid.176 label):\n")
    print("| page | " + " | ".join(qualities) + " |")
    print("|---" * (len(qualities) + 1) + "|")
    for i, page in enumerate(pages):
        cells = []
        for name, q in qualities.items():
            lang = q["langs"][i]
            size = len(timings[name]["outputs"][i] or "")
            cells.append(f"{size:,}" + (f" ({lang[0]} {lang[1]:.2f})" if lang else ""))
        print(f"| {page['url'][:48]} | " + " | ".join(cells) + " |")

    ours_cov, traf_cov = coverage[OURS], coverage["trafilatura"]
    ours_kept, traf_kept = set(ours_cov["kept"]), set(traf_cov["kept"])
    groups = {
        "kept by both": [x for x in ours_cov["kept"] if x in traf_kept],
        "dropped by both": [x for x in ours_cov["dropped"] if x not in traf_kept],
        "kept by resiliparse only": [x for x in ours_cov["kept"] if x not in traf_kept],
        "kept by trafilatura only": [x for x in traf_cov["kept"] if x not in ours_kept],
    }
    print("\nWhirlwind page, WET lines (examples, longest first, cut at 48 characters):")
    for title, group in groups.items():
        unique = sorted(dict.fromkeys(group), key=len, reverse=True)
        print(f"\n{title}: {len(group)} lines, {sum(map(len, group)):,} chars")
        for line in unique[:examples]:
            print(f"    {short(line)}")


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Needs `scripts/setup.sh bench` (trafilatura) and ../shared/corpus next to the "
               "repository.")
    parser.add_argument("--runs", type=int, default=3,
                        help="fresh processes per variant, alternating, the least CPU time per "
                             "pass kept (default %(default)s)")
    parser.add_argument("--min-cpu", type=float, default=1.5,
                        help="CPU-seconds of extraction per run at least (the 17 pages are "
                             "repeated until then, and at least 3 times; default %(default)s)")
    parser.add_argument("--examples", type=int, default=6,
                        help="WET lines shown per group for the whirlwind page (default "
                             "%(default)s)")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], float(args.worker[1]))))
        return
    from commoncrawl import require_corpus, wikipedia_texts  # bench/commoncrawl.py, beside

    require_corpus("bench/html_extract.py", INPUTS)
    if args.runs < 1 or args.min_cpu < 0:
        sys.exit("bench/html_extract.py: --runs must be at least 1 and --min-cpu not negative")
    try:
        import trafilatura  # noqa: F401
    except ImportError as e:
        sys.exit(f"bench/html_extract.py: trafilatura cannot be imported ({e}): run "
                 "`scripts/setup.sh bench`")


    from llama_data.quality.langid import LanguageIdentifier
    from llama_data.quality.perplexity import LanguageModel, train_language_model
    from llama_data.sources.commoncrawl import WarcReader

    pages = load_pages()
    # "resiliparse main" must be what the reader yields, page for page.
    reader = [doc.text for path in WARCS for doc in WarcReader(str(path), fmt="warc")
              if not isinstance(doc, Exception)]

    best: dict[str, dict] = {}
    started = time.perf_counter()
    for run in range(args.runs):
        order = list(VARIANTS) if run % 2 == 0 else list(reversed(VARIANTS))
        for variant in order:
            result = run_worker(variant, args.min_cpu)
            cpu_pass = result["cpu_s"] / result["passes"]
            if variant not in best or cpu_pass < best[variant]["cpu_pass"]:
                best[variant] = {**result, "cpu_pass": cpu_pass}
        print(f"run {run + 1}/{args.runs} done ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr)
    timings = {}
    for variant in VARIANTS:
        t = best[variant]
        timings[variant] = {**t, "pages_s": t["pages"] / t["cpu_pass"],
                            "mb_s": t["html_bytes"] / 1e6 / t["cpu_pass"]}
    if reader != timings[OURS]["outputs"]:
        sys.exit("bench/html_extract.py: WarcReader's texts differ from Resiliparse "
                 "main_content=True: the bench no longer measures what the reader does")

    lid = LanguageIdentifier()
    full = timings["resiliparse full"]["outputs"]
    reference_langs = [label for label, _ in lid.predict([t or "" for t in full])]
    english = [i for i, lang in enumerate(reference_langs) if lang == "en"]
    with tempfile.TemporaryDirectory(prefix="bench-html-") as tmp:
        train_language_model(wikipedia_texts(), "en", tmp, vocab_size=LM_VOCAB, memory="64M")
        lm = LanguageModel.load(tmp, "en")
        qualities = {v: quality(timings[v]["outputs"], reference_langs, english, lid, lm)
                     for v in VARIANTS}
    wet = wet_text()
    index = next(i for i, p in enumerate(pages) if p["url"] == WHIRLWIND_URL)
    coverage = {v: wet_coverage(wet, timings[v]["outputs"][index] or "") for v in VARIANTS}
    report(pages, timings, qualities, coverage, args.examples)


if __name__ == "__main__":
    main()
