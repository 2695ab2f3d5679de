"""Recipes (llama_data/recipe.py) and their fingerprinted, resumable build (llama_data/build.py)."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from conftest import IN_PROCESS

from llama_data import build, manifest, progress, recipe, samples
from llama_data.cli import main


def write_recipe(folder, text: str):
    path = folder / "r.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path) -> list[str]:
    with pytest.raises(recipe.RecipeError) as info:
        recipe.load(path)
    return info.value.problems


POSTS = "[sources.stackexchange]\ninput = [\"{samples}/stackexchange/*/Posts.xml\"]\n"


def test_unknown_key_is_reported_with_file_line_and_key(tmp_path):
    path = write_recipe(tmp_path, "[release]\noutput = \"r\"\n\n" + POSTS
                        + "top_sites = 3\ntop_site = 4\n")
    assert problems(path) == [
        (f"{path}:7: sources.stackexchange.top_site: unknown key (known: allow_empty, input, "
         "keep_rejects, max_error_rate, max_expansion, num_shards, shard_size, sites, top_sites)")]


def test_bad_values_are_all_reported_each_at_its_line(tmp_path):
    path = write_recipe(tmp_path, "[release]\noutput = \"r\"\n" + POSTS + (
        "top_sites = \"many\"\n"          # line 5: a string for an integer
        "shard_size = \"12 parsecs\"\n"   # line 6: parse_size refuses it
        "[tokenizer]\n"
        "vocab_size = 1.5\n"              # line 8
        "[mixture]\ntokens = \"1.4T\"\n"
        "weights = { c4 = 0.5 }\n"))      # line 11: does not sum to 1
    found = problems(path)
    assert [p.split(": ")[0:2] for p in found] == [
        [f"{path}:5", "sources.stackexchange.top_sites"],
        [f"{path}:6", "sources.stackexchange.shard_size"],
        [f"{path}:8", "tokenizer.vocab_size"],
        [f"{path}:11", "mixture.weights"]]
    assert "expected an integer, got a string 'many'" in found[0]
    assert "not 1" in found[3]


def test_a_missing_input_is_reported_at_its_line_before_anything_runs(tmp_path):
    path = write_recipe(tmp_path, f"[release]\noutput = \"{tmp_path / 'r'}\"\n"
                                  "[sources.arxiv]\n\n"
                                  "input = [\"nowhere/*.tar\"]\n")
    [problem] = problems(path)
    assert problem.startswith(f"{path}:5: sources.arxiv.input: no file matches 'nowhere/*.tar'")
    assert main(["release", "build", str(path)]) == 1
    assert not (tmp_path / "r").exists()


def test_key_line_finds_dotted_keys_and_table_headers():
    text = ("# [models] in a comment\n[models.lm.en]\ndownload = true\n"
            "[models.reference]\nlang = \"en\"\n[sources]\nc4.input = []\n")
    assert recipe.key_line(text, ["models", "lm", "en", "download"]) == 3
    assert recipe.key_line(text, ["models", "reference", "lang"]) == 5
    assert recipe.key_line(text, ["models", "reference", "epoch"]) == 4  # its table
    assert recipe.key_line(text, ["sources", "c4", "input"]) == 7


def test_resolve_fills_the_defaults_of_every_section(tmp_path):
    path = write_recipe(tmp_path, "[release]\noutput = \"r\"\n" + POSTS
                        + "[tokenizer]\nvocab_size = 500\n[mixture]\ntokens = \"2M\"\n")
    resolved = recipe.resolve(recipe.load(path))
    posts = resolved["sources"]["stackexchange"]
    assert posts["input"] == ["{samples}/stackexchange/*/Posts.xml"]  # as written
    assert posts["top_sites"] == 28 and posts["max_expansion"] == 100.0 and posts["sites"] is None
    assert resolved["tokenizer"] == {"vocab_size": 500, "sample_size": 100 * 2**20, "seed": 0,
                                     "weights": "table1", "threads": None}
    assert resolved["mixture"] == {"tokens": 2_000_000, "weights": "table1", "max_epochs": 4.0,
                                   "renormalize": False}
    assert resolved["validation"] is None and resolved["models"]["reference"] is None


def test_llama1_plan_lists_every_placeholder_input(capsys):
    assert main(["release", "plan", "llama1"]) == 1
    err = capsys.readouterr().err
    for source in ("commoncrawl", "c4", "github", "wikipedia", "books", "arxiv", "stackexchange"):
        assert f"sources.{source}.input: no file matches '/data/" in err
    assert "llama1.toml:" in err and err.count("no file matches") == 8  # books has two


def test_shipped_recipes_resolve_to_table1_and_the_demo_samples():
    demo = recipe.load(recipe.shipped("demo"), "unused")
    assert set(demo.sources) == {"wikipedia", "commoncrawl", "c4", "github", "stackexchange",
                                 "books", "arxiv"}
    assert demo.sources["arxiv"].config.input == [str(samples.arxiv_sample())]
    assert [s.name for s in build.stages(demo)][-6:] == [
        "reference", "commoncrawl", "tokenizer", "encode", "mix", "validation"]


TINY = """[release]
output = "{release}"

[sources.stackexchange]
input = ["{posts}"]

[tokenizer]
vocab_size = 400
seed = 1
"""


def tiny(tmp_path, **changes):
    posts = tmp_path / "Posts.xml"
    if not posts.exists():
        shutil.copy(samples.stackexchange_posts(), posts)
    values = {"release": tmp_path / "r", "posts": posts, **changes}
    return recipe.load(write_recipe(tmp_path, TINY.format(**values)))


def actions(r) -> dict[str, tuple[bool, str]]:
    return {s.stage.name: (s.run, s.reason) for s in build.plan(r)}


@pytest.mark.slow
def test_build_then_rebuild_runs_nothing_and_a_change_reruns_its_dependents(tmp_path):
    r = tiny(tmp_path)
    assert actions(r) == {"stackexchange": (True, "new"), "tokenizer": (True, "new"),
                          "encode": (True, "new")}
    ran = build.build(r, IN_PROCESS, quiet=True)
    assert [s.stage.name for s in ran] == ["stackexchange", "tokenizer", "encode"]
    release = manifest.load(r.release)
    assert release.recipe == recipe.resolve(r) and release.sources["stackexchange"].tokens
    assert {name: run for name, (run, _) in actions(r).items()} == dict.fromkeys(ran_names(ran),
                                                                                  False)
    assert build.build(r, IN_PROCESS, quiet=True) == []

    reread = tiny(tmp_path)  # the recipe written and read again: nothing to do
    assert build.build(reread, IN_PROCESS, quiet=True) == []
    reseeded = recipe.load(write_recipe(tmp_path, TINY.replace("seed = 1", "seed = 2").format(
        release=tmp_path / "r", posts=tmp_path / "Posts.xml")))
    assert actions(reseeded) == {"stackexchange": (False, "unchanged"),
                                 "tokenizer": (True, "config changed: seed"),
                                 "encode": (True, "upstream changed: tokenizer")}
    assert ran_names(build.build(reseeded, IN_PROCESS, quiet=True)) == ["tokenizer", "encode"]

    posts = tmp_path / "Posts.xml"
    posts.write_text(posts.read_text(encoding="utf-8").replace("</posts>", "</posts>\n"),
                     encoding="utf-8")
    assert actions(reseeded) == {"stackexchange": (True, f"input changed: {posts}"),
                                 "tokenizer": (True, "upstream changed: stackexchange"),
                                 "encode": (True, "upstream changed: stackexchange, tokenizer")}


def ran_names(steps) -> list[str]:
    return [s.stage.name for s in steps]


@pytest.mark.slow
def test_an_interrupted_build_resumes_at_the_stage_it_was_in(tmp_path, capsys):
    r = tiny(tmp_path)
    assert ran_names(build.build(r, IN_PROCESS, quiet=True, only=["stackexchange"])) == [
        "stackexchange"]
    assert actions(r) == {"stackexchange": (False, "unchanged"), "tokenizer": (True, "new"),
                          "encode": (True, "new")}
    # the tokenizer died before recording itself: a rerun starts there, not at the source
    capsys.readouterr()
    assert main(["release", "build", str(tmp_path / "r.toml"), "-q", *IN_PROCESS]) == 0
    assert "tokenizer      run     new" in capsys.readouterr().err
    assert not any(run for run, _ in actions(r).values())
    shutil.rmtree(tmp_path / "r" / "stackexchange")
    manifest.update(r.release, lambda m: m.sources.pop("stackexchange"))
    assert actions(r)["stackexchange"] == (True, "output missing")
    assert actions(r)["encode"] == (True, "upstream runs: stackexchange, tokenizer")


def test_the_plan_shows_its_hashing_of_new_inputs_only(tmp_path, capsys, monkeypatch, log_level):
    """Hashing a dump takes minutes: a plan shows it as progress, off a terminal as plain lines
    (the logger at INFO, as the CLI sets it); inputs whose hash is recorded are not read again."""
    monkeypatch.setattr(progress, "PLAIN_INTERVAL", 0)
    log_level(logging.INFO)
    r = tiny(tmp_path)
    capsys.readouterr()
    (step,) = build.plan(r, [s for s in build.stages(r) if s.name == "stackexchange"])
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith("hashing inputs: 100%") and "1/1" in lines[-1], lines
    record = build.record_path(r.release, "stackexchange")
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps(step.record), encoding="utf-8")
    assert build.plan(r, [step.stage])[0].fingerprint == step.fingerprint
    assert "hashing inputs" not in capsys.readouterr().err
