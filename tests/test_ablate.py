"""``llama-data ablate`` on two real releases of the built-in samples: Wikipedia alone, and
Wikipedia with StackExchange, each with its own tokenizer, tiny models on the CPU."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from llama_data import manifest, mixture, samples
from llama_data.cli import main
from llama_data.shards import read_shard
from llama_data.training.ablate import (
    REPORT_JSON,
    REPORT_PNG,
    ablate,
    differences,
    packed,
    spread,
)
from llama_data.training.config import AblateConfig
from llama_data.training.data import MixtureSequences

BEAM = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
# 0.8: the StackExchange sample has 4 questions, and only one of them hashes below 0.8
VAL_FRACTION, HELD_OUT = 0.8, 8
SETTINGS = ["--preset", "tiny", "--tokens", "4096", "--seeds", "2", "--seq-len", "64",
            "--batch-tokens", "512", "--micro-batch", "4", "--val-fraction", str(VAL_FRACTION),
            "--held-out-documents", str(HELD_OUT)]


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> list[str]:
    from llama_data.pipelines import stackexchange, wikipedia
    from llama_data.pipelines.config import StackExchangeConfig, WikipediaConfig
    from llama_data.tokenizer import encode, train

    root = tmp_path_factory.mktemp("ablate")
    wiki, both = root / "wiki", root / "wiki-se"
    wikipedia.run(WikipediaConfig(input=[str(p) for p in samples.wikipedia_dumps()],
                                  output=str(wiki)), BEAM)
    shutil.copytree(wiki, both)
    stackexchange.run(StackExchangeConfig(input=[str(samples.stackexchange_posts())],
                                          output=str(both)), BEAM)
    for release in (str(wiki), str(both)):
        sources = manifest.load(release).sources
        train.train(release, {s: 1 / len(sources) for s in sources}, vocab_size=1000)
        encode.encode_release(release, workers=1)
        tokens = {s: e.tokens["tokens"] for s, e in manifest.load(release).sources.items()}
        total = sum(tokens.values())
        mixture.plan_for(total, {s: n / total for s, n in tokens.items()}, release, {})
    return [str(wiki), str(both)]


@pytest.fixture(scope="module")
def first(releases, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    config = AblateConfig(releases=releases, tokens=4096, preset="tiny", seeds=2, seq_len=64,
                          batch_tokens=512, micro_batch=4, val_fraction=VAL_FRACTION,
                          held_out_documents=HELD_OUT, output=str(out))
    return ablate(config), out


def expected_held_out(releases: list[str]) -> dict[str, list[str]]:
    """The reference: every validation document of either release (SHA-1 of the id, its first 8
    bytes little-endian, modulo 10^6, below 0.8 x 10^6), one per id and text, lowest hash first."""
    found: dict[str, dict[str, tuple[int, str]]] = {}
    for release in releases:
        for shard in sorted(Path(release).glob("*/*.arrow")):
            for doc in read_shard(str(shard)):
                h = int.from_bytes(hashlib.sha1(doc.id.encode()).digest()[:8], "little")
                if h % 10**6 < VAL_FRACTION * 10**6:
                    found.setdefault(doc.source, {})[doc.id] = (h, doc.text)
    held = {}
    for source, docs in found.items():
        ids, texts = [], set()
        for doc_id, (_, text) in sorted(docs.items(), key=lambda d: (d[1][0], d[0])):
            if text not in texts:
                texts.add(text)
                ids.append(doc_id)
        held[source] = ids[:HELD_OUT]
    return held


def test_every_run_is_scored_on_the_same_union_of_held_out_documents(releases, first):
    report, _ = first
    held = report["held_out"]["sources"]
    assert {s: h["ids"] for s, h in held.items()} == expected_held_out(releases)
    assert held["wikipedia"]["documents"] == HELD_OUT and held["stackexchange"]["documents"] == 1
    # the Wikipedia-only release is scored on StackExchange too: the union, not its own split
    assert set(report["bpb"]) == set(releases)
    for per_source in report["bpb"].values():
        assert set(per_source) == {"wikipedia", "stackexchange"}
    key = report["held_out"]["key"]
    for release in report["releases"]:
        for run in release["runs"]:
            assert (Path(run["run"]) / f"held-out-{key[:16]}.json").exists()


def test_the_spread_is_over_the_seeds_and_the_differences_say_whether_they_exceed_it(first):
    report, _ = first
    for per_source in report["bpb"].values():
        for stats in per_source.values():
            values = stats["values"]
            assert len(values) == 2 and values[0] != values[1]  # the seed changes the run
            assert stats["mean"] == pytest.approx(sum(values) / 2)
            assert (stats["min"], stats["max"]) == (min(values), max(values))
            assert stats["std"] == pytest.approx(abs(values[0] - values[1]) / 2 ** 0.5)
            assert 0 < stats["mean"] < 20
    wiki, both = (r["path"] for r in report["releases"])
    for d in report["differences"]:
        a, b = report["bpb"][d["a"]][d["source"]], report["bpb"][d["b"]][d["source"]]
        assert (d["a"], d["b"]) == (wiki, both)
        assert d["delta"] == pytest.approx(b["mean"] - a["mean"])
        assert d["exceeds"] == (a["max"] < b["min"] or b["max"] < a["min"])


def test_differences_by_hand():
    bpb = {"a": {"c4": spread([1.0, 1.2])}, "b": {"c4": spread([1.3, 1.5])},
           "c": {"c4": spread([1.1, 1.4])}}
    found = {(d["a"], d["b"]): d for d in differences(bpb, seeds=2)}
    assert found["a", "b"]["delta"] == pytest.approx(0.3) and found["a", "b"]["exceeds"] is True
    assert found["a", "c"]["exceeds"] is False  # 1.1-1.4 overlaps 1.0-1.2
    assert found["b", "c"]["exceeds"] is False and found["b", "c"]["delta"] == pytest.approx(-0.15)
    assert all(d["exceeds"] is None for d in differences(bpb, seeds=1))


def test_the_plot_and_the_json_are_written(first):
    report, out = first
    assert (out / REPORT_PNG).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / REPORT_JSON).read_text()) == report


def test_a_second_call_reuses_the_runs(releases, first, tmp_path, capsys):
    report, _ = first
    runs = [Path(run["run"]) for r in report["releases"] for run in r["runs"]]
    assert len(runs) == 4 and not any(run["reused"] for r in report["releases"]
                                      for run in r["runs"])
    stamps = {run: (run / "checkpoints" / "latest").stat().st_mtime_ns for run in runs}
    assert main(["ablate", *releases, *SETTINGS, "--output", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    again = json.loads((tmp_path / REPORT_JSON).read_text())
    assert all(run["reused"] for r in again["releases"] for run in r["runs"])
    assert {run: (run / "checkpoints" / "latest").stat().st_mtime_ns for run in runs} == stamps
    assert again["bpb"] == report["bpb"]
    assert "wikipedia" in table and "stackexchange" in table and releases[1] in table


def test_held_out_documents_are_packed_as_the_training_sampler_packs_validation(releases):
    """A release's own validation documents, in its shard order, packed by ``packed`` are the
    sequences ``MixtureSequences.validation`` gives (tokens, document numbers, positions)."""
    from llama_data import tokens as token_shards

    release, seq_len = releases[0], 64
    entry = manifest.load(release).sources["wikipedia"]
    folder = Path(release) / "tokens" / "wikipedia"
    pieces = []
    for stem in entry.tokens["shards"]:
        tokens, docs = token_shards.open_shard(folder, stem)
        starts = np.concatenate([[0], docs["end"][:-1]])
        held = (docs["id_hash"] % 10**6) < VAL_FRACTION * 10**6
        pieces += [tokens[s:e] for s, e, h in zip(starts, docs["end"], held) if h]
    ends = np.cumsum([len(p) for p in pieces])
    ours = list(packed("wikipedia", np.concatenate(pieces), ends, seq_len))
    theirs = list(MixtureSequences(release, seq_len, 1, val_fraction=VAL_FRACTION)
                  .validation("wikipedia"))
    assert len(ours) == len(theirs) > 10
    for a, b in zip(ours, theirs):
        assert np.array_equal(a.tokens, b.tokens)
        assert np.array_equal(a.doc, b.doc) and np.array_equal(a.position, b.position)
