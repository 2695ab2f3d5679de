"""GitHub and StackExchange: the whole ``llama-data prepare`` jobs as users run them.

1. GitHub job: the three real repositories of ``../shared/corpus/github`` (Apache-2.0, MIT,
   LGPL-2.1) and the built-in sample's two tarballs, copied to N repositories as ``.tar.gz``
   (copy k: each file gets a last comment line naming the copy, so no file of one copy is an
   exact duplicate of another's; LICENSE files stay as they are), ``prepare github`` at 1x and
   4x: files and MB per CPU-second of every process of the job, peak memory of its process tree.
2. The licence matcher (ScanCode): its index load, and its time per repository
   (``repository_license`` on each repository's LICENSE/COPYING/README), median of 5.
3. File decisions: every file of the shared repositories and the sample, our verdict (kept, or
   the step and reason that dropped it) against RedPajama v1's published GitHub filter alone (its
   extension list and four thresholds, after its own header strip, tokens by our documented
   split): every disagreement listed, with the rule that explains it.
4. StackExchange job: the two shared ``Posts.xml`` as N sites (copy k is the same file under a
   site named for k: every thread distinct), ``prepare stackexchange`` at 1x and 4x: posts and
   questions per CPU-second, peak memory.

There is no peer run: RedPajama's scripts are not an installable tool (their GitHub filter
needs BigQuery exports and a Hugging Face tokenizer download), so (3) compares decisions instead.

    .venv/bin/python bench/code_qa.py [--repos N] [--sites N] [--workers N] [--repeats N]

Needs ../shared/corpus (github/ and stackexchange/).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the CommonCrawl bench's helpers
from commoncrawl import prepare_job, require_corpus, tag

from llama_data import samples

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
REPOS = tuple(sorted(p for p in (CORPUS / "github").glob("*") if p.is_dir()))
POSTS = tuple(sorted((CORPUS / "stackexchange").glob("*.Posts.xml")))
COMMENT = {".py": "#", ".sh": "#", ".sql": "--", ".c": "//", ".js": "//", ".html": None}


# ---------------------------------------------------------------------------------------------
# Inputs


def repository_files() -> list[tuple[str, dict[str, bytes]]]:
    """(name, {path: bytes}) of the shared repositories and the sample's tarballs."""
    repos = [(p.name, {f.name: f.read_bytes() for f in sorted(p.iterdir()) if f.is_file()})
             for p in REPOS]
    for tarball in samples.github_repositories():
        with tarfile.open(tarball) as tar:
            files = {m.name.split("/", 1)[1]: tar.extractfile(m).read()
                     for m in tar.getmembers() if m.isfile()}
        repos.append((tarball.name.removesuffix("-main.tar.gz"), files))
    return repos


def tagged(path: str, data: bytes, copy: int) -> bytes:
    """Copy ``copy`` of a file: a last comment line naming it (licence files unchanged)."""
    if copy == 0 or path.upper().startswith(("LICENSE", "COPYING", "README")):
        return data
    ext = os.path.splitext(path)[1]
    mark = COMMENT.get(ext, "#")
    line = f"<!-- copy {tag(copy)} -->" if mark is None else f"{mark} copy {tag(copy)}"
    return data.rstrip(b"\n") + b"\n" + line.encode() + b"\n"


def build_repositories(folder: Path, copies: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for copy in range(copies):
        for name, files in repository_files():
            path = folder / f"{name}-{tag(copy)}.tar.gz"
            raw = io.BytesIO()
            with tarfile.open(fileobj=raw, mode="w") as tar:
                for rel, data in sorted(files.items()):
                    data = tagged(rel, data, copy)
                    info = tarfile.TarInfo(f"{name}-{tag(copy)}-main/{rel}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
            paths.append(path)
    return paths


def build_sites(folder: Path, copies: int) -> list[Path]:
    """Every shared Posts.xml once per copy, under a site name of its own."""
    paths = []
    for copy in range(copies):
        for posts in POSTS:
            site = posts.name.removesuffix(".Posts.xml")
            path = folder / f"{tag(copy)}-{site}" / "Posts.xml"
            path.parent.mkdir(parents=True)
            path.symlink_to(posts)
            paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------------
# Whole jobs


def job(source: str, inputs: list[Path], release: Path, workers: int, *extra: str) -> dict:
    result, entry = prepare_job(source, inputs, release, workers, "--shard-size", "4MiB", *extra)
    in_bytes = sum(p.stat().st_size for p in inputs)
    return {**result, "read": entry.funnel.read, "kept": entry.funnel.kept,
            "merged": sum(entry.funnel.merged.values()), "in_mb": in_bytes / 2**20,
            "out_mb": entry.text_bytes / 2**20, "dropped": entry.funnel.dropped}


def scaling(name: str, build, source: str, base: int, work: Path, workers: int,
            repeats: int, *extra: str) -> dict[int, dict]:
    runs: dict[int, dict] = {}
    inputs = {factor: build(work / f"{name}-{factor}x", base * factor) for factor in (1, 4)}
    for repeat in range(repeats):  # 1x and 4x interleaved, each repeat its own release
        for factor in (1, 4):
            result = job(source, inputs[factor], work / f"{name}-R{factor}x-{repeat}", workers,
                         *extra)
            runs.setdefault(factor, []).append(result)
    return {factor: {**results[0],
                     "cpu": statistics.median(r["cpu"] for r in results),
                     "wall": statistics.median(r["wall"] for r in results),
                     "peak_mb": max(r["peak_mb"] for r in results),
                     "cpus": [r["cpu"] for r in results]}
            for factor, results in runs.items()}


def print_scaling(title: str, runs: dict[int, dict], unit: str, count: str) -> None:
    print(f"\n{title}")
    print(f"{'input':>6}{'MB in':>9}{'records':>9}{unit:>11}{'kept':>8}{'CPU s':>8}{'wall s':>8}"
          f"{unit + '/CPU-s':>14}{'MB/CPU-s':>10}{'peak MB':>9}")
    for factor, r in sorted(runs.items()):
        n = r[count]
        print(f"{factor:>5}x{r['in_mb']:>9.1f}{r['read']:>9}{n:>11}{r['kept']:>8}{r['cpu']:>8.1f}"
              f"{r['wall']:>8.1f}{n / r['cpu']:>14.1f}{r['in_mb'] / r['cpu']:>10.2f}"
              f"{r['peak_mb']:>9.0f}")
    print(f"peak memory 4x / 1x: {runs[4]['peak_mb'] / runs[1]['peak_mb']:.2f}; CPU 4x / 1x: "
          f"{runs[4]['cpu'] / runs[1]['cpu']:.2f} (CPU seconds per run: "
          + "; ".join(f"{f}x " + ", ".join(f"{c:.1f}" for c in r["cpus"])
                      for f, r in sorted(runs.items())) + ")")


# ---------------------------------------------------------------------------------------------
# The licence matcher, and file decisions


def licence_times(repeats: int = 5) -> None:
    from llama_data.quality import licenses

    started = time.perf_counter()
    licenses.detect_licenses("MIT License")
    print(f"\nlicence matcher: ScanCode index loaded in {time.perf_counter() - started:.1f}s "
          "(once per worker process)")
    print(f"{'repository':<34}{'root licence/README files':<34}{'found':<22}{'median ms':>10}")
    for name, files in repository_files():
        root = {p: d.decode("utf-8", "replace") for p, d in files.items()
                if "/" not in p and licenses.LICENSE_FILE.match(p)}
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            found = licenses.repository_license(root)
            times.append(time.perf_counter() - started)
        print(f"{name:<34}{', '.join(sorted(root)) or '-':<34}{' '.join(found.spdx) or '-':<22}"
              f"{statistics.median(times) * 1000:>10.1f}")


BLOCK_COMMENT = re.compile(r"/\*[^*]*\*+(?:[^/*][^*]*\*+)*/")


def redpajama_strip(text: str) -> str:
    """RedPajama v1's header strip as ``clean_copyright_comments`` in
    ``data_prep/github/github_clean_dedup_local.py`` (``rp_v1`` commit 45b37c2) defines it: the
    file's first ``/* */`` comment, anywhere, is cut if it says "copyright", and then nothing
    else; a file without one loses every leading line that starts with ``//``, ``#`` or ``--`` or
    is empty (shebangs and encoding lines too)."""
    block = BLOCK_COMMENT.search(text)
    if block:
        cut = "copyright" in block.group().lower()
        return text[:block.start()] + text[block.end():] if cut else text
    lines = text.split("\n")
    skip = 0
    while skip < len(lines) and (not lines[skip] or lines[skip].startswith(("//", "#", "--"))):
        skip += 1
    return "\n".join(lines[skip:])


def published_verdict(path: str, text: str) -> str:
    """RedPajama v1's GitHub filter (extension list, four thresholds, measured after its own
    header strip), tokens by our documented split."""
    from llama_data.quality.code import REDPAJAMA_EXTENSIONS, CodeThresholds, count_tokens

    limits = CodeThresholds()
    if not path.endswith(REDPAJAMA_EXTENSIONS):
        return "extension"
    text = redpajama_strip(text)
    if not text:
        return "empty"
    lines = text.splitlines() or [""]
    if max(len(line) for line in lines) > limits.max_line_length:
        return "max_line_length"
    if len(text) / len(lines) > limits.mean_line_length:
        return "mean_line_length"
    if sum(c.isalnum() for c in text) / len(text) < limits.min_alphanumeric:
        return "alphanumeric"
    if sum(c.isalpha() for c in text) / max(count_tokens(text), 1) < limits.min_alpha_per_token:
        return "alpha_per_token"
    return "kept"


def why(ours: str, path: str, stripped: str) -> str:
    """What makes our verdict differ from the published thresholds alone."""
    step = ours.partition(":")[0]
    if step == "license":
        return "licence (RedPajama took BigQuery's licence column before its filter)"
    if ours in ("code:generated", "code:minified", "code:not_text", "exact_dedup:duplicate"):
        return f"{ours.partition(':')[2]} rule, not in RedPajama's filter"
    if (published_verdict(path, stripped) == "kept") == (ours == "kept"):
        return "our header strip removes what RedPajama's keeps (or the reverse)"
    return "unexplained"


def decisions() -> None:
    from llama_data.filters import Rejected, run_steps
    from llama_data.quality.code import code_steps
    from llama_data.sources.github import RepositoryReader
    from llama_data.text.code_header import strip_license_header

    steps = code_steps()
    rows, agree = [], 0
    paths = [*REPOS, *samples.github_repositories()]
    for repo in paths:
        for doc in RepositoryReader(str(repo)):
            if not hasattr(doc, "meta"):
                continue
            result = run_steps(doc, steps)
            ours = result.reason if isinstance(result, Rejected) else "kept"
            theirs = published_verdict(doc.meta["path"], doc.text)
            if (ours == "kept") == (theirs == "kept"):
                agree += 1
            else:
                stripped = strip_license_header(doc.text, doc.meta["path"])
                rows.append((f"{repo.name}/{doc.meta['path']}", ours, theirs,
                             why(ours, doc.meta["path"], stripped)))
    print(f"\nfile decisions: ours against RedPajama v1's published filter, {agree + len(rows)} "
          f"files, {agree} agree (kept by both or dropped by both), {len(rows)} disagree:")
    print(f"{'file':<52}{'ours':<24}{'published':<11}why")
    for name, ours, theirs, reason in rows:
        print(f"{name:<52}{ours:<24}{theirs:<11}{reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=100,
                        help="copies of the 5 repositories at 1x (default %(default)s)")
    parser.add_argument("--sites", type=int, default=8,
                        help="copies of the 2 StackExchange sites at 1x (default %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes of each job (default: the cores)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs of each size, interleaved (default %(default)s)")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    require_corpus("bench/code_qa.py", [*POSTS, *(r / "LICENSE" for r in REPOS
                                                 if (r / "LICENSE").exists())])
    if not REPOS or not POSTS:
        sys.exit("bench/code_qa.py: ../shared/corpus/github/ or stackexchange/ is empty")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-code-qa-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work folder {work}; {args.workers} worker(s) per job; {os.cpu_count()} cores")

    licence_times()
    decisions()
    github = scaling("github", build_repositories, "github", args.repos, work, args.workers,
                     args.repeats)
    print_scaling(f"GitHub: prepare github on {args.repos} x {len(repository_files())} "
                  "repositories (1x) and 4x", github, "files", "read")
    qa = scaling("stackexchange", build_sites, "stackexchange", args.sites, work, args.workers,
                 args.repeats, "--top-sites", "100000")
    for runs in qa.values():
        runs["questions"] = runs["kept"]
    print_scaling(f"StackExchange: prepare stackexchange on {args.sites} x {len(POSTS)} sites "
                  "(1x) and 4x", qa, "questions", "questions")
    print(json.dumps({"github": {k: {x: v[x] for x in ("read", "kept", "cpu", "peak_mb")}
                                 for k, v in github.items()},
                      "stackexchange": {k: {x: v[x] for x in ("read", "kept", "merged", "cpu",
                                                              "peak_mb")}
                                        for k, v in qa.items()}}))


if __name__ == "__main__":
    main()
