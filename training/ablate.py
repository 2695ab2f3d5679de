"""``llama-data ablate``: the same model trained on each release, compared on the same text.

Each release's own validation split differs (its documents, its tokenizer), so its validation
numbers do not compare. Here every run is scored on one shared held-out set: the union of the
releases' validation documents (train.py's rule: a hash of the id and ``val_fraction``, so no
release trained on any of them), one copy per id and per text, each release's model reading it
through its own tokenizer, in bits per byte so that tokenizers compare. Runs are keyed by the
release's fingerprint and the training settings and reused when the key matches.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from llama_data import manifest as manifest_lib
from llama_data import mixture, progress
from llama_data import tokens as token_shards
from llama_data.io import atomic_path
from llama_data.shards import read_table
from llama_data.tokenizer.encode import Encoder

from . import checkpoint as ckpt
from . import metrics
from .attention import attention_kind
from .config import AblateConfig, TrainConfig
from .data import Sequence, is_validation
from .evaluate import bytes_per_token, evaluate
from .train import TrainingError, train

FORMAT = "llama-data-ablation"
KEY_FILE = "run.json"  # a run's key, written once it has finished training
REPORT_JSON, REPORT_PNG = "ablation.json", "ablation.png"


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def fingerprint(release: str) -> str:
    """What a run on the release depends on: its manifest (shards, tokens, tokenizer, all by
    sha256) and its mixture plan."""
    return _digest([manifest_lib.load(release).to_json(), mixture.load_plan(release).to_json()])


def run_key(config: TrainConfig) -> dict[str, Any]:
    """The key as its JSON reads back (tuples as lists), so that a stored key compares equal."""
    settings = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("release", "output")}
    return json.loads(json.dumps({"release": fingerprint(config.release), "train": settings}))


def trained_run(config: TrainConfig) -> tuple[Path, bool]:
    """The finished run of ``config`` under ``R/runs/ablate/<key>/``, and whether it was reused;
    an unfinished one (killed) resumes from its checkpoint."""
    key = run_key(config)
    run = Path(config.release) / "runs" / "ablate" / _digest(key)[:16]
    if (run / KEY_FILE).exists() and json.loads((run / KEY_FILE).read_text()) == key:
        return run, True
    train(dataclasses.replace(config, output=str(run)), resume=ckpt.exists(run))
    with atomic_path(run / KEY_FILE) as tmp:
        tmp.write_text(json.dumps(key, indent=2, sort_keys=True, default=str) + "\n")
    return run, False


def _smallest_distinct(found: dict[str, tuple[int, str]], limit: int) -> dict[str, tuple[int, str]]:
    """The ``limit`` documents of lowest (id hash, id), one per text."""
    kept, texts = {}, set()
    for doc_id, (h, text) in sorted(found.items(), key=lambda item: (item[1][0], item[0])):
        digest = hashlib.sha1(text.encode()).digest()
        if digest not in texts and len(kept) < limit:
            texts.add(digest)
            kept[doc_id] = (h, text)
    return kept


def held_out_documents(releases: list[str], val_fraction: float,
                       limit: int) -> dict[str, list[tuple[str, str]]]:
    """Per source, (id, text) of the shared held-out set: the releases' validation documents,
    de-duplicated, the ``limit`` of lowest id hash (so the set does not depend on the order)."""
    found: dict[str, dict[str, tuple[int, str]]] = {}
    for release in releases:
        for source, entry in manifest_lib.load(release).sources.items():
            docs = found.setdefault(source, {})
            for shard in entry.shards:
                table = read_table(entry.shard_path(release, source, shard))
                ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
                hashes = np.array([token_shards.id_hash(i) for i in ids], dtype=np.uint64)
                for i in np.flatnonzero(is_validation(hashes, val_fraction)):
                    docs.setdefault(ids[i], (int(hashes[i]), texts[i]))
                if len(docs) > 2 * limit:  # memory bounded by the limit, not the release
                    found[source] = docs = _smallest_distinct(docs, limit)
    kept = {s: _smallest_distinct(docs, limit) for s, docs in sorted(found.items())}
    return {s: [(doc_id, text) for doc_id, (_, text) in docs.items()]
            for s, docs in kept.items() if docs}


def packed(source: str, tokens: np.ndarray, ends: np.ndarray, seq_len: int) -> Iterator[Sequence]:
    """Documents ``<s> ids </s>`` back to back in sequences of ``seq_len + 1``, with document
    numbers and positions as the training sampler gives them (positions restart at each piece)."""
    starts = np.concatenate([[0], ends[:-1]])
    for j in range((len(tokens) - 1) // seq_len if len(tokens) else 0):
        span = np.arange(j * seq_len, (j + 1) * seq_len + 1)
        doc = np.searchsorted(ends, span, side="right")
        yield Sequence(j, source, tokens[span].astype(np.int64), (doc - doc[0]).astype(np.int32),
                       (span - np.maximum(starts[doc], span[0])).astype(np.int32))


class HeldOutSet:
    """The shared held-out documents in one release's tokens: what ``evaluate`` reads."""

    def __init__(self, documents: dict[str, list[tuple[str, str]]], tokenizer_model: Path,
                 seq_len: int):
        encoder = Encoder(tokenizer_model)
        self.sources = list(documents)
        self.seq_len = seq_len
        self.encoded = {s: encoder.encode_documents([text for _, text in docs])
                        for s, docs in documents.items()}

    def validation(self, source: str, max_sequences: int | None = None) -> Iterator[Sequence]:
        return packed(source, *self.encoded[source], self.seq_len)


def _scores(run: Path, held_out_key: str) -> Path:
    return run / f"held-out-{held_out_key[:16]}.json"


def shared_bpb(run: Path, held_out: HeldOutSet | None, held_out_key: str,
               batch_size: int) -> dict:
    """Bits per byte of the run's final model per source on the held-out set (cached in the run;
    ``held_out`` may be None when the cache is there)."""
    cache = _scores(run, held_out_key)
    if cache.exists():
        return json.loads(cache.read_text())
    model, _, tokenizer_model = ckpt.load_model(run)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    results = evaluate(model.to(device), held_out, bytes_per_token(tokenizer_model), None,
                       batch_size, device, attention=attention_kind("auto", device))
    with atomic_path(cache) as tmp:
        tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results


def spread(values: list[float]) -> dict[str, Any]:
    return {"values": values, "mean": float(np.mean(values)), "min": min(values),
            "max": max(values), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}


def differences(bpb: dict[str, dict[str, dict]], seeds: int) -> list[dict[str, Any]]:
    """Every pair of releases per source: the difference of the means, and whether it exceeds the
    spread over seeds (their min-max ranges do not overlap; unknown with one seed)."""
    names, found = list(bpb), []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for source in sorted(set(bpb[a]) & set(bpb[b])):
                x, y = bpb[a][source], bpb[b][source]
                apart = x["max"] < y["min"] or y["max"] < x["min"]
                found.append({"source": source, "a": a, "b": b, "delta": y["mean"] - x["mean"],
                              "exceeds": apart if seeds > 1 else None})
    return found


def ablate(config: AblateConfig) -> dict[str, Any]:
    """Train (or reuse) every release x seed run, score them on the shared held-out set, and
    write the report (JSON and PNG) into the output folder; returns the report."""
    if config.seeds < 1:
        raise TrainingError("--seeds must be at least 1")
    settings = {k: v for k, v in dataclasses.asdict(config).items()
                if k not in ("releases", "output")}
    releases = [{"path": r, "fingerprint": fingerprint(r), "runs": []} for r in config.releases]
    out = Path(config.output or Path(config.releases[0]) / "runs" /
               f"ablate-{_digest([settings, [r['fingerprint'] for r in releases]])[:12]}")
    documents = held_out_documents(config.releases, config.val_fraction,
                                   config.held_out_documents)
    held_out_key = _digest([config.seq_len, {s: [[i, hashlib.sha256(t.encode()).hexdigest()]
                                                  for i, t in docs] for s, docs in documents.items()}])
    bpb: dict[str, dict[str, dict]] = {}
    with progress.bar(len(releases) * config.seeds, "ablate", "run") as runs:
        for release in releases:
            path, values = release["path"], {}
            tokenizer_model = Path(path) / manifest_lib.load(path).tokenizer["path"]
            held_out = None  # encoded only when a run has not been scored on it yet
            for seed in range(config.seeds):
                run, reused = trained_run(config.train_config(path, seed, ""))
                release["runs"].append({"seed": seed, "run": str(run), "reused": reused})
                if held_out is None and not _scores(run, held_out_key).exists():
                    held_out = HeldOutSet(documents, tokenizer_model, config.seq_len)
                for source, result in shared_bpb(run, held_out, held_out_key,
                                                 config.micro_batch).items():
                    values.setdefault(source, []).append(result["bpb"])
                runs.update()
            bpb[path] = {s: spread(v) for s, v in values.items()}
    report = {"format": FORMAT, "settings": settings, "releases": releases,
              "held_out": {"key": held_out_key, "sources": {
                  s: {"documents": len(d), "ids": [i for i, _ in d]} for s, d in documents.items()}},
              "bpb": bpb, "differences": differences(bpb, config.seeds),
              "plot": str(out / REPORT_PNG)}
    out.mkdir(parents=True, exist_ok=True)
    plot(report, out / REPORT_PNG)
    with atomic_path(out / REPORT_JSON) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    print(f"ablation written to {out}: {REPORT_JSON}, {REPORT_PNG}", file=sys.stderr)
    return report


def render(report: dict[str, Any]) -> str:
    """The terminal table: per source, each release's mean [min-max] and its difference from the
    first release, starred where it exceeds the spread over seeds."""
    names = [r["path"] for r in report["releases"]]
    base, bpb, seeds = names[0], report["bpb"], report["settings"]["seeds"]
    exceeds = {(d["source"], d["b"]): d["exceeds"] for d in report["differences"] if d["a"] == base}
    sources = sorted({s for per in bpb.values() for s in per})
    held = report["held_out"]["sources"]
    header = ["source", "held out", *names, *(f"{n} - {base}" for n in names[1:])]
    rows = []
    for source in sources:
        cells = [source, f"{held[source]['documents']} docs"]
        for name in names:
            x = bpb[name].get(source)
            cells.append("-" if x is None else f"{x['mean']:.4f} [{x['min']:.4f}-{x['max']:.4f}]")
        for name in names[1:]:
            x, y = bpb[base].get(source), bpb[name].get(source)
            star = "*" if exceeds.get((source, name)) else " "
            cells.append("-" if x is None or y is None else f"{y['mean'] - x['mean']:+.4f}{star}")
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) + 2 for i in range(len(header))]
    line = lambda cells: cells[0].ljust(widths[0]) + "".join(
        c.rjust(w) for c, w in zip(cells[1:], widths[1:]))
    note = ("* the difference exceeds the spread: the seeds' min-max ranges do not overlap"
            if seeds > 1 else "one seed: no spread, so no difference can be called real")
    title = (f"bits per byte on the shared held-out set, mean [min-max] over {seeds} seed(s) "
             "(lower is better)")
    return "\n".join([title, "", line(header), "-" * sum(widths),
                      *map(line, rows), "", note, f"plot: {report['plot']}"])


def _loss_curves(runs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Tokens, and the training loss of each run at those tokens (the runs share a schedule)."""
    records = [[r for r in metrics.read(Path(run)) if "loss" in r] for run in runs]
    tokens = np.array([r["tokens"] for r in records[0]])
    return tokens, np.array([[r["loss"] for r in rs] for rs in records])


def plot(report: dict[str, Any], path: Path) -> None:
    plt = metrics._pyplot()
    bpb, names = report["bpb"], [r["path"] for r in report["releases"]]
    sources = sorted({s for per in bpb.values() for s in per})
    fig, (bars, curves) = plt.subplots(1, 2, figsize=(max(11, 2 + 1.6 * len(sources) *
                                                          len(names)), 4.5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        stats = [bpb[name].get(s) for s in sources]
        means = [x["mean"] if x else math.nan for x in stats]
        errors = [[x["mean"] - x["min"] if x else 0 for x in stats],
                  [x["max"] - x["mean"] if x else 0 for x in stats]]
        bars.bar([j + i * width for j in range(len(sources))], means, width, yerr=errors,
                 capsize=4, label=name)
        tokens, losses = _loss_curves([r["run"] for r in report["releases"][i]["runs"]])
        line, = curves.plot(tokens, losses.mean(axis=0), label=name)
        curves.fill_between(tokens, losses.min(axis=0), losses.max(axis=0),
                            color=line.get_color(), alpha=0.25)
    bars.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(sources))], sources)
    bars.set(ylabel="bits per byte (min-max over seeds)", title="shared held-out set, per source")
    curves.set(xlabel="tokens", ylabel="training loss (nats/token)",
               title="training loss, mean and min-max over seeds")
    bars.legend()
    curves.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
