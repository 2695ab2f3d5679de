"""The release build's time budget: ``llama-data demo`` (a ``release build`` of the shipped demo
recipe, every stage on the built-in samples) from nothing, then ``release build`` of the same
recipe again with nothing changed (every stage skipped by its fingerprint), then once more after
one option changed (the tokenizer's seed: the tokenizer and what depends on it rerun).
Wall time and CPU seconds of every process of each command (bench/commoncrawl.py's measurement).

    .venv/bin/python bench/release.py [--work DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from commoncrawl import run_measured

from llama_data.recipe import shipped

LLAMA_DATA = str(Path(sys.executable).parent / "llama-data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--repeats", type=int, default=3, help="no-change rebuilds (default 3)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-release-"))
    release = work / "demo-release"
    first = run_measured([LLAMA_DATA, "demo", "--output", str(release)])
    again = [run_measured([LLAMA_DATA, "release", "build", "demo", "--output", str(release), "-q"])
             for _ in range(args.repeats)]
    recipe = work / "demo-seed.toml"
    recipe.write_text(shipped("demo").read_text(encoding="utf-8").replace(
        "[tokenizer]\n", "[tokenizer]\nseed = 7\n", 1), encoding="utf-8")
    changed = run_measured([LLAMA_DATA, "release", "build", str(recipe), "--output",
                            str(release), "-q"])
    print("| command | wall s | CPU s | peak MB |\n|---|---|---|---|")
    print(f"| llama-data demo (every stage, from nothing) | {first['wall']:.1f} | "
          f"{first['cpu']:.1f} | {first['peak_mb']:.0f} |")
    walls = [r["wall"] for r in again]
    print(f"| release build demo, nothing changed (median of {len(again)}; "
          f"{min(walls):.2f}-{max(walls):.2f}) | {statistics.median(walls):.2f} | "
          f"{statistics.median(r['cpu'] for r in again):.2f} | "
          f"{max(r['peak_mb'] for r in again):.0f} |")
    print(f"| release build, tokenizer seed changed (tokenizer and its dependents rerun) | "
          f"{changed['wall']:.1f} | {changed['cpu']:.1f} | {changed['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
