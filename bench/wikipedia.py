"""Wikipedia extraction: llama-data against wikiextractor on the same real dump, side by side.

Measures, for the input at 1x and 4x its size (the 4x copy repeats every page under new ids):
articles/s and MB/s of XML per CPU-second (one core), wall time, peak memory of the process tree,
and markup remnants left in the output text. Each run is a fresh subprocess, so the peak memory is
that run's alone. Also times the whole Beam pipeline (`llama-data prepare`, all local cores).

    .venv/bin/python bench/wikipedia.py [DUMP.xml.bz2]     (default: the shared English sample)
"""

from __future__ import annotations

import argparse
import bz2
import json
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DUMP = ROOT.parent / "shared/corpus/wikipedia/" \
    "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
REMNANTS = ("[[", "]]", "{{", "}}", "<ref", "'''", "<!--", "|}")

OURS = textwrap.dedent("""
    import json, sys
    from llama_data.errors import InputError
    from llama_data.filters import Rejected, run_steps
    from llama_data.sources.wikipedia import DumpReader, wikipedia_steps
    steps = wikipedia_steps(min_words=1)
    with open(sys.argv[2], "w") as out:
        for item in DumpReader(sys.argv[1], languages=None):
            if isinstance(item, InputError):
                raise item
            result = run_steps(item, steps)
            if not isinstance(result, Rejected):
                out.write(json.dumps({"text": result.text}) + "\\n")
""")

# Runs a command and reports the CPU time and peak RSS of everything it started.
MEASURE = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    start = time.perf_counter()
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                      "peak_mb": usage.ru_maxrss / 1024}))
""")


def scaled_copy(dump: Path, factor: int, folder: Path) -> Path:
    """The dump with every page repeated ``factor`` times (new page ids), bzip2-compressed."""
    xml = bz2.decompress(dump.read_bytes()).decode("utf-8")
    head, _, rest = xml.partition("<page>")
    body, _, tail = ("<page>" + rest).rpartition("</page>")
    pages = body + "</page>"
    copies = [re.sub(r"(<page>\s*<title>[^<]*</title>\s*<ns>\d+</ns>\s*<id>)(\d+)",
                     lambda m, k=k: f"{m.group(1)}{k}{m.group(2)}", pages) for k in range(factor)]
    path = folder / f"{dump.name.split('-')[0]}-x{factor}-pages-articles.xml.bz2"
    path.write_bytes(bz2.compress((head + "".join(copies) + tail).encode("utf-8")))
    return path


def measure(command: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def texts_from(folder_or_file: Path) -> list[str]:
    files = [folder_or_file] if folder_or_file.is_file() else sorted(folder_or_file.rglob("wiki_*"))
    return [json.loads(line)["text"] for f in files for line in f.open() if line.strip()]


def run_tools(dump: Path, work: Path) -> dict[str, dict]:
    ours_out = work / f"ours-{dump.stem}.jsonl"
    theirs_out = work / f"wikiextractor-{dump.stem}"
    results = {
        "llama-data": measure([sys.executable, "-c", OURS, str(dump), str(ours_out)]),
        "wikiextractor": measure([sys.executable, "-m", "wikiextractor.WikiExtractor",
                                  "--processes", "1", "--json", "-q", "-o", str(theirs_out),
                                  str(dump)]),
    }
    for name, output in (("llama-data", ours_out), ("wikiextractor", theirs_out)):
        texts = texts_from(output)
        results[name]["articles"] = len(texts)
        results[name]["remnants"] = sum(t.count(r) for t in texts for r in REMNANTS)
    return results


def beam_pipeline(dump: Path, work: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "llama-data"), "-q", "prepare", "wikipedia",
                    "--input", str(dump), "--output", str(work / f"release-{dump.stem}"),
                    "--languages", "all", "--min-words", "1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump", nargs="?", type=Path, default=DEFAULT_DUMP)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = []
        base_mb = len(bz2.decompress(args.dump.read_bytes())) / 1e6
        for factor in (1, 4):
            dump = args.dump if factor == 1 else scaled_copy(args.dump, factor, work)
            xml_mb = base_mb * factor
            for name, r in run_tools(dump, work).items():
                rows.append((f"{factor}x", name, r["articles"], r["articles"] / r["cpu"],
                             xml_mb / r["cpu"], r["wall"], r["peak_mb"], r["remnants"]))
            rows.append((f"{factor}x", "llama-data prepare (Beam, all cores)", rows[-2][2],
                         None, None, beam_pipeline(dump, work), None, None))
    print(f"input: {args.dump.name} ({base_mb:.1f} MB of XML at 1x)\n")
    header = ("input", "tool", "articles", "articles/cpu-s", "XML MB/cpu-s", "wall s",
              "peak MB", "remnants")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [f"{c:.1f}" if isinstance(c, float) else ("–" if c is None else str(c)) for c in row]
        print("| " + " | ".join(cells) + " |")
    for factor in ("1x", "4x"):
        ours, theirs = (r for r in rows if r[0] == factor and r[3] is not None)
        print(f"\n{factor}: llama-data / wikiextractor throughput per CPU-second = "
              f"{ours[3] / theirs[3]:.2f}x; peak memory {ours[6]:.0f} vs {theirs[6]:.0f} MB")


if __name__ == "__main__":
    main()
