"""What a run writes as it goes: metrics as JSON lines and CSV, a loss-curve PNG; and the
comparison of runs by per-source validation bits per byte (the data-ablation view)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from llama_data.errors import LlamaDataError

JSONL, CSV, PLOT = "metrics.jsonl", "metrics.csv", "loss.png"
FIELDS = ("step", "tokens", "loss", "lr", "grad_norm", "tokens_per_s", "mfu")


class RunError(LlamaDataError):
    """A run folder without the metrics a comparison needs."""


class MetricsLog:
    """A run's records, one JSON line each, appended as they come (rewriting the file at every step
    would cost more than the step as the run grows). A run resumed from ``resumed_at`` first drops
    the records after that step (written after its checkpoint by the run that was interrupted); a
    new run starts an empty log."""

    def __init__(self, run: Path, resumed_at: int | None = None, enabled: bool = True):
        self.run, self.enabled = run, enabled
        self.records: list[dict[str, Any]] = []
        if enabled:
            if resumed_at is not None and (run / JSONL).exists():
                self.records = [r for r in read(run) if r["step"] <= resumed_at]
            with open(run / JSONL, "w") as f:
                f.writelines(json.dumps(r) + "\n" for r in self.records)
        self.last: dict[str, Any] = self.records[-1] if self.records else {}

    def write(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        self.last = record
        if self.enabled:
            with open(self.run / JSONL, "a") as f:
                f.write(json.dumps(record) + "\n")

    def close(self) -> None:
        if not self.enabled:
            return
        sources = sorted({s for r in self.records for s in r.get("val", {})})
        with open(self.run / CSV, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([*FIELDS, *(f"val_bpb_{s}" for s in sources)])
            for r in self.records:
                writer.writerow([r.get(k, "") for k in FIELDS]
                                + [r.get("val", {}).get(s, {}).get("bpb", "") for s in sources])
        plot_run(self.run, self.records)


def read(run: Path) -> list[dict[str, Any]]:
    path = Path(run) / JSONL
    if not path.exists():
        raise RunError(f"{run}: no {JSONL} (is this a llama-data training run?)")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def final_validation(run: Path) -> dict[str, dict[str, float]]:
    evaluated = [r for r in read(run) if r.get("val")]
    if not evaluated:
        raise RunError(f"{run}: no validation results yet")
    return evaluated[-1]["val"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_run(run: Path, records: list[dict[str, Any]]) -> None:
    plt = _pyplot()
    fig, (train_ax, val_ax) = plt.subplots(1, 2, figsize=(11, 4))
    steps = [r for r in records if "loss" in r]
    train_ax.plot([r["tokens"] for r in steps], [r["loss"] for r in steps])
    train_ax.set(xlabel="tokens", ylabel="training loss (nats/token)", title="training loss")
    for source in sorted({s for r in records for s in r.get("val", {})}):
        points = [(r["tokens"], r["val"][source]["bpb"]) for r in records
                  if source in r.get("val", {})]
        val_ax.plot(*zip(*points), marker="o", label=source)
    val_ax.set(xlabel="tokens", ylabel="bits per byte", title="validation, per source")
    val_ax.legend()
    fig.tight_layout()
    fig.savefig(run / PLOT, dpi=100)
    plt.close(fig)


def compare(runs: list[Path], plot_path: Path | None = None) -> str:
    """Per-source validation bits per byte of each run, side by side (lower is better)."""
    results = {str(run): final_validation(run) for run in runs}
    sources = sorted({s for val in results.values() for s in val})
    width = max(12, *(len(r) for r in results)) + 2
    lines = ["validation bits per byte (lower is better)", "",
             f"{'source':<16}" + "".join(f"{r:>{width}}" for r in results)]
    for source in sources:
        cells = [val.get(source, {}).get("bpb") for val in results.values()]
        best = min(c for c in cells if c is not None)
        shown = ["-" if c is None else f"{c:.4f}{'*' if c == best and len(runs) > 1 else ' '}"
                 for c in cells]
        lines.append(f"{source:<16}" + "".join(f"{cell:>{width}}" for cell in shown))
    lines.append("(* the best per source)" if len(runs) > 1 else "")
    if plot_path is not None:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(max(6, 1.5 * len(sources) * len(runs)), 4))
        bar = 0.8 / len(results)
        for i, (run, val) in enumerate(results.items()):
            ax.bar([j + i * bar for j in range(len(sources))],
                   [val.get(s, {}).get("bpb", 0) for s in sources], bar, label=run)
        ax.set_xticks([j + bar * (len(results) - 1) / 2 for j in range(len(sources))], sources)
        ax.set(ylabel="validation bits per byte", title="data ablation")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plot_path, dpi=100)
        plt.close(fig)
        lines += ["", f"plot: {plot_path}"]
    return "\n".join(lines)
