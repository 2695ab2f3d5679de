"""StackExchange end to end on Beam's real local runner: the built-in sample and the shared real
dumps, the answer-to-question join (every post accounted for), site selection, bad inputs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import CORPUS, IN_PROCESS, TWO_WORKERS
from lxml import etree

from llama_data import manifest, samples
from llama_data.cli import main
from llama_data.pipelines import stackexchange
from llama_data.pipelines.config import StackExchangeConfig
from llama_data.shards import read_shard

SHARED = CORPUS / "stackexchange"


def all_docs(release: Path) -> list:
    return [d for shard in sorted((release / "stackexchange").glob("*.arrow"))
            for d in read_shard(str(shard))]


def docs_of(release: Path) -> dict[int, object]:
    """One site's documents by question id."""
    return {d.meta["question_id"]: d for d in all_docs(release)}


def test_the_sample_one_document_per_question_answers_by_score(tmp_path):
    release = tmp_path / "R"
    entry = stackexchange.run(StackExchangeConfig(input=[str(samples.stackexchange_posts())],
                                                  output=str(release)), IN_PROCESS)
    funnel = entry.funnel
    # 13 rows: 4 questions kept, 7 answers joined into them, a tag wiki and an orphan dropped
    assert (funnel.read, funnel.kept) == (13, 4)
    assert funnel.merged == {"answer": 7}
    assert funnel.dropped == {"post:orphan_answer": 1, "post:tag_wiki": 1}
    docs = docs_of(release)
    assert sorted(docs) == [1, 6, 9, 11]
    first = docs[1].text
    order = [first.index(marker) for marker in (
        "carry the last, unfinished word",  # answer 3, score 10
        "wc -w big.log",                     # answer 4, score 10 (tie: the higher id second)
        "Read it line by line",              # answer 2, score 9 ("9" > "10" as strings)
        "Just buy more RAM")]                # answer 5, score -1
    assert order == sorted(order)
    assert first.startswith("Q: How do I count the words of a file")
    assert "1 << 20" in first and "&lt;" not in first and "<p>" not in first
    assert docs[1].meta["answer_count"] == 4 and docs[11].meta["answer_count"] == 0
    assert docs[6].meta["tags"] == ["regex", "html"]
    assert docs[6].meta["license"] == "CC BY-SA 4.0"
    assert manifest.load(str(release)).sources["stackexchange"].config["sites"] == \
        ["textcraft.example"]


def test_one_bucket_or_many_one_worker_or_two_the_same_shards(tmp_path):
    sample = str(samples.stackexchange_posts())
    shards = []
    for name, buckets, args in (("a", 1, IN_PROCESS), ("b", 5, TWO_WORKERS)):
        config = StackExchangeConfig(input=[sample], output=str(tmp_path / name),
                                     num_shards=buckets)
        entry = stackexchange.run(config, args)
        texts = {k: d.text for k, d in docs_of(tmp_path / name).items()}
        shards.append((texts, entry.funnel.merged, entry.funnel.kept))
    assert shards[0] == shards[1]


def expected_threads(path: Path) -> tuple[int, int]:
    """Questions, and answers whose question is in the same file: counted here with lxml."""
    rows = etree.parse(str(path)).getroot().iterfind("row")
    types = [(r.get("Id"), r.get("PostTypeId"), r.get("ParentId")) for r in rows]
    questions = {post_id for post_id, kind, _ in types if kind == "1"}
    answers = sum(1 for _, kind, parent in types if kind == "2" and parent in questions)
    return len(questions), answers


@pytest.mark.skipif(not SHARED.exists(), reason=f"shared StackExchange dumps not found at "
                                                 f"{SHARED} (../shared beside the checkout)")
def test_the_real_dumps_every_question_once_every_answer_joined(tmp_path):
    files = sorted(SHARED.glob("*.Posts.xml"))
    release = tmp_path / "R"
    entry = stackexchange.run(StackExchangeConfig(input=[str(f) for f in files],
                                                  output=str(release)), TWO_WORKERS)
    questions = answers = 0
    for path in files:
        q, a = expected_threads(path)
        questions, answers = questions + q, answers + a
    funnel = entry.funnel
    funnel.check()
    assert funnel.merged == {"answer": answers}
    question_drops = sum(n for reason, n in funnel.dropped.items()
                         if not reason.startswith("post:"))
    assert funnel.kept + question_drops == questions
    docs = all_docs(release)
    assert len(docs) == funnel.kept
    assert {d.meta["site"] for d in docs} == {"beer.stackexchange", "datascience-meta"}
    assert all("<p>" not in d.text and "&amp;" not in d.text for d in docs)
    # the newer dump's licence field is carried; the older dump has none
    licences = {d.meta["site"]: d.meta["license"] for d in docs}
    assert licences["beer.stackexchange"] is None
    assert licences["datascience-meta"].startswith("CC BY-SA")


def test_the_largest_sites_are_chosen_and_recorded(tmp_path):
    small = tmp_path / "small.example" / "Posts.xml"
    large = tmp_path / "large.example" / "Posts.xml"
    for path in (small, large):
        path.parent.mkdir()
    small.write_bytes(samples.stackexchange_posts().read_bytes().replace(b"textcraft", b"small"))
    # the same posts, and a comment after them that makes the file larger
    large.write_text(samples.stackexchange_posts().read_text() + "<!--" + " pad" * 200 + " -->\n")
    config = StackExchangeConfig(input=[str(small), str(large)], output=str(tmp_path / "R"),
                                 top_sites=1)
    entry = stackexchange.run(config, IN_PROCESS)
    assert entry.config["sites"] == ["large.example"]
    assert entry.config["inputs_not_read"] == [str(small)]
    chosen = stackexchange.run(dataclasses.replace(config, sites=("small.example",)), IN_PROCESS)
    assert chosen.config["sites"] == ["small.example"]


def test_a_broken_dump_is_counted_and_the_others_are_read(tmp_path):
    broken = tmp_path / "broken.example" / "Posts.xml"
    broken.parent.mkdir()
    text = samples.stackexchange_posts().read_text()
    broken.write_text(text[: len(text) // 2])  # cut inside a row
    release = tmp_path / "R"
    code = main(["prepare", "stackexchange", "--input", str(samples.stackexchange_posts()),
                 str(broken), "--output", str(release), "--max-error-rate", "0.5",
                 *IN_PROCESS])
    assert code == 0
    funnel = manifest.load(str(release)).sources["stackexchange"].funnel
    assert sum(funnel.unreadable.values()) == 1
    assert funnel.read == funnel.accounted


def test_the_cli_refuses_a_folder_without_dumps_in_one_line(tmp_path, capsys):
    code = main(["prepare", "stackexchange", "--input", str(tmp_path / "none*.7z"),
                 "--output", str(tmp_path / "R")])
    assert code != 0
    assert "no input file matches" in capsys.readouterr().err
