"""CommonCrawl: the whole ``llama-data prepare commoncrawl`` job against datatrove's whole pipeline.

Both run as users run them, in a subprocess, on the same WET files and with the same number of
workers: ours is the CLI (Beam's local runner, ``--direct_num_workers W``); datatrove's is
``LocalPipelineExecutor`` (``workers=W``, one task per file) over the same blocks: WET read, line
dedup (``SentenceDedup``, one line = one sentence: signatures, find, filter, so the files are read
twice as ours are), fastText language ID (the same ``lid.176.ftz``), KenLM perplexity (the same
``en.sp.model`` + ``en.arpa.bin``, trained here on the English Wikipedia sample), and a writer.
Measured for the whole process tree from start to the last file written: CPU seconds of every
process (``getrusage(RUSAGE_CHILDREN)`` after the job's process is reaped: Beam's and datatrove's
worker processes are waited for by their parents, so their time is included) and peak memory
(the largest sum over the tree of each process's proportional set size, ``Pss`` in
``/proc/PID/smaps_rollup``, sampled every 0.1 s: shared pages counted once).

Input: WET files written here from the 1,000 real pages of the C4 sample (``../shared/corpus/c4``),
as gzipped WARC/1.0 ``conversion`` records; copy k > 0 of a page keeps its first line (a stand-in
for a site's boilerplate, which line dedup removes) and tags every other line with a word of
letters (CCNet's normalisation maps digits to 0, so numbered copies would still be duplicates),
so that dedup removes a small share of lines, as in a real dump. Then:

* pairs of runs (ours, datatrove; the order alternating), pages per CPU-second and peak memory of
  each, the median ratio and its spread;
* our job without language models at 1x, 4x and 16x a base input (files of the same size, more of
  them), peak memory;
* bytes shuffled per input byte: what crosses Beam's shuffles, weighed with Beam's own coder
  (explained in BENCHMARKS.md).

    .venv/bin/python bench/commoncrawl.py [--quick] [--pages N] [--files N] [--pairs N]
                                          [--workers N] [--scale-base N] [--work DIR]

Needs ``scripts/setup.sh bench`` (datatrove and its light dependencies) and ../shared/corpus.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
C4_SAMPLE = CORPUS / "c4" / "c4-sample.00000-of-00001.json.gz"
WIKI_DUMP = (CORPUS / "wikipedia"
             / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
INPUTS = (C4_SAMPLE, WIKI_DUMP)

LANG_THRESHOLD = 0.5  # CCNet's (and llama-data's default); datatrove's own default is 0.65
LM_VOCAB = 8000       # the Wikipedia sample (2.6 MB of text) is too small for CCNet's 65,536
KEEP = "first"        # the rule datatrove's SentenceDedup has (CCNet's is "none")
TARGET = 2.5
# datatrove's default start method, forkserver, hangs here in the last stage (its workers never
# start the tasks); fork works, and spares datatrove's workers their imports.
START = "fork"
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
       "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "LOGURU_LEVEL": "WARNING"}


# ---------------------------------------------------------------------------------------------
# Input: WET files from real CommonCrawl-derived text


def tag(n: int) -> str:
    """A word of letters per number (no digit: CCNet's normalisation maps digits to 0)."""
    letters, n = "", n + 26
    while n:
        n, r = divmod(n, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[r] + letters
    return letters


def copy_text(text: str, copy: int) -> str:
    """Copy 0 as is; in copy k the first line stays (boilerplate), every other one is tagged."""
    if copy == 0:
        return text
    first, *rest = text.split("\n")
    return "\n".join([first, *(f"{line} {tag(copy)}" if line.strip() else line for line in rest)])


def wet_record(url: str, date: str, text: str) -> bytes:
    """One WET ``conversion`` record, gzipped on its own as in CommonCrawl's WET files."""
    payload = text.encode("utf-8")
    head = "\r\n".join([
        "WARC/1.0", "WARC-Type: conversion", f"WARC-Target-URI: {url}", f"WARC-Date: {date}",
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}>",
        f"WARC-Block-Digest: sha1:{hashlib.sha1(payload).hexdigest()}",
        "Content-Type: text/plain", f"Content-Length: {len(payload)}", "", ""])
    return gzip.compress(head.encode() + payload + b"\r\n\r\n", compresslevel=6, mtime=0)


def build_wets(folder: Path, pages: int, files: int) -> list[Path]:
    """``pages`` pages (C4's 1,000, then their tagged copies) in ``files`` WET files."""
    with gzip.open(C4_SAMPLE, "rt", encoding="utf-8") as f:
        c4 = [json.loads(line) for line in f]
    folder.mkdir(parents=True)
    paths = [folder / f"part-{i:04d}.warc.wet.gz" for i in range(files)]
    per_file = -(-pages // files)
    for i, path in enumerate(paths):
        with path.open("wb") as out:
            for n in range(i * per_file, min(pages, (i + 1) * per_file)):
                copy, row = divmod(n, len(c4))
                page = c4[row]
                url = page["url"] if copy == 0 else f"{page['url']}#copy-{tag(copy)}"
                out.write(wet_record(url, page["date"].replace(" ", "T"),
                                     copy_text(page["text"], copy)))
    return paths


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


# ---------------------------------------------------------------------------------------------
# Measuring a process tree


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    children = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[ppid].append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``cmd``; its tree's CPU seconds (all processes, reaped), peak PSS and wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, **ENV, **(env or {})})
        peak = 0
        while proc.poll() is None:
            peak = max(peak, sum(_pss_kb(pid) for pid in _tree(proc.pid)))
            time.sleep(0.1)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"bench/commoncrawl.py: {' '.join(cmd[:4])} ... failed:\n{stderr[-3000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"cpu": cpu, "wall": time.perf_counter() - start, "peak_mb": peak / 1024}


def prepare_job(source: str, inputs, release: Path, workers: int, *extra: str):
    """``llama-data prepare SOURCE`` as users run it, measured (:func:`run_measured`), and its
    manifest entry, the funnel checked."""
    from llama_data import manifest

    mode = "multi_processing" if workers > 1 else "in_memory"
    result = run_measured([str(Path(sys.executable).parent / "llama-data"), "-q", "prepare",
                           source, "--input", *map(str, inputs), "--output", str(release),
                           *extra, f"--direct_num_workers={workers}",
                           f"--direct_running_mode={mode}"])
    entry = manifest.load(str(release)).sources[source]
    entry.funnel.check()
    return result, entry


# ---------------------------------------------------------------------------------------------
# The two jobs


def ours(wet_dir: Path, release: Path, workers: int, lm_dir: Path | None, keep: str = KEEP,
         scope: str = "job", shard_size: str | None = None) -> dict:
    """``llama-data prepare commoncrawl`` as a user runs it; its funnel from the manifest."""
    from llama_data import manifest

    shutil.rmtree(release, ignore_errors=True)
    mode = "multi_processing" if workers > 1 else "in_memory"
    cmd = [str(Path(sys.executable).parent / "llama-data"), "-q", "prepare", "commoncrawl",
           "--input", f"{wet_dir}/*.warc.wet.gz", "--output", str(release), "--dedup-keep", keep,
           "--dedup-scope", scope,
           f"--direct_num_workers={workers}", f"--direct_running_mode={mode}"]
    result = run_measured(cmd + (["--lm-dir", str(lm_dir)] if lm_dir else [])
                          + (["--shard-size", shard_size] if shard_size else []))
    entry = manifest.load(str(release)).sources["commoncrawl"]
    entry.funnel.check()
    return {**result, "read": entry.funnel.read, "kept": entry.funnel.kept,
            "lines": entry.counters["dedup/lines_seen"],
            "removed": entry.counters["dedup/lines_removed"]}


def theirs(cfg: dict) -> dict:
    """datatrove's pipeline in a fresh process (this script's ``--datatrove`` mode)."""
    import pyarrow.parquet as pq

    cfg_path = Path(cfg["work"]) / "datatrove.json"
    cfg_path.write_text(json.dumps(cfg))
    result = run_measured([sys.executable, __file__, "--datatrove", str(cfg_path)])
    out = Path(cfg["work"]) / "dt-out"
    kept = sum(pq.ParquetFile(path).metadata.num_rows for path in out.glob("*.parquet"))
    return {**result, "kept": kept}


def datatrove_job(cfg: dict) -> None:
    """Signatures (one task per file), find duplicates (one task), then read again, filter the
    duplicated lines, language ID, perplexity, write (one task per file)."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.writers import ParquetWriter

    work = Path(cfg["work"])
    for d in ("dt-logs", "dt-out", "dt-stats"):
        shutil.rmtree(work / d, ignore_errors=True)
    dt = _Datatrove(cfg)
    signature, find, remove = dt.dedup_blocks(work)
    run = {"workers": cfg["workers"], "start_method": START}
    files = cfg["files"]
    hashes = LocalPipelineExecutor([dt.reader(), signature], tasks=files, **run,
                                   logging_dir=str(work / "dt-logs" / "1"))
    found = LocalPipelineExecutor([find], tasks=1, **{**run, "workers": 1},
                                  logging_dir=str(work / "dt-logs" / "2"), depends=hashes)
    blocks = [dt.reader(), remove, dt.language_filter(), dt.perplexity(work),
              ParquetWriter(str(work / "dt-out"))]
    LocalPipelineExecutor(blocks, tasks=files, **run, logging_dir=str(work / "dt-logs" / "3"),
                          depends=found).run()



# ---------------------------------------------------------------------------------------------
# datatrove's blocks


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

    def reader(self):
        from datatrove.pipeline.readers import WarcReader

        return WarcReader(self.cfg["wet_dir"], glob_pattern="*.warc.wet.gz", compression="gzip")

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


PERPLEXITY_KEY = "ccnet_perplexity_local_en"


# ---------------------------------------------------------------------------------------------
# Bytes shuffled


def shuffled_bytes(paths: list[Path], release: Path) -> dict[str, float]:
    """What crosses the job's shuffles, weighed with the coder Beam gives these elements
    (``FastPrimitivesCoder``): pass 1's one (scope group, LineHashes) element per input file. The
    input paths, the shard buckets' file names and the duplicated-hash tables (a side input) are
    left out: a few bytes per file and per duplicated line. Documents cross no shuffle: they reach
    their shard bucket through one spill file per bundle and bucket (``docs_spilled``: their text,
    written once more, per input byte)."""
    from apache_beam.coders import FastPrimitivesCoder

    from llama_data.pipelines.dedup import _HashLinesFn
    from llama_data.sources.commoncrawl import WarcReader

    coder = FastPrimitivesCoder()
    hashing = _HashLinesFn(WarcReader, {str(p): 0 for p in paths}, KEEP)
    pass_one = sum(len(coder.encode(element)) for path in paths
                   for element in hashing.process(str(path)))
    from llama_data import manifest

    spilled = manifest.load(str(release)).sources["commoncrawl"].text_bytes
    raw = 0
    for path in paths:
        with gzip.open(path, "rb") as f:
            raw += len(f.read())
    gz = sum(p.stat().st_size for p in paths)
    return {"hashes": pass_one / raw, "docs_spilled": spilled / raw, "raw_mb": raw / 1e6,
            "gz_mb": gz / 1e6, "per_gz_byte": pass_one / gz}


# ---------------------------------------------------------------------------------------------
# The parent


SCALE_SHARD = "4MiB"  # the scaling runs' shards: a bucket (one shard) is what a worker sorts


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}" if len(values) > 1 else "one pair"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a sanity run: 4,000 pages, one pair, scaling from 500 pages")
    parser.add_argument("--pages", type=int, default=50_000, help="pages (default %(default)s)")
    parser.add_argument("--files", type=int, default=8, help="WET files (default %(default)s)")
    parser.add_argument("--pairs", type=int, default=3, help="paired runs (default %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes of each tool (default: the cores, %(default)s)")
    parser.add_argument("--scale-base", type=int, default=1000,
                        help="pages of the 1x input of the memory scaling (default %(default)s)")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep inputs, models and outputs in this (new) folder")
    parser.add_argument("--scopes", action="store_true",
                        help="only the share of lines each --dedup-scope removes (CCNet's rule) "
                             "on the C4 sample's pages, 4 copies in 8 WET files")
    parser.add_argument("--datatrove", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.datatrove:
        datatrove_job(json.loads(args.datatrove.read_text()))
        return
    if args.quick:
        args.pages, args.files, args.pairs, args.scale_base = 4000, 4, 1, 500
    require_corpus("bench/commoncrawl.py", INPUTS)
    if args.scopes:
        scope_rates(args.workers)
        return
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
        wets = build_wets(work / "wet", args.pages, args.files)
        lm_dir = work / "lm"
        train_language_model(wikipedia_texts(), "en", lm_dir, vocab_size=LM_VOCAB, memory="64M")
        cfg = {"work": str(work), "wet_dir": str(work / "wet"), "files": args.files,
               "workers": args.workers, "lid_model": str(default_model_path()),
               "sp_model": str(lm_dir / "en.sp.model"), "lm_model": str(lm_dir / "en.arpa.bin")}
        pairs = []
        for i in range(args.pairs):
            order = ("ours", "theirs") if i % 2 == 0 else ("theirs", "ours")
            run = {name: ours(work / "wet", work / "release", args.workers, lm_dir)
                   if name == "ours" else theirs(cfg) for name in order}
            pairs.append(run)
            print(f"pair {i + 1}: ours {run['ours']['cpu']:.1f} cpu-s, {run['ours']['peak_mb']:.0f}"
                  f" MB; datatrove {run['theirs']['cpu']:.1f} cpu-s, "
                  f"{run['theirs']['peak_mb']:.0f} MB", file=sys.stderr)
        scaling: dict[int, dict[int, dict]] = {1: {}, args.workers: {}}
        for factor in (1, 4, 16):
            pages = args.scale_base * factor
            folder = work / f"scale-{factor}"
            paths = build_wets(folder, pages, 2 * factor)
            for workers, runs in scaling.items():  # 1: the job's own state; more: Beam's too
                runs[factor] = ours(folder, work / f"release-{factor}", workers, None,
                                    shard_size=SCALE_SHARD)
        shuffle = shuffled_bytes(paths, work / "release-16")
        print_report(args, wets, pairs, scaling, shuffle)


def scope_rates(workers: int) -> None:
    """Lines removed by CCNet's rule in each scope: the 1,000 pages and 3 copies (each copy's
    first lines repeated), two files per copy; groups:2 then sees one copy, groups:4 two."""
    with tempfile.TemporaryDirectory(prefix="bench-cc-") as tmp:
        build_wets(Path(tmp) / "wet", 4000, 8)
        print("| --dedup-scope | lines | removed | share |\n|---|---|---|---|")
        for scope in ("job", "groups:4", "groups:2", "groups:1"):
            r = ours(Path(tmp) / "wet", Path(tmp) / "r", workers, None, "none", scope)
            print(f"| {scope} | {r['lines']:,} | {r['removed']:,} | "
                  f"{r['removed'] / r['lines']:.2%} |")


def print_report(args, wets: list[Path], pairs: list[dict], scaling: dict, shuffle: dict) -> None:
    first = pairs[0]["ours"]
    pages = first["read"]
    gz_mb = sum(p.stat().st_size for p in wets) / 1e6
    print(f"input: {pages:,} pages in {args.files} WET files ({gz_mb:.1f} MB gzipped); line dedup "
          f"(keep {KEEP}) removed {first['removed']:,} of {first['lines']:,} lines "
          f"({first['removed'] / first['lines']:.1%}); {args.workers} worker(s) each\n")
    print("| run | tool | CPU s | pages/CPU-s | peak MB | wall s | pages out | ours/datatrove |")
    print("|---|---|---|---|---|---|---|---|")
    ratios = []
    for i, pair in enumerate(pairs, 1):
        a, b = pair["ours"], pair["theirs"]
        ratios.append(b["cpu"] / a["cpu"])
        for name, r in (("llama-data prepare commoncrawl", a), ("datatrove", b)):
            print(f"| {i} | {name} | {r['cpu']:.1f} | {pages / r['cpu']:,.0f} | "
                  f"{r['peak_mb']:,.0f} | {r['wall']:.1f} | {r['kept']:,} | "
                  + (f"**{ratios[-1]:.2f}x**" if r is a else "1.00x") + " |")
    median = statistics.median(ratios)
    memory = statistics.median(p["theirs"]["peak_mb"] / p["ours"]["peak_mb"] for p in pairs)
    print(f"\nper CPU-second: llama-data / datatrove = {median:.2f}x median of {len(ratios)} "
          f"pair(s) ({spread(ratios)}); target {TARGET}x: "
          f"{'met' if median >= TARGET else 'NOT met'}; peak memory datatrove / ours = "
          f"{memory:.2f}x")
    for workers, runs in scaling.items():
        print(f"\nour job without language models, {workers} worker(s), files of the same size, "
              f"--shard-size {SCALE_SHARD}:\n")
        print("| input | pages | peak MB | CPU s | lines removed |")
        print("|---|---|---|---|---|")
        for factor, r in runs.items():
            print(f"| {factor}x | {r['read']:,} | {r['peak_mb']:,.0f} | {r['cpu']:.1f} | "
                  f"{r['removed'] / r['lines']:.1%} |")
        growth = runs[16]["peak_mb"] - runs[1]["peak_mb"]
        added = runs[16]["read"] - runs[1]["read"]
        lines = runs[16]["lines"] - runs[1]["lines"]
        print(f"\npeak memory 1x -> 16x: {growth:+,.0f} MB for {added:,} more pages, {lines:,} "
              f"more lines ({growth * 1e6 / added:,.0f} bytes per page, "
              f"{growth * 1e6 / lines:,.0f} per line)")
    print(f"bytes shuffled per uncompressed input byte (16x input, {shuffle['raw_mb']:.1f} MB): "
          f"{shuffle['hashes']:.3f} (one line-hash table per file; {shuffle['per_gz_byte']:.3f} "
          f"per gzipped byte); documents shuffled: none (spilled once to files: "
          f"{shuffle['docs_spilled']:.3f} per input byte)")

if __name__ == "__main__":
    main()
