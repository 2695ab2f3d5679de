"""ArXiv LaTeX cleaning: ours against Google's ``arxiv-latex-cleaner`` (a maintained peer for
comment removal; it does not expand macros or cut the preamble and bibliography, which is not
its job), on the same papers: the two of ``../shared/corpus/arxiv``, each copied to N folders.

1. Papers/s per core, one process (CPU seconds of this process):
   - folder -> text: ours reads the folder (:class:`PaperReader`, ``\\input`` inlined) and runs
     :func:`arxiv_steps`; the peer's ``run_arxiv_cleaner`` reads the folder and writes its cleaned
     copy (its figure resizing off);
   - in memory: our :func:`clean_paper` on the inlined text against the peer's own comment step
     (``_remove_comments_and_commands_to_delete``) on each .tex file's lines.
2. The whole ``llama-data prepare arxiv`` job as users run it, on bulk archives
   (``arXiv_src_2601_NNN.tar``: per-paper gzipped tars of the shared papers, each copy its own
   paper id) at 1x and 4x: papers per CPU-second of every process of the job, peak memory of its
   process tree (bench/commoncrawl.py's measurement), both cores.
3. What each leaves, per shared paper: ``%`` comments with text, bare ``%`` at line ends (the
   peer keeps them on purpose: in TeX they join a line to the next), uses of the paper's own macros
   (names from its ``\\newcommand``/``\\def`` lines), definitions, and whether the preamble and the
   bibliography are still there.

    .venv/bin/python bench/arxiv.py [--copies N] [--job-papers N] [--workers N]

Needs ../shared/corpus/arxiv and the ``bench`` extra (arxiv-latex-cleaner).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from arxiv_latex_cleaner import arxiv_latex_cleaner as peer

from llama_data.document import Document
from llama_data.filters import run_steps
from llama_data.quality.arxiv import arxiv_steps
from llama_data.sources.arxiv import PaperReader
from llama_data.text.latex import clean_paper, comment_start, expand_macros, remove_comments

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "arxiv"
PAPERS = tuple(sorted(p for p in CORPUS.glob("*") if p.is_dir()))
DEFINITION = re.compile(r"\\(?:(?:re)?newcommand|providecommand)\*?\s*\{?\s*(\\[A-Za-z@]+)"
                        r"|\\[gex]?def\s*(\\[A-Za-z@]+)")
BIBLIOGRAPHY = re.compile(r"\\bibliography\{|\\begin\{thebibliography\}|\\printbibliography")
PEER_PARAMETERS = {"resize_images": False, "im_size": 500, "compress_pdf": False,
                   "pdf_im_resolution": 500, "images_allowlist": {}, "commands_to_delete": [],
                   "commands_only_to_delete": [], "environments_to_delete": [],
                   "use_external_tikz": None, "keep_bib": False}


def read_paper(folder: Path) -> Document:
    return next(d for d in PaperReader(str(folder)) if isinstance(d, Document))


def ours(folder: Path) -> str:
    out = run_steps(read_paper(folder), arxiv_steps())
    return out.text if isinstance(out, Document) else ""


def theirs(folder: Path) -> str:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        peer.run_arxiv_cleaner({**PEER_PARAMETERS, "input_folder": str(folder)})
    out = Path(f"{folder}_arXiv")
    return "\n".join(p.read_text() for p in sorted(out.rglob("*.tex")))


def leftovers(text: str, names: set[str]) -> dict[str, object]:
    uses = sum(len(re.findall(re.escape(n) + r"(?![A-Za-z@])", text)) for n in names)
    defs = len(DEFINITION.findall(text))
    cuts = [(line, comment_start(line)) for line in text.splitlines()]
    comments = [line[cut + 1:].strip() for line, cut in cuts if cut is not None]
    return {"comments with text": sum(bool(c) for c in comments),
            "bare %": sum(not c for c in comments),
            "macro uses": uses - defs, "definitions": defs,
            "preamble": "\\documentclass" in text,
            "bibliography": BIBLIOGRAPHY.search(text) is not None}


def per_core(fn, items: list) -> tuple[float, float]:
    start = time.process_time()
    for item in items:
        fn(item)
    cpu = time.process_time() - start
    return len(items) / cpu, cpu


def measure(folders: list[Path], texts: dict[Path, str],
            peer_lines: dict[Path, dict[Path, list[str]]]) -> list[tuple[str, str, tuple]]:
    return [
        ("folder -> text", "ours (read, inline, steps)", per_core(ours, folders)),
        ("folder -> text", "arxiv-latex-cleaner (run_arxiv_cleaner)",
         per_core(theirs, folders)),
        ("in memory", "ours (clean_paper)", per_core(lambda p: clean_paper(texts[p]), folders)),
        ("in memory", "arxiv-latex-cleaner (comment step)", per_core(
            lambda p: [peer._remove_comments_and_commands_to_delete(lines, PEER_PARAMETERS)
                       for lines in peer_lines[p].values()], folders)),
    ]


def bulk_archives(folder: Path, papers: int, per_archive: int = 100) -> list[Path]:
    """``papers`` submissions in arXiv's bulk format: the shared papers in turn, each a gzipped
    tar of its folder under its own id (2601.NNNNN)."""
    folder.mkdir(parents=True)
    blobs = []
    for paper in PAPERS:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for path in sorted(paper.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=str(path.relative_to(paper)))
        blobs.append(raw.getvalue())
    archives = []
    for start in range(0, papers, per_archive):
        path = folder / f"arXiv_src_2601_{start // per_archive + 1:03d}.tar"
        with tarfile.open(path, "w") as tar:
            for n in range(start, min(papers, start + per_archive)):
                data = blobs[n % len(blobs)]
                info = tarfile.TarInfo(f"2601/2601.{n + 1:05d}.gz")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        archives.append(path)
    return archives


def whole_job(work: Path, base: int, workers: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from commoncrawl import prepare_job

    print(f"\nthe whole job: llama-data prepare arxiv, {workers} worker(s)")
    print("| input | papers | kept | CPU s | wall s | papers/s per core | peak MB |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    peaks = {}
    for factor in (1, 4):
        archives = bulk_archives(work / f"bulk-{factor}x", base * factor)
        release = work / f"release-{factor}x"
        result, entry = prepare_job("arxiv", archives, release, workers, "--shard-size", "4MiB")
        funnel = entry.funnel
        peaks[factor] = result["peak_mb"]
        print(f"| {factor}x | {funnel.read:,} | {funnel.kept:,} | {result['cpu']:.1f} | "
              f"{result['wall']:.1f} | {funnel.read / result['cpu']:.0f} | "
              f"{result['peak_mb']:.0f} |")
    print(f"peak memory 4x / 1x: {peaks[4] / peaks[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--job-papers", type=int, default=1000,
                        help="submissions of the whole job's 1x input (default %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the peer logs every file and warns on \if blocks
    if not PAPERS:
        raise SystemExit(f"no papers at {CORPUS}")
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for k in range(args.copies):
            for paper in PAPERS:
                folders.append(Path(tmp) / f"{paper.name}-{k}")
                shutil.copytree(paper, folders[-1])
        texts = {p: read_paper(p).text for p in folders}
        peer_lines = {p: {f: peer._read_file_content(str(f)) for f in p.glob("*.tex")}
                      for p in folders}
        with contextlib.redirect_stderr(io.StringIO()):  # the peer's warnings on \if blocks
            rows = measure(folders, texts, peer_lines)
    print(f"{len(folders)} papers ({args.copies} copies of {', '.join(p.name for p in PAPERS)})")
    print("| what | tool | papers/s per core | CPU s |\n|---|---|---:|---:|")
    for what, tool, (rate, cpu) in rows:
        print(f"| {what} | {tool} | {rate:,.0f} | {cpu:.2f} |")
    print("\n| paper | tool | comments with text | bare % | macro uses | definitions | preamble "
          "| bibliography |\n|---|---|---:|---:|---:|---:|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for paper in PAPERS:
            copy = Path(tmp) / paper.name
            shutil.copytree(paper, copy)
            names = {a or b for f in paper.glob("*.tex")
                     for a, b in DEFINITION.findall(f.read_text())}
            source = "\n".join(f.read_text() for f in sorted(paper.glob("*.tex")))
            uncut = expand_macros(remove_comments(read_paper(copy).text))[0]
            for tool, text in [("source", source), ("ours", ours(copy)),
                               ("ours before the section/bibliography cuts", uncut),
                               ("arxiv-latex-cleaner", theirs(copy))]:
                row = leftovers(text, names)
                print(f"| {paper.name} | {tool} | " + " | ".join(str(v) for v in row.values())
                      + " |")
    with tempfile.TemporaryDirectory() as tmp:
        whole_job(Path(tmp), args.job_papers, args.workers)


if __name__ == "__main__":
    main()
