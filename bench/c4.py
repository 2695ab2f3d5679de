"""C4 rules: ours (``llama_data.quality.c4.c4_steps``) against datatrove's C4 filters.

Peer: datatrove 0.10.1's ``C4QualityFilter`` then ``C4BadWordsFilter``, as users run them
(defaults), on the same pages: the WET/WARC files of ``../shared/corpus/commoncrawl`` read with
``WarcReader`` and the 1,000 released pages of ``../shared/corpus/c4``. datatrove's English
sentence splitter is spaCy's rule-based ``sentencizer`` on ``spacy.blank("en")`` (no model
download); its bad-words list is the LDNOOBW ``en`` file at the commit TFDS pins, the same file
as ``llama_data/data/badwords/en.txt``, so it is placed in a private datatrove asset cache
(``HF_ASSETS_CACHE`` under the work folder) and nothing is downloaded.

1. Agreement, page by page: kept or dropped, and for pages both keep, the cleaned text. Every
   disagreement class is counted with an example URL. To attribute the classes to documented
   differences of the rules, datatrove is also run (a) with TFDS's constants
   (``min_num_sentences=3``, ``min_words_per_line=5``, ``c4_utils`` lines 41-54) and (b) with
   those and our sentence splitter (Punkt's English model, handed to datatrove as a
   ``WordTokenizer``); what differs after (b) is rule text, explained in BENCHMARKS.md. The same
   is done for pages written for the bench (``PROBES``), one per difference of rule text that
   the real pages may not meet.
2. Speed: the pages repeated to ``--pages`` distinct pages (copy k glues a word of letters to the
   front of each line's first word, so no line repeats and no line's word count changes), each
   side in its own fresh process on the same input file, pairs in alternating order; CPU time of
   the rules loop (``time.process_time``, after one warm-up page that loads the splitters),
   pages per CPU-second, median ratio ours/datatrove and its spread.

    .venv/bin/python bench/c4.py [--pages N] [--pairs N] [--work DIR] [--examples N]

Needs ``scripts/setup.sh bench`` (datatrove, spaCy) and ../shared/corpus.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the CommonCrawl bench's helpers
from commoncrawl import tag

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
C4_SAMPLE = CORPUS / "c4" / "c4-sample.00000-of-00001.json.gz"
WARCS = tuple(sorted((CORPUS / "commoncrawl").glob("*.warc*.gz")))
BADWORDS = ROOT / "llama_data" / "data" / "badwords" / "en.txt"
TARGET = 1.5
ENV = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "LOGURU_LEVEL": "WARNING"}
REFERENCE = {"min_num_sentences": 3, "min_words_per_line": 5}  # TFDS c4_utils constants


# ---------------------------------------------------------------------------------------------
# Pages


def base_pages() -> list[dict]:
    """``{"url", "text"}`` of every readable WET/WARC page, then of the released C4 pages."""
    from llama_data.sources.commoncrawl import WarcReader

    pages = [{"url": doc.url, "text": doc.text} for path in WARCS for doc in WarcReader(str(path))
             if not isinstance(doc, Exception)]
    with gzip.open(C4_SAMPLE, "rt", encoding="utf-8") as f:
        pages += [{"url": row["url"], "text": row["text"]} for row in map(json.loads, f)]
    return pages




FIRST_WORD = re.compile(r"^(\s*)(?=\S)", re.MULTILINE)


def copies(pages: list[dict], total: int) -> list[dict]:
    """``total`` distinct pages: the base pages, then copies whose lines start with a tag."""
    out = []
    for n in range(total):
        copy, row = divmod(n, len(pages))
        page = pages[row]
        if copy:
            page = {"url": f"{page['url']}#copy-{tag(copy)}",
                    "text": FIRST_WORD.sub(rf"\g<1>{tag(copy)}", page["text"])}
        out.append(page)
    return out


# Pages written for this bench, one per documented rule difference the real pages may not meet:
# five plain sentences, then the line under test.
FILLER = "\n".join(f"This plain line number {w} has enough words to pass every rule."
                   for w in ("one", "two", "three", "four", "five"))
PROBES = {
    "line ending in a single quote": f"{FILLER}\nShe told us the verdict was simply 'fine'",
    "citations counted as words": f"{FILLER}\n[1] [2] [3] Three words left.",
    "citation opening the first line": f"[4] A marker opens this line of the page.\n{FILLER}",
    "three- and four-word lines": f"{FILLER}\nOnly four words here.\nThree words here.",
    "four sentences": FILLER.rsplit("\n", 1)[0],
    "bad word in a kept line": f"{FILLER}\nThis line says a bad word: shit, then ends.",
    "bad word in a dropped line": f"{FILLER}\nshit",
}


# ---------------------------------------------------------------------------------------------
# The two sides


def offline_badwords(cache: Path) -> None:
    """Put our LDNOOBW ``en`` file where ``C4BadWordsFilter`` looks before downloading it."""
    os.environ["HF_ASSETS_CACHE"] = str(cache)
    from datatrove.io import cached_assets_path, strip_protocol
    from datatrove.pipeline.filters import c4_filters

    folder = cached_assets_path(library_name="datatrove", namespace="filters",
                                subfolder="c4_badwords")
    local = os.path.join(folder, strip_protocol(c4_filters._EN_BADWORDS_URL).replace("/", "_"))
    shutil.copyfile(BADWORDS, local)
    Path(f"{local}.completed").touch()


def punkt_tokenizer():
    """Our sentence splitter (Punkt, English) in datatrove's ``WordTokenizer`` shape."""
    from datatrove.utils.word_tokenizers import WordTokenizer

    from llama_data.quality.c4 import _english_sentences

    class Punkt(WordTokenizer):
        def word_tokenize(self, text):
            return text.split()

        def sent_tokenize(self, text):
            return _english_sentences().tokenize(text)

        def span_tokenize(self, text):
            return list(_english_sentences().span_tokenize(text))

    return Punkt("en")


def datatrove_judge(variant: str):
    """``judge(url, text) -> (kept, reason, text)`` by datatrove's two filters."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import C4BadWordsFilter, C4QualityFilter

    options = {"defaults": {}, "reference constants": REFERENCE,
               "reference constants + Punkt": {**REFERENCE, "language": punkt_tokenizer()}}
    quality, badwords = C4QualityFilter(**options[variant]), C4BadWordsFilter()

    def judge(url: str, text: str) -> tuple[bool, str, str]:
        doc = Document(text=text, id=url, metadata={"url": url})
        for step in (quality, badwords):
            verdict = step.filter(doc)
            if verdict is not True:
                return False, verdict[1] if isinstance(verdict, tuple) else "dropped", ""
        return True, "", doc.text

    return judge


def ours_judge():
    from llama_data.document import Document
    from llama_data.filters import Rejected, run_steps
    from llama_data.quality.c4 import c4_steps

    steps = c4_steps()

    def judge(url: str, text: str) -> tuple[bool, str, str]:
        out = run_steps(Document(id=url, text=text, source="c4", url=url), steps)
        if isinstance(out, Rejected):
            return False, out.reason, ""
        return True, "", out.text

    return judge


# ---------------------------------------------------------------------------------------------
# 1. Agreement


def agreement(pages: list[dict], variant: str, examples: int) -> dict:
    """Agreement of datatrove ``variant`` with ours, page by page, and its disagreement classes."""
    ours, theirs = ours_judge(), datatrove_judge(variant)
    classes: dict[str, list[str]] = collections.defaultdict(list)
    agree = 0
    for page in pages:
        o, t = ours(page["url"], page["text"]), theirs(page["url"], page["text"])
        if o[0] and t[0]:
            same = o[2] == t[2]
            key = "both keep, same text" if same else "both keep, text differs"
        elif o[0] or t[0]:
            same = False
            key = f"ours keeps, datatrove drops ({t[1]})" if o[0] else \
                f"ours drops ({o[1]}), datatrove keeps"
        else:
            same = True
            key = f"both drop (ours {o[1]}, datatrove {t[1]})"
        agree += same
        classes[key].append(page["url"])
    return {"agree": agree, "pages": len(pages),
            "classes": {k: (len(v), v[:examples]) for k, v in
                        sorted(classes.items(), key=lambda kv: -len(kv[1]))}}


def print_agreement(variant: str, label: str, result: dict) -> None:
    print(f"\n  datatrove {variant}, {label}: {result['agree']}/{result['pages']} agree "
          f"({100 * result['agree'] / result['pages']:.1f}%)")
    for key, (count, urls) in result["classes"].items():
        print(f"    {count:5d}  {key:70s} e.g. {' '.join(urls)}")


# ---------------------------------------------------------------------------------------------
# 2. Speed


def worker(side: str, path: str) -> dict:
    """One side over the pages of ``path``: CPU seconds of the rules loop, pages kept."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        pages = [json.loads(line) for line in f]
    if side == "ours":
        from llama_data.document import Document
        from llama_data.filters import Rejected, run_steps
        from llama_data.quality.c4 import c4_steps

        steps = c4_steps()
        docs = [Document(id=p["url"], text=p["text"], source="c4", url=p["url"]) for p in pages]
        run_steps(Document(id="warm", text="Warm up the splitter. Twice.", source="c4"), steps)
        start = time.process_time()
        kept = sum(not isinstance(run_steps(doc, steps), Rejected) for doc in docs)
    else:
        from datatrove.data import Document
        from datatrove.pipeline.filters import C4BadWordsFilter, C4QualityFilter

        quality, badwords = C4QualityFilter(), C4BadWordsFilter()
        docs = [Document(text=p["text"], id=p["url"], metadata={"url": p["url"]}) for p in pages]
        quality.filter(Document(text="Warm up the splitter. Twice, once more here.", id="warm"))
        badwords.filter(Document(text="warm", id="warm"))
        start = time.process_time()
        kept = sum(quality.filter(doc) is True and badwords.filter(doc) is True for doc in docs)
    return {"cpu": time.process_time() - start, "pages": len(docs), "kept": kept}


def run_side(side: str, path: Path, cache: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", side, str(path)],
                         check=False, capture_output=True, text=True,
                         env={**os.environ, **ENV, "HF_ASSETS_CACHE": str(cache)})
    if out.returncode != 0:
        sys.exit(f"bench/c4.py: the {side} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}" if len(values) > 1 else "one pair"


# ---------------------------------------------------------------------------------------------


def whole_job(work: Path, base: int, workers: int) -> dict[int, dict]:
    """``llama-data prepare c4 --from commoncrawl`` as users run it, on WET files of ``base`` and
    4 x ``base`` pages (bench/commoncrawl.py's: the C4 pages and tagged copies): CPU seconds of
    every process of the job and the peak memory of its process tree (bench/commoncrawl.py's
    measurement, ``--shard-size 4MiB`` so that a bucket is one shard at any size)."""
    from commoncrawl import build_wets, run_measured

    from llama_data import manifest

    mode = "multi_processing" if workers > 1 else "in_memory"
    runs = {}
    for factor in (1, 4):
        folder, release = work / f"job-wet-{factor}x", work / f"job-release-{factor}x"
        build_wets(folder, base * factor, 2 * factor)
        result = run_measured([
            str(Path(sys.executable).parent / "llama-data"), "-q", "prepare", "c4", "--from",
            "commoncrawl", "--input", f"{folder}/*.warc.wet.gz", "--output", str(release),
            "--shard-size", "4MiB", f"--direct_num_workers={workers}",
            f"--direct_running_mode={mode}"])
        entry = manifest.load(str(release)).sources["c4"]
        entry.funnel.check()
        runs[factor] = {**result, "read": entry.funnel.read, "kept": entry.funnel.kept}
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20_000,
                        help="distinct pages for the speed runs (default %(default)s)")
    parser.add_argument("--pairs", type=int, default=5, help="paired runs (default %(default)s)")
    parser.add_argument("--examples", type=int, default=1,
                        help="example URLs per disagreement class (default %(default)s)")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--job-pages", type=int, default=5_000,
                        help="pages of the whole job's 1x input, run at 1x and 4x "
                             "(default %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="the whole job's worker processes (default: the cores)")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    missing = [str(p) for p in (C4_SAMPLE, *WARCS) if not p.is_file()] or ([] if WARCS else
                                                                            ["commoncrawl/"])
    if missing:
        sys.exit("bench/c4.py: the shared corpus is missing (expected ../shared next to the "
                 "repository): " + ", ".join(missing))
    if args.pages < 1 or args.pairs < 1:
        sys.exit("bench/c4.py: --pages and --pairs must be at least 1")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-c4-"))
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "hf-assets"
    try:
        import datatrove  # noqa: F401
        import spacy  # noqa: F401
    except ImportError as e:
        sys.exit(f"bench/c4.py: {e}: run `scripts/setup.sh bench`")
    offline_badwords(cache)

    pages = base_pages()
    print(f"pages: {len(pages) - 1000} from {len(WARCS)} WET/WARC files + 1000 released C4")
    print("\n1. Agreement, page by page (kept/dropped; cleaned text where both keep)")
    probes = [{"url": f"probe: {name}", "text": text} for name, text in PROBES.items()]
    for variant in ("defaults", "reference constants", "reference constants + Punkt"):
        for label, group in (("pages", pages), ("probes", probes)):
            shown = args.examples if label == "pages" else len(probes)
            print_agreement(variant, label, agreement(group, variant, shown))

    data = work / "pages.jsonl.gz"
    with gzip.open(data, "wt", encoding="utf-8") as f:
        for page in copies(pages, args.pages):
            f.write(json.dumps(page) + "\n")
    print(f"\n2. Speed: {args.pages} distinct pages, one process per side, {args.pairs} pair(s)")
    print(f"  {'pair':>4} {'side':10} {'CPU s':>8} {'pages/CPU-s':>12} {'kept':>7}")
    ratios = []
    for pair in range(args.pairs):
        order = ("ours", "datatrove") if pair % 2 == 0 else ("datatrove", "ours")
        runs = {side: run_side(side, data, cache) for side in order}
        for side in order:
            r = runs[side]
            print(f"  {pair:4d} {side:10} {r['cpu']:8.2f} {r['pages'] / r['cpu']:12.0f} "
                  f"{r['kept']:7d}")
        ratios.append(runs["datatrove"]["cpu"] / runs["ours"]["cpu"])
    median = statistics.median(ratios)
    print(f"\n  ours / datatrove, pages per CPU-second: median {median:.2f}x over {args.pairs} "
          f"pair(s) ({spread(ratios)}); target {TARGET}x: "
          f"{'met' if median >= TARGET else 'NOT met'}")
    print(f"\n3. The whole job, `llama-data prepare c4 --from commoncrawl`, {args.workers} "
          "worker(s), all its processes")
    print(f"  {'input':>5} {'pages':>7} {'kept':>7} {'CPU s':>8} {'pages/CPU-s':>12} "
          f"{'peak MB':>8}")
    jobs = whole_job(work, args.job_pages, args.workers)
    for factor, r in jobs.items():
        print(f"  {factor:4d}x {r['read']:7d} {r['kept']:7d} {r['cpu']:8.1f} "
              f"{r['read'] / r['cpu']:12.0f} {r['peak_mb']:8.0f}")
    print(f"\n  peak memory 1x -> 4x: {jobs[4]['peak_mb'] - jobs[1]['peak_mb']:+.0f} MB")
    if not args.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
