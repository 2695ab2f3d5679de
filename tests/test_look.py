"""Looking at releases built by the real pipelines from the built-in samples: the release root
loads as a Hugging Face dataset folder, ``diff`` of two releases made with different options,
``sample`` of kept and rejected documents, ``inspect``'s recipe and cards."""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import Counter
from pathlib import Path

import datasets
import pyarrow as pa
import pytest
import yaml
from conftest import IN_PROCESS

from llama_data import look, manifest, samples
from llama_data.cli import main
from llama_data.errors import ReleaseError
from llama_data.pipelines import stackexchange, wikipedia
from llama_data.pipelines.config import StackExchangeConfig, WikipediaConfig

WIKIPEDIA = [str(p) for p in samples.wikipedia_dumps()]


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> tuple[Path, Path]:
    """R1: Wikipedia (min_words 20), then StackExchange; R2: Wikipedia with min_words 300 and
    its rejects kept."""
    root = tmp_path_factory.mktemp("look")
    r1, r2 = root / "R1", root / "R2"
    wikipedia.run(WikipediaConfig(input=WIKIPEDIA, output=str(r1)), IN_PROCESS)
    stackexchange.run(StackExchangeConfig(input=[str(samples.stackexchange_posts())],
                                          output=str(r1)), IN_PROCESS)
    wikipedia.run(WikipediaConfig(input=WIKIPEDIA, output=str(r2), min_words=300,
                                  keep_rejects=True), IN_PROCESS)
    return r1, r2


def shard_ids(folder: Path) -> list[str]:
    """Document ids of a folder's shards, read with pyarrow alone."""
    return [i for path in sorted(folder.glob("*.arrow"))
            for i in pa.ipc.open_stream(pa.OSFile(str(path))).read_all().column("id").to_pylist()]


def front_matter(release: Path) -> dict:
    text = (release / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


# --- the Hugging Face dataset folder -------------------------------------------------------------

def test_every_config_loads_exactly_the_manifests_documents(releases, tmp_path):
    r1, _ = releases
    cache = str(tmp_path / "hf-cache")
    expected = {s: sorted(shard_ids(r1 / s)) for s in ("stackexchange", "wikipedia")}
    assert {s: len(ids) for s, ids in expected.items()} == {"stackexchange": 4, "wikipedia": 40}
    expected["default"] = sorted(expected["stackexchange"] + expected["wikipedia"])
    for config, ids in expected.items():
        ds = datasets.load_dataset(str(r1), config, split="train", cache_dir=cache)
        assert sorted(ds["id"]) == ids, config
        assert ds.features["meta"] == datasets.Value("string")
        streamed = datasets.load_dataset(str(r1), config, split="train", streaming=True)
        assert sorted(row["id"] for row in streamed) == ids, config
    # no config given: the default one (every source)
    assert datasets.load_dataset(str(r1), split="train", cache_dir=cache).num_rows == 44


def test_the_card_names_the_manifests_shards_and_follows_its_sources(releases):
    r1, r2 = releases
    for release in releases:
        m = manifest.load(str(release))
        configs = {c["config_name"]: c for c in front_matter(release)["configs"]}
        assert set(configs) == {*m.sources, "default"}
        assert configs["default"]["default"] is True
        for name, entry in m.sources.items():
            paths = configs[name]["data_files"][0]["path"]
            assert paths == [f"{name}/{s.name}" for s in entry.shards]
            assert all((release / p).is_file() for p in paths)
    # R1 got StackExchange after Wikipedia: the card was rewritten with it
    assert "| stackexchange | 4 |" in (r1 / "README.md").read_text(encoding="utf-8")
    assert "stackexchange" not in (r2 / "README.md").read_text(encoding="utf-8")


# --- diff ----------------------------------------------------------------------------------------

def test_diff_of_min_words_20_and_300(releases):
    r1, r2 = releases
    result = look.diff(str(r1), str(r2))
    wiki = result["sources"]["wikipedia"]
    # 72 pages: 8 redirects, 16 outside namespace 0, 8 stubs; at 300 words 22 more articles go
    assert wiki["documents"] == {"first": 40, "second": 18, "delta": -22}
    assert wiki["funnel"]["read"] == {"first": 72, "second": 72, "delta": 0}
    assert wiki["funnel"]["kept"]["delta"] == -22
    assert wiki["funnel"]["dropped/min_words:too_short"] == {"first": 8, "second": 30,
                                                            "delta": 22}
    assert wiki["funnel"]["dropped/article:redirect"]["delta"] == 0
    assert list(wiki["funnel"])[:2] == ["read", "kept"]
    # a higher bar only removes articles: R2's ids are inside R1's
    ids1, ids2 = set(shard_ids(r1 / "wikipedia")), set(shard_ids(r2 / "wikipedia"))
    assert ids2 < ids1
    assert wiki["ids"] == {"first": 40, "second": 18, "common": 18, "share": 18 / 40}
    assert wiki["config"] == {"keep_rejects": {"first": False, "second": True},
                              "min_words": {"first": 20, "second": 300}}
    assert wiki["text_bytes"]["delta"] < 0
    se = result["sources"]["stackexchange"]
    assert se["documents"] == {"first": 4, "second": None, "delta": None}
    assert se["ids"] is None and se["config"] == {}
    assert result["recipe"] == {}


def test_diff_of_a_release_with_itself_is_empty_of_changes(releases):
    r1, _ = releases
    result = look.diff(str(r1), str(r1))
    for s in result["sources"].values():
        assert all(p["delta"] == 0 for p in s["funnel"].values())
        assert s["ids"]["share"] == 1.0 and s["config"] == {}


def test_diff_shows_the_recipes_differences_and_inspect_the_recipe(releases, tmp_path, capsys):
    r1, _ = releases
    copies = []
    for name, min_words in (("A", 20), ("B", 300)):
        copy = tmp_path / name
        shutil.copytree(r1, copy)
        data = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
        data["recipe"] = {"sources": {"wikipedia": {"min_words": min_words}}, "seed": 1}
        (copy / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
        copies.append(str(copy))
    assert look.diff(*copies)["recipe"] == {
        "sources.wikipedia.min_words": {"first": 20, "second": 300}}
    (tmp_path / "B" / "CARD.md").write_text("# card\n", encoding="utf-8")
    assert main(["inspect", copies[1]]) == 0
    out = capsys.readouterr().out
    assert "recipe:\n  sources.wikipedia.min_words = 300\n  seed = 1" in out
    assert f"data card: {copies[1]}/CARD.md" in out
    assert f"dataset card (datasets.load_dataset): {copies[1]}/README.md" in out


def test_diff_command(releases, capsys):
    r1, r2 = releases
    assert main(["diff", str(r1), str(r2)]) == 0
    out = capsys.readouterr().out
    assert "dropped/min_words:too_short" in out and "8 -> 30 (+22)" in out
    assert "ids in common: 18 (45.0% of the 40 in either)" in out
    assert "config min_words: 20 -> 300" in out
    assert main(["diff", str(r1), str(r2), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sources"]["wikipedia"]["ids"]["common"] == 18


# --- sample --------------------------------------------------------------------------------------

def test_reservoir_is_uniform():
    """Each of 10 items lands in a 3-sample 30% of the time (2,000 seeds: 600 +- 4 sigma)."""
    counts = Counter(i for seed in range(2000)
                     for i in look.reservoir(range(10), 3, random.Random(seed)))
    assert set(counts) == set(range(10))
    assert all(520 <= c <= 680 for c in counts.values()), counts
    assert look.reservoir(range(2), 5, random.Random(0)) == [0, 1]


def test_sample_is_seeded_and_drawn_from_the_kept_documents(releases):
    r1, _ = releases
    kept = set(shard_ids(r1 / "wikipedia"))
    first = [d.id for d in look.sample(str(r1), "wikipedia", n=5, seed=7)]
    assert first == [d.id for d in look.sample(str(r1), "wikipedia", n=5, seed=7)]
    assert len(set(first)) == 5 and set(first) <= kept
    assert first != [d.id for d in look.sample(str(r1), "wikipedia", n=5, seed=8)]
    every = look.sample(str(r1), "stackexchange", n=10)
    assert sorted(d.id for d in every) == sorted(shard_ids(r1 / "stackexchange"))


def test_sample_of_rejects_by_reason(releases):
    r1, r2 = releases
    too_short = look.sample(str(r2), "wikipedia", n=100, reason="min_words:too_short")
    assert len(too_short) == 30
    assert {d.meta["rejected_by"] for d in too_short} == {"min_words:too_short"}
    # the 22 articles of 20 to 299 words that R1 kept are among them
    between = set(shard_ids(r1 / "wikipedia")) - set(shard_ids(r2 / "wikipedia"))
    assert len(between) == 22 and between <= {d.id for d in too_short}
    everything = look.sample(str(r2), "wikipedia", n=100, rejected=True)
    assert Counter(d.meta["rejected_by"] for d in everything) == {
        "min_words:too_short": 30, "article:not_namespace_0": 16, "article:redirect": 8}


@pytest.mark.parametrize(("source", "options", "message"), [
    ("c4", {}, "no source 'c4' (it has: stackexchange, wikipedia)"),
    ("wikipedia", {"rejected": True}, ("no rejects kept for wikipedia: rerun `llama-data "
                                      "prepare wikipedia` with --keep-rejects")),
])
def test_sample_errors(releases, source, options, message):
    with pytest.raises(ReleaseError, match=re.escape(message)):
        look.sample(str(releases[0]), source, **options)


def test_sample_of_an_unknown_reason_names_the_reasons(releases):
    with pytest.raises(ReleaseError, match=r"dropped for 'nope' \(reasons: "
                                           r"article:not_namespace_0, article:redirect, "
                                           r"min_words:too_short\)"):
        look.sample(str(releases[1]), "wikipedia", reason="nope")


def test_sample_command(releases, capsys):
    r1, r2 = releases
    args = ["sample", str(r2), "--source", "wikipedia", "--reason", "article:redirect", "-n", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("[1/2]\nid    wikipedia/") and "[2/2]" in out
    assert out.count("rejected_by=article:redirect") == 2
    assert main(args) == 0 and capsys.readouterr().out == out  # seeded: the same again
    assert main(["sample", str(r1), "--source", "wikipedia", "--rejected"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("llama-data: error: ") and "--keep-rejects" in err
    assert "\n" not in err
