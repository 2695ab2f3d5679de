"""CommonCrawl (CCNet chain): llama-data against datatrove's blocks on the same WET file, same run.

The input is a WET file written here from real CommonCrawl-derived text: the 1,000 pages of the C4
sample (``../shared/corpus/c4``), each a gzipped WARC/1.0 ``conversion`` record as in real WET
files, repeated ``--repeat`` times under new URLs (so line dedup then removes the copies),
followed by the real records of ``../shared/corpus/commoncrawl/whirlwind.warc.wet.gz``. The
perplexity model is trained here with ``train_language_model`` on the English Wikipedia sample's
cleaned text, and both tools load the same ``en.sp.model`` + ``en.arpa.bin``; both language
filters load the same ``lid.176.ftz`` (the one llama-data uses by default).

Every step runs in a fresh subprocess, one thread, per tool, on the same input documents; the CPU
time of the step (user + system, ``getrusage``) gives documents/s and MB/s of text per core, and
the process's peak RSS is reported. Steps:

    read        llama-data WarcReader           | datatrove WarcReader (warcio)
    line dedup  CCNet line hashes, keep first   | datatrove SentenceDedup, 1 "sentence" = 1 line
    language ID IdentifyLanguage+KeepLanguages  | datatrove LanguageFilter (fastText ft176)
    perplexity  ScorePerplexity (KenLM)         | datatrove CCNetPerplexityStats (KenLM)
    reference   ScoreReference+KeepReferences   | datatrove FastTextClassifierFilter (if present)
    whole chain read + dedup + language ID + perplexity, one process from start (imports included)

then the whole Beam job, ``llama-data prepare commoncrawl`` (local runner, all cores), wall time.

    .venv/bin/python bench/commoncrawl.py [--repeat N] [--runs N] [--keep first|none] [--no-beam]
                                          [--work DIR]

Needs ``scripts/setup.sh bench`` (datatrove and its light dependencies) and ../shared/corpus.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
C4_SAMPLE = CORPUS / "c4" / "c4-sample.00000-of-00001.json.gz"
WHIRLWIND_WET = CORPUS / "commoncrawl" / "whirlwind.warc.wet.gz"
WIKI_DUMP = (CORPUS / "wikipedia"
             / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
INPUTS = (C4_SAMPLE, WHIRLWIND_WET, WIKI_DUMP)

LANG_THRESHOLD = 0.5  # CCNet's (and llama-data's default); datatrove's own default is 0.65
LM_VOCAB = 8000       # the Wikipedia sample (2.6 MB of text) is too small for CCNet's 65,536
REF_THRESHOLD = 0.25

# CCNet's throughput. Neither the CCNet paper (Wenzek et al. 2019, arXiv 1911.00359) nor the
# facebookresearch/cc_net README gives a compute figure that we could retrieve word for word (the
# README says only "Given the CPU required to run the full pipeline on such a big corpus we share
# a mapping from url to the information we computed"; cc_net/mine.py budgets each of the 1,600
# shards of a snapshot 16 processes and a 5-hour timeout, which is a limit, not a measurement).
# The nearest published measurement is a maintainer's answer on running cc_net for RedPajama
# (github.com/togethercomputer/RedPajama-Data issue 35, mauriceweber, 2023-05-02):
#   "we used a machine with 64 cores and 512GB RAM and it took about 2-3 days for one CC dump to
#    process with the cc_net pipeline."
# It gives no page count; Common Crawl's announcement of the snapshot CCNet's paper used says
#   "The crawl archive for February 2019 is now available! It contains 2.9 billion web pages"
# (commoncrawl.org/blog/february-2019-crawl-archive-now-available). Taking ~2.9e9 pages per dump
# (recent dumps hold 2.5-3.5 billion): 2.9e9 / (64 cores x 2..3 days x 86,400 s) = 175-262
# pages/s per core, download, hashing pass, dedup, fastText and KenLM all included. An estimate
# from two sources, not a CCNet-published figure.
CCNET_DOCS_PER_CORE_S = (2.9e9 / (64 * 3 * 86400), 2.9e9 / (64 * 2 * 86400))

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "RAYON_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
              "HF_HUB_OFFLINE": "1", "LOGURU_LEVEL": "WARNING"}


# ---------------------------------------------------------------------------------------------
# Input: a WET file from real CommonCrawl-derived text


def wet_record(url: str, date: str, text: str, copy: int) -> bytes:
    """One WET ``conversion`` record, gzipped on its own as in CommonCrawl's WET files."""
    payload = text.encode("utf-8")
    digest = base64.b32encode(hashlib.sha1(payload).digest()).decode()
    head = "\r\n".join([
        "WARC/1.0", "WARC-Type: conversion", f"WARC-Target-URI: {url}", f"WARC-Date: {date}",
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{copy}:{url}')}>",
        f"WARC-Refers-To: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_DNS, f'{copy}:{url}')}>",
        f"WARC-Block-Digest: sha1:{digest}", "WARC-Identified-Content-Language: eng",
        "Content-Type: text/plain", f"Content-Length: {len(payload)}", "", ""])
    return gzip.compress(head.encode() + payload + b"\r\n\r\n", compresslevel=6, mtime=0)


def build_wet(folder: Path, repeat: int) -> Path:
    pages = [json.loads(line) for line in gzip.open(C4_SAMPLE, "rt", encoding="utf-8")]
    path = folder / "bench.warc.wet.gz"
    with path.open("wb") as out:
        for copy in range(repeat):
            for page in pages:
                url = page["url"] if copy == 0 else f"{page['url']}#copy-{copy}"
                date = page.get("date") or page.get("timestamp") or "2019-04-25T00:00:00Z"
                out.write(wet_record(url, date.replace(" ", "T"), page["text"], copy))
        out.write(WHIRLWIND_WET.read_bytes())  # the real records (a warcinfo, then conversions)
    return path


def require_corpus(script: str, inputs) -> None:
    """Exit with one clear line when the shared corpus the bench reads is not there."""
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        sys.exit(f"{script}: the shared corpus is missing (expected ../shared next to the "
                 "repository): " + ", ".join(missing))


def wikipedia_texts() -> list[str]:
    from llama_data.filters import Rejected, run_steps
    from llama_data.sources.wikipedia import DumpReader, wikipedia_steps

    texts = []
    for doc in DumpReader(str(WIKI_DUMP)):
        if isinstance(doc, Exception):
            continue
        result = run_steps(doc, wikipedia_steps())
        if not isinstance(result, Rejected):
            texts.append(result.text)
    return texts


def train_reference(folder: Path, wiki: list[str]) -> Path:
    """A classifier for timing only: Wikipedia articles stand in for cited pages and C4 pages for
    random ones (the bench has no Wikipedia-cited CommonCrawl pages); its scores are not a claim."""
    from llama_data.quality.reference import Examples, train_reference_classifier

    c4 = [json.loads(line)["text"] for line in gzip.open(C4_SAMPLE, "rt", encoding="utf-8")]
    examples = Examples(wiki, c4[:len(wiki)], {"positives": len(wiki), "negatives": len(wiki)})
    path = folder / "ref.bin"
    train_reference_classifier(examples, path)
    return path


# ---------------------------------------------------------------------------------------------
# The worker: one tool's step (or whole chain) in a fresh process


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb() -> float:
    """This process's peak resident memory. Not ``ru_maxrss``: on Linux that keeps the high-water
    mark of the forking parent across exec, so every worker would report the bench's own size."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: str, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def ccnet_dedup(docs: list, keep: str) -> list:
    """llama-data's job-wide CCNet line dedup (pipelines/dedup.py) without Beam: the same hashes
    (``hashed_lines``: CCNet's normalisation, SHA-1, blank lines left out), grouped by hash in a
    dict where Beam groups them in its shuffle; a hash seen more than once is removed everywhere
    (keep="none", CCNet's rule) or everywhere but its first occurrence (keep="first"). Every
    document comes out, with ``meta["dedup_lines_removed"]``."""
    from llama_data.text.ccnet import hashed_lines, remove_lines

    first_at: dict[int, tuple[int, int]] = {}  # hash -> its first (document, line)
    drop: dict[int, set[int]] = {}  # document -> line indices to remove
    removed_first: set[int] = set()
    for i, doc in enumerate(docs):
        for index, h in hashed_lines(doc.text):
            at = first_at.setdefault(h, (i, index))
            if at[0] == i and at[1] == index:
                continue
            drop.setdefault(i, set()).add(index)
            if keep == "none" and h not in removed_first:
                removed_first.add(h)
                drop.setdefault(at[0], set()).add(at[1])
    out = []
    for i, doc in enumerate(docs):
        lines = drop.get(i, ())
        out.append(doc.replace(text=remove_lines(doc.text, lines),
                               meta={**doc.meta, "dedup_lines_removed": len(lines)}))
    return out


class _Datatrove:
    """datatrove's blocks, pointed at the same local model files as llama-data's (no network)."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        import datatrove.utils._import_utils as import_utils

        # datatrove's fastText blocks require the *distribution* fasttext-numpy2-wheel; ours is
        # fasttext-numpy2 (the same `fasttext` module, prebuilt; the -wheel one would replace it).
        is_dist = import_utils._is_distribution_available
        import_utils._is_distribution_available = (
            lambda name: is_dist("fasttext-numpy2") if name == "fasttext-numpy2-wheel"
            else is_dist(name))

    def documents(self, rows: list[dict]):
        from datatrove.data import Document

        return [Document(text=r["text"], id=r["id"], metadata={"url": r.get("url")}) for r in rows]

    def reader(self):
        from datatrove.pipeline.readers import WarcReader

        wet = Path(self.cfg["wet"])
        return WarcReader(str(wet.parent), glob_pattern=wet.name, compression="gzip")

    def dedup_config(self):
        from datatrove.pipeline.dedup.sentence_dedup import SentDedupConfig

        # One "sentence" = one line (split_sentences=False, n_sentences=1): exact line dedup over
        # the job, every copy but the first removed; no minimum words/sentences after removal.
        # Default normalisation (lower case, numbers, punctuation, spaces, accents) and xxhash.
        return SentDedupConfig(n_sentences=1, split_sentences=False, min_doc_words=0,
                               min_num_sentences=0)

    def dedup_blocks(self, work: Path):
        from datatrove.pipeline.dedup.sentence_dedup import (
            SentenceDedupFilter,
            SentenceDedupSignature,
            SentenceFindDedups,
        )
        from datatrove.utils.word_tokenizers import WordTokenizer

        class Unused(WordTokenizer):
            """English's word tokenizer is spaCy's, which SentenceDedup builds but never calls
            when it splits on lines with no word/sentence minimums: a stub spares installing
            spaCy."""

            def word_tokenize(self, text):
                raise AssertionError("not used")

            def sent_tokenize(self, text):
                raise AssertionError("not used")

            def span_tokenize(self, text):
                raise AssertionError("not used")

        config, tok = self.dedup_config(), Unused("en")
        sigs, dups = work / "dt-sigs", work / "dt-dups"
        for d in (sigs, dups):
            shutil.rmtree(d, ignore_errors=True)
        return (SentenceDedupSignature(str(sigs), config=config, language=tok),
                SentenceFindDedups(str(sigs), str(dups), config=config),
                SentenceDedupFilter(str(dups), config=config, language=tok))

    def language_filter(self):
        from datatrove.pipeline.filters import LanguageFilter
        from datatrove.utils.lid import FT176LID

        path = self.cfg["lid_model"]

        class LocalFT176(FT176LID):
            """FT176LID loading our lid.176.ftz instead of downloading lid.176.bin."""

            @property
            def model(self):
                if self._model is None:
                    from fasttext.FastText import _FastText

                    self._model = _FastText(path)
                return self._model

        block = LanguageFilter(languages=["en"], language_threshold=LANG_THRESHOLD)
        block.model = LocalFT176(["en"])
        return block

    def perplexity(self, work: Path):
        from datatrove.pipeline.stats import CCNetPerplexityStats
        from datatrove.utils.perplexity import KenlmModel, SentencePiece

        sp_path, lm_path = self.cfg["sp_model"], self.cfg["lm_model"]

        class LocalKenlm(KenlmModel):
            """KenlmModel loading our en.sp.model/en.arpa.bin, not edugp/kenlm from the hub."""

            @property
            def model(self):
                if self._model is None:
                    import kenlm

                    self._model = kenlm.Model(lm_path)
                return self._model

            @property
            def tokenizer(self):
                if self._tokenizer is None:
                    import sentencepiece

                    sp = SentencePiece("local", "en")
                    sp._model = sentencepiece.SentencePieceProcessor(model_file=sp_path)
                    self._tokenizer = sp
                return self._tokenizer

        # Its cheapest groups: "fqdn"/"suffix" (on by default) would run tldextract on every URL.
        block = CCNetPerplexityStats(str(work / "dt-stats"), model_dataset="local", language="en",
                                     groups_to_compute=["summary", "histogram"])
        block.model = LocalKenlm("local", "en")
        return block

    def reference_filter(self):
        from datatrove.pipeline.filters import FastTextClassifierFilter
        from fasttext.FastText import _FastText

        block = FastTextClassifierFilter(self.cfg["ref_model"],
                                         keep_labels=("wikiref", REF_THRESHOLD),
                                         newline_replacement=" ")
        block._model = _FastText(self.cfg["ref_model"])  # the local file, not a download
        return block


PERPLEXITY_KEY = "ccnet_perplexity_local_en"


def _exhaust(result):
    return list(result) if result is not None else []


def worker(tool: str, step: str, cfg: dict) -> dict:
    """Run one step (or the whole chain) of one tool; returns what the parent reports."""
    work = Path(cfg["work"])
    out_path = cfg["output"]
    rows = read_jsonl(cfg["input"]) if cfg.get("input") else []
    info: dict = {}
    if tool == "llama-data":
        from llama_data.document import Document
        from llama_data.filters import MinWords, Rejected, run_steps
        from llama_data.quality.langid import IdentifyLanguage, KeepLanguages, LanguageIdentifier
        from llama_data.quality.perplexity import LanguageModel, ScorePerplexity
        from llama_data.sources.commoncrawl import WarcReader

        docs = [Document(id=r["id"], text=r["text"], source="commoncrawl", url=r.get("url"),
                         lang=r.get("lang"), lang_score=r.get("lang_score")) for r in rows]

        def lid_steps():
            return [MinWords(1), IdentifyLanguage(LanguageIdentifier(cfg["lid_model"])),
                    KeepLanguages(("en",), LANG_THRESHOLD)]

        def ppl_steps():
            return [ScorePerplexity({"en": LanguageModel(cfg["sp_model"], cfg["lm_model"], "en")})]

        def ref_steps():
            from llama_data.quality.reference import (
                KeepReferences,
                ReferenceClassifier,
                ScoreReference,
            )

            return [ScoreReference(ReferenceClassifier(cfg["ref_model"])),
                    KeepReferences(REF_THRESHOLD)]

        def run(docs, steps):
            return [r for r in (run_steps(d, steps) for d in docs) if not isinstance(r, Rejected)]

        start, wall = cpu_seconds(), time.perf_counter()
        if step == "read":
            out = [d for d in WarcReader(cfg["wet"]) if isinstance(d, Document)]
        elif step == "dedup":
            out = ccnet_dedup(docs, cfg["keep"])
        elif step == "lid":
            out = run(docs, lid_steps())
        elif step == "perplexity":
            out = run(docs, ppl_steps())
        elif step == "reference":
            out = run(docs, ref_steps())
        elif step == "chain":
            read = [d for d in WarcReader(cfg["wet"]) if isinstance(d, Document)]
            out = run(ccnet_dedup(read, cfg["keep"]), lid_steps() + ppl_steps() + ref_steps())
            info["read"] = len(read)
            write_jsonl(out_path, ({"id": d.id, "url": d.url, "text": d.text, "lang": d.lang,
                                    "perplexity": d.meta.get("perplexity")} for d in out))
        else:
            raise ValueError(step)
        cpu, wall = (cpu_seconds() if step == "chain" else cpu_seconds() - start), \
            time.perf_counter() - wall
        if step != "chain":
            write_jsonl(out_path, ({"id": d.id, "url": d.url, "text": d.text, "lang": d.lang,
                                    "lang_score": d.lang_score,
                                    "perplexity": d.meta.get("perplexity"),
                                    "ref_score": d.meta.get("ref_score"),
                                    "lines_removed": d.meta.get("dedup_lines_removed")}
                                   for d in out))
    else:
        dt = _Datatrove(cfg)
        docs = dt.documents(rows)
        start, wall = cpu_seconds(), time.perf_counter()
        if step == "read":
            out = list(dt.reader().run())
        elif step == "dedup":
            signature, find, remove = dt.dedup_blocks(work)
            _exhaust(signature.run(iter(docs)))
            _exhaust(find.run())
            out = _exhaust(remove.run(iter(docs)))
        elif step == "lid":
            out = list(dt.language_filter().run(iter(docs)))
        elif step == "perplexity":
            out = list(dt.perplexity(work).run(iter(docs)))
        elif step == "reference":
            out = list(dt.reference_filter().run(iter(docs)))
        elif step == "chain":
            # datatrove's way: the signatures pass reads the files, and the filtering pass reads
            # them again (nothing is kept between its stages but the hashes).
            signature, find, remove = dt.dedup_blocks(work)
            _exhaust(signature.run(dt.reader().run()))
            _exhaust(find.run())
            pipe = remove.run(dt.reader().run())
            pipe = dt.language_filter().run(pipe)
            pipe = dt.perplexity(work).run(pipe)
            pipe = dt.reference_filter().run(pipe)
            out = list(pipe)
            write_jsonl(out_path, ({"id": d.id, "url": d.metadata.get("url"), "text": d.text,
                                    "lang": d.metadata.get("language"),
                                    "perplexity": d.metadata.get(PERPLEXITY_KEY)} for d in out))
        else:
            raise ValueError(step)
        cpu, wall = (cpu_seconds() if step == "chain" else cpu_seconds() - start), \
            time.perf_counter() - wall
        if step != "chain":
            write_jsonl(out_path, ({"id": d.id, "url": d.metadata.get("url"), "text": d.text,
                                    "lang": d.metadata.get("language"),
                                    "lang_score": d.metadata.get("language_score"),
                                    "perplexity": d.metadata.get(PERPLEXITY_KEY),
                                    "ref_score": d.metadata.get("__label__wikiref")}
                                   for d in out))
    return {"cpu": cpu, "wall": wall, "docs_out": len(out), "peak_mb": peak_rss_mb(), **info}


# ---------------------------------------------------------------------------------------------
# The parent: build the input, run every worker, compare, print


def run_worker(tool: str, step: str, cfg: dict) -> dict:
    """One fresh process, one thread, for one tool's step."""
    cfg_path = Path(cfg["work"]) / f"cfg-{tool}-{step}.json"
    cfg_path.write_text(json.dumps(cfg))
    proc = subprocess.run([sys.executable, __file__, "--worker", tool, step, str(cfg_path)],
                          capture_output=True, text=True, env={**os.environ, **ONE_THREAD})
    if proc.returncode != 0:
        sys.exit(f"bench/commoncrawl.py: {tool} {step} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def text_mb(rows: list[dict]) -> float:
    return sum(len(r["text"].encode("utf-8")) for r in rows) / 1e6


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb)


def beam_prepare(wet: Path, lm_dir: Path, work: Path, keep: str) -> tuple[float, int | None, str]:
    release = work / "release"
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "llama-data"), "-q", "prepare",
                           "commoncrawl", "--input", str(wet), "--output", str(release),
                           "--lm-dir", str(lm_dir), "--dedup-keep", keep],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return wall, None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
    from llama_data import manifest

    entry = manifest.load(str(release)).sources.get("commoncrawl")
    return wall, entry.funnel.kept if entry else None, ""


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=4,
                        help="copies of the 1,000 C4 pages in the WET file (default %(default)s)")
    parser.add_argument("--runs", type=int, default=2,
                        help="fresh processes per tool and step, alternating, the least CPU time "
                             "kept (default %(default)s)")
    parser.add_argument("--keep", choices=["first", "none"], default="first",
                        help="llama-data's dedup rule (default first, as datatrove's; with 'none', "
                             "CCNet's, every repeated page would be emptied)")
    parser.add_argument("--no-beam", action="store_true", help="skip the Beam job row")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the input, models and outputs in this (new) folder instead of "
                             "a temporary one")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        tool, step, cfg_path = args.worker
        print(json.dumps(worker(tool, step, json.loads(Path(cfg_path).read_text()))))
        return
    require_corpus("bench/commoncrawl.py", INPUTS)
    if args.repeat < 1 or args.runs < 1:
        sys.exit("bench/commoncrawl.py: --repeat and --runs must be at least 1")
    try:
        import datatrove  # noqa: F401
    except ImportError:
        sys.exit("bench/commoncrawl.py: datatrove is not installed: run `scripts/setup.sh bench`")

    from llama_data.quality.langid import default_model_path
    from llama_data.quality.perplexity import train_language_model

    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=False)
    with tempfile.TemporaryDirectory(prefix="bench-cc-") as tmp:
        work = (args.work or Path(tmp)).resolve()
        (work / "wet").mkdir()
        wet = build_wet(work / "wet", args.repeat)
        wiki = wikipedia_texts()
        lm_dir = work / "lm"
        start = time.perf_counter()
        train_language_model(wiki, "en", lm_dir, vocab_size=LM_VOCAB, memory="64M")
        lm_seconds = time.perf_counter() - start
        ref_model = str(train_reference(work, wiki))
        base = {"work": str(work), "wet": str(wet), "keep": args.keep,
                "lid_model": str(default_model_path()),
                "sp_model": str(lm_dir / "en.sp.model"), "lm_model": str(lm_dir / "en.arpa.bin"),
                "ref_model": ref_model}

        def step(name: str, input_rows: list[dict] | None, tools=("llama-data", "datatrove")):
            results = {}
            input_path = None
            if input_rows is not None:
                input_path = work / f"in-{name}.jsonl"
                write_jsonl(input_path, input_rows)
            for _ in range(args.runs):  # the tools alternate; each keeps its least CPU time
                for tool in tools:
                    out = work / f"out-{tool}-{name}.jsonl"
                    cfg = {**base, "input": str(input_path) if input_path else None,
                           "output": str(out)}
                    result = run_worker(tool, name, cfg)
                    if tool not in results or result["cpu"] < results[tool]["cpu"]:
                        results[tool] = result
            for tool in tools:
                results[tool]["rows"] = read_jsonl(str(work / f"out-{tool}-{name}.jsonl"))
            return results

        steps: dict[str, dict] = {}
        steps["read"] = step("read", None)
        read_rows = steps["read"]["llama-data"]["rows"]
        wet_mb, wet_docs = text_mb(read_rows), len(read_rows)
        steps["dedup"] = step("dedup", read_rows)
        # Language ID and perplexity time per-document work: they get every page read (the
        # deduplicated input would leave 1/repeat of it), the same pages for both tools.
        lid_input = [r for r in read_rows if r["text"].strip()]
        steps["lid"] = step("lid", lid_input)
        english = steps["lid"]["llama-data"]["rows"]
        steps["perplexity"] = step("perplexity", english)
        steps["reference"] = step("reference", english)
        chain = step("chain", None)
        beam = None if args.no_beam else beam_prepare(wet, lm_dir, work, args.keep)
        wet_file_mb = wet.stat().st_size / 1e6

    # ------------------------------------------------------------------ report
    inputs = {"read": (wet_docs, wet_mb), "dedup": (wet_docs, wet_mb),
              "lid": (len(lid_input), text_mb(lid_input)),
              "perplexity": (len(english), text_mb(english)),
              "reference": (len(english), text_mb(english))}
    labels = {
        "read": ("(a) read", "WarcReader (FastWARC)", "WarcReader (warcio)"),
        "dedup": ("(b) line dedup", f"CCNet line hashes, keep {args.keep}",
                  "SentenceDedup, 1 line = 1 sentence"),
        "lid": ("(c) language ID", "IdentifyLanguage + KeepLanguages", "LanguageFilter (ft176)"),
        "perplexity": ("(d) perplexity", "ScorePerplexity", "CCNetPerplexityStats"),
        "reference": ("(e) reference classifier",
                      "ScoreReference + KeepReferences (normalised text)",
                      "FastTextClassifierFilter (raw text)"),
    }
    header = ("step", "tool", "docs in", "docs out", "docs/cpu-s", "MB/cpu-s", "peak MB",
              "ours/datatrove")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    ratios = {}
    for name, results in steps.items():
        docs_in, mb_in = inputs[name]
        title, ours_label, theirs_label = labels[name]
        ours, theirs = results["llama-data"], results["datatrove"]
        ratios[name] = theirs["cpu"] / ours["cpu"]
        for tool, label, r in (("llama-data", ours_label, ours),
                               ("datatrove", theirs_label, theirs)):
            lines.append("| " + " | ".join([
                title if tool == "llama-data" else "", f"{tool}: {label}", fmt(docs_in),
                fmt(r["docs_out"]), fmt(docs_in / r["cpu"]), fmt(mb_in / r["cpu"], 2),
                fmt(r["peak_mb"], 0),
                f"**{ratios[name]:.2f}x**" if tool == "llama-data" else "1.00x"]) + " |")
    ours, theirs = chain["llama-data"], chain["datatrove"]
    ratios["chain"] = theirs["cpu"] / ours["cpu"]
    for tool, r in (("llama-data", ours), ("datatrove", theirs)):
        lines.append("| " + " | ".join([
            "(a-e) whole chain" if tool == "llama-data" else "",
            f"{tool}: read, dedup, LID, perplexity, classifier (from process start)", fmt(wet_docs),
            fmt(r["docs_out"]), fmt(wet_docs / r["cpu"]), fmt(wet_mb / r["cpu"], 2),
            fmt(r["peak_mb"], 0),
            f"**{ratios['chain']:.2f}x**" if tool == "llama-data" else "1.00x"]) + " |")
    lines.append("| " + " | ".join([
        "CCNet, estimated", "cc_net on one dump: 64 cores, 2-3 days (see below)", "~2.9e9", "–",
        f"{CCNET_DOCS_PER_CORE_S[0]:.0f}–{CCNET_DOCS_PER_CORE_S[1]:.0f}", "–", "–", "–"])
                 + " |")
    if beam is not None:
        wall, kept, error = beam
        lines.append("| " + " | ".join([
            "Beam job", "llama-data prepare commoncrawl (local runner, all cores)", fmt(wet_docs),
            fmt(kept) if not error else f"failed: {error[:60]}", "–", "–", "–",
            f"wall {wall:.1f} s"]) + " |")

    print(f"input: {wet.name}, {wet_docs:,} WET conversion records ({args.repeat} x the 1,000 C4 "
          f"sample pages under new URLs + the real whirlwind.warc.wet.gz), {wet_mb:.1f} MB of "
          f"payload text, {wet_file_mb:.1f} MB gzipped; the repeats are exact, so line dedup "
          f"removes the copies' lines")
    print(f"models: en.sp.model + en.arpa.bin trained here on {len(wiki)} Wikipedia articles "
          f"(vocab {LM_VOCAB}, order 5, {lm_seconds:.0f} s), lid.176.ftz; the same files for both "
          f"tools. One thread per process; MB = UTF-8 text entering the step.\n")
    print("\n".join(lines))

    # ------------------------------------------------------------------ agreement
    print()
    r_ours, r_dt = steps["read"]["llama-data"]["rows"], steps["read"]["datatrove"]["rows"]
    same = {(r["url"], r["text"]) for r in r_ours} & {(r["url"], r["text"]) for r in r_dt}
    print(f"- read: {len(r_ours):,} vs {len(r_dt):,} documents; texts identical for {len(same):,}")
    d_ours, d_dt = steps["dedup"]["llama-data"]["rows"], steps["dedup"]["datatrove"]["rows"]
    lines_in = sum(len(r["text"].split("\n")) for r in read_rows)
    kept_ours = sum(len(r["text"].split("\n")) for r in d_ours if r["text"].strip())
    kept_dt = sum(len(r["text"].split("\n")) for r in d_dt)
    print(f"- dedup: {lines_in:,} lines in; llama-data keeps {kept_ours:,} lines in "
          f"{sum(1 for r in d_ours if r['text'].strip()):,} non-empty documents (all "
          f"{len(d_ours):,} passed on), datatrove {kept_dt:,} lines in {len(d_dt):,} documents "
          "(it drops the emptied ones)")
    l_ours = {r["id"] for r in steps["lid"]["llama-data"]["rows"]}
    l_dt = {r["id"] for r in steps["lid"]["datatrove"]["rows"]}
    print(f"- language ID: kept as English {len(l_ours):,} (llama-data) vs {len(l_dt):,} "
          f"(datatrove), {len(l_ours & l_dt):,} in common, threshold {LANG_THRESHOLD} for both")
    p_ours = {r["id"]: r["perplexity"] for r in steps["perplexity"]["llama-data"]["rows"]}
    p_dt = {r["id"]: r["perplexity"] for r in steps["perplexity"]["datatrove"]["rows"]}
    common = sorted(k for k in p_ours if k in p_dt and p_ours[k] is not None
                    and p_dt[k] is not None)
    a, b = [p_ours[k] for k in common], [p_dt[k] for k in common]
    rel = sorted(abs(x - y) / y for x, y in zip(a, b))
    print(f"- perplexity on the same {len(common):,} documents: Spearman {spearman(a, b):.3f}, "
          f"median |ours - datatrove| / datatrove {rel[len(rel) // 2]:.1%}, "
          f"mean {sum(rel) / len(rel):.1%}"
          f"; median perplexity {sorted(a)[len(a) // 2]:.0f} (llama-data, line by line) vs "
          f"{sorted(b)[len(b) // 2]:.0f} (datatrove, whole document as one line)")
    ref_ours = steps["reference"]["llama-data"]["docs_out"]
    ref_dt = steps["reference"]["datatrove"]["docs_out"]
    print(f"- reference classifier (a stand-in model, for timing only): kept {ref_ours:,} vs "
          f"{ref_dt:,}")
    c_ours, c_dt = chain["llama-data"], chain["datatrove"]
    print(f"- whole chain: {c_ours['read']:,} pages read; scored English pages out: "
          f"{c_ours['docs_out']:,} (llama-data) vs {c_dt['docs_out']:,} (datatrove)")
    print()
    for name, ratio in ratios.items():
        verdict = "met" if ratio >= 1.5 else "NOT met"
        print(f"{name}: llama-data / datatrove per core = {ratio:.2f}x (target 1.5x: {verdict})")
    print(f"\nCCNet (cc_net on one dump, 64 cores, 2-3 days, ~2.9e9 pages; RedPajama-Data issue 35 "
          f"+ Common Crawl's Feb. 2019 announcement): {CCNET_DOCS_PER_CORE_S[0]:.0f}-"
          f"{CCNET_DOCS_PER_CORE_S[1]:.0f} pages/s per core, download included; llama-data's "
          f"whole chain here: {wet_docs / c_ours['cpu']:.0f} pages/s per core")


if __name__ == "__main__":
    main()
