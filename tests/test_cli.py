"""The ``llama-data`` command as a user runs it: one clear line and a non-zero exit on bad input."""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import IN_PROCESS, MARKUP_REMNANTS, count_articles, dump_xml, page_xml, prose, write
from tqdm import tqdm

from llama_data import manifest, samples
from llama_data.cli import main, parser
from llama_data.config import from_args
from llama_data.hashing import sha256_file
from llama_data.shards import read_shard


def test_the_console_command_is_installed_and_helps():
    script = Path(sys.executable).parent / "llama-data"
    out = subprocess.run([str(script), "prepare", "wikipedia", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "--input" in out and "--languages" in out and "--keep-rejects" in out


def _subparsers(command: argparse.ArgumentParser):
    """Every parser under ``command``, itself included (depth first)."""
    yield command
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _subparsers(sub)


def test_no_help_shows_unformatted_percent_signs():
    helps = {sub.prog: sub.format_help() for sub in _subparsers(parser())}
    assert len(helps) >= 14  # llama-data, prepare x2, train-lm, ..., models download
    for prog, text in helps.items():
        assert "%%" not in text and "%(" not in text, prog
    assert "cosine to 10%," in helps["llama-data train"]
    assert "(default: 20%)" in helps["llama-data train-lm"]  # a literal % in a default


def test_help_states_each_default_of_the_settings():
    helps = {sub.prog: " ".join(sub.format_help().split()) for sub in _subparsers(parser())}
    assert "(default: 256.0 MiB)" in helps["llama-data prepare wikipedia"]
    assert "(default: 100.0 MiB)" in helps["llama-data tokenizer train"]
    assert "(default: head,middle)" in helps["llama-data prepare commoncrawl"]
    assert "(default: 0.01)" in helps["llama-data prepare commoncrawl"]  # --max-error-rate


def test_a_size_and_its_default_use_the_same_units():
    args, _ = parser().parse_known_args(["tokenizer", "train", "--release", "r"])
    given, _ = parser().parse_known_args(["tokenizer", "train", "--release", "r",
                                          "--sample-size", "100MB"])
    assert args.sample_size == given.sample_size == 100 * 1024 * 1024
    args, _ = parser().parse_known_args(["prepare", "wikipedia", "--input", "x", "--output", "r",
                                         "--shard-size", "1.5GiB"])
    assert args.shard_size == 1536 * 1024 * 1024


def test_input_takes_a_shells_expanded_glob_and_repeats(tmp_path):
    paths = [str(tmp_path / f"{i}.wet") for i in range(3)]
    args, beam = parser().parse_known_args([
        "prepare", "commoncrawl", "--input", *paths[:2], "--output", "r", "--input", paths[2],
        "--runner", "DataflowRunner", "--project", "p"])
    assert args.input == paths and args.output == "r"
    assert beam == ["--runner", "DataflowRunner", "--project", "p"]


def test_every_path_after_input_is_an_input_of_the_job(tmp_path, capsys):
    good = write(tmp_path / "dewiki-latest-pages-articles.xml", dump_xml(
        [page_xml(1, "X", prose(30))], lang="de"))
    wrong = write(tmp_path / "jawiki-latest-pages-articles.xml", dump_xml(
        [page_xml(1, "X", prose(30))], lang="ja"))
    assert main(["prepare", "wikipedia", "--input", str(good), str(wrong),
                 "--output", str(tmp_path / "r")]) == 1
    assert str(wrong) in capsys.readouterr().err  # the second path was read as an input


def test_train_options_fill_the_train_config():
    from llama_data.training.config import TrainConfig

    args, _ = parser().parse_known_args(["train", "--release", "rel/r1", "--tokens", "2M",
                                         "--no-doc-mask", "--lr", "1e-3", "--batch-tokens", "4K"])
    config = from_args(TrainConfig, args)
    assert config == TrainConfig(release="rel/r1", output="runs/r1-10M", tokens=2_000_000,
                                 doc_mask=False, lr=1e-3, batch_tokens=4000)


@pytest.mark.parametrize("argv, message", [
    (["inspect", "/nonexistent/release"], "no manifest.json"),
    (["prepare", "wikipedia", "--input", "/nonexistent/*.bz2", "--output", "x"], "no input file matches"),
])
def test_bad_input_is_one_line_and_exit_1(capsys, argv, message):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("llama-data: error:") and message in err[0]


def test_a_dump_in_a_language_not_asked_for_is_refused_before_the_job(tmp_path, capsys):
    path = write(tmp_path / "jawiki-latest-pages-articles.xml", dump_xml(
        [page_xml(1, "X", prose(30))], lang="ja"))
    assert main(["prepare", "wikipedia", "--input", str(path), "--output", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "'ja'" in err and "--languages" in err
    assert not (tmp_path / "r").exists()


def test_malformed_options_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["prepare", "wikipedia", "--input", "x", "--output", "y", "--shard-size", "lots"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["inspect", "r", "--runner", "DataflowRunner"])  # Beam options only where a job runs
    with pytest.raises(SystemExit) as exit_info:
        main(["prepare", "commoncrawl", "--input", "x", "--output", "y", "--dedup-scope",
              "groups:0"])
    assert exit_info.value.code == 2
    assert "dedup scope must be 'job' or 'groups:N'" in capsys.readouterr().err


@pytest.mark.slow
def test_prepare_then_inspect(tmp_path, capsys):
    path = write(tmp_path / "dewiki-x.xml.bz2", dump_xml(
        [page_xml(1, "Rhein", prose(40)), page_xml(2, "Stummel", "Kurz.")], lang="de"))
    release = str(tmp_path / "r")
    assert main(["prepare", "wikipedia", "--input", str(path), "--output", release,
                 "--languages", "de,en", *IN_PROCESS]) == 0
    capsys.readouterr()
    assert main(["inspect", release]) == 0
    out = capsys.readouterr().out
    assert "min_words:too_short" in out and "part-00000-000.arrow" in out
    assert manifest.load(release).sources["wikipedia"].config["languages"] == ["de", "en"]


@pytest.mark.slow
def test_demo_writes_a_multilingual_release_from_the_built_in_sample(tmp_path, capsys):
    dumps = samples.wikipedia_dumps()
    assert len(dumps) >= 6
    assert main(["demo", "--output", str(tmp_path / "demo")]) == 0
    out, err = capsys.readouterr()
    assert "wikipedia" in out and "demo release written to" in out

    entry = manifest.load(str(tmp_path / "demo")).sources["wikipedia"]
    entry.funnel.check()
    articles = sum(count_articles(p.read_text(encoding="utf-8"))[1] for p in dumps)
    too_short = sum(n for r, n in entry.funnel.dropped.items() if r.startswith("min_words:"))
    assert entry.funnel.kept + too_short == articles
    assert too_short >= len(dumps)  # each sample dump has a stub article
    docs = [d for s in entry.shards
            for d in read_shard(str(tmp_path / "demo" / "wikipedia" / s.name))]
    assert len({d.lang for d in docs}) == len(dumps)
    for doc in docs:
        assert not any(m in doc.text for m in MARKUP_REMNANTS), doc.id

    release = manifest.load(str(tmp_path / "demo"))
    assert release.tokenizer["vocab_size"] < 32_000 and "32,000" in err
    assert release.sources["wikipedia"].tokens["documents"] == len(docs)
    plan = json.loads((tmp_path / "demo" / "mixture.json").read_text())
    assert sorted(s["source"] for s in plan["sources"]) == [
        "arxiv", "books", "c4", "commoncrawl", "github", "stackexchange", "wikipedia"]
    assert release.tokenizer["sample"]["per_source_bytes"]["c4"] > 0
    _check_demo_c4(tmp_path / "demo", release, out)
    _check_demo_code_and_questions(release)
    _check_demo_books_and_arxiv(tmp_path / "demo", release)

    cc = release.sources["commoncrawl"]
    cc.funnel.check()
    pages = [d for s in cc.shards
             for d in read_shard(str(tmp_path / "demo" / "commoncrawl" / s.name))]
    assert pages and all(d.lang == "en" and d.meta["bucket"] in ("head", "middle")
                         and d.meta["ref_score"] >= 0.25 for d in pages)
    assert cc.funnel.dropped["language:not_en"] >= 5 and cc.counters["dedup/lines_removed"] > 0
    assert cc.config["reference_classifier"]["threshold"] == 0.25
    models = tmp_path / "demo" / "models"
    assert (models / "lm" / "en.arpa.bin").exists() and (models / "ref" / "en.bin").exists()

    from llama_data.training import metrics

    evaluated = [r for r in metrics.read(tmp_path / "demo" / "runs" / "demo-tiny") if r.get("val")]
    start, end = evaluated[0]["val"]["wikipedia"]["bpb"], evaluated[-1]["val"]["wikipedia"]["bpb"]
    assert end < start - 0.3  # the tiny model learned from the release
    assert "validation bits per byte" in out and f"{end:.3f}" in out


def _check_demo_code_and_questions(release: manifest.Manifest) -> None:
    """The GitHub and StackExchange stages: each of the samples' traps met with its reason."""
    github = release.sources["github"].funnel
    github.check()
    assert github.dropped["license:none"] == 2 and github.dropped["exact_dedup:duplicate"] == 1
    assert {"code:generated", "code:minified", "code:not_text"} <= set(github.dropped)
    questions = release.sources["stackexchange"].funnel
    questions.check()
    assert questions.merged == {"answer": 7}
    assert questions.dropped == {"post:orphan_answer": 1, "post:tag_wiki": 1}


def _check_demo_books_and_arxiv(demo: Path, release: manifest.Manifest) -> None:
    """The Books and ArXiv stages: the planted older edition (the sample's README: containment
    0.994) dropped into its cluster, the 80% revision kept; the PDF-only submission dropped."""
    books = release.sources["books"]
    books.funnel.check()
    assert books.funnel.read == 5 and books.funnel.dropped == {"near_dup:duplicate": 1}
    kept = {d.id: d for s in books.shards for d in read_shard(str(demo / "books" / s.name))}
    assert "books/gutenberg/90001/pg90001.txt" in kept
    assert "books/gutenberg/90001/90001-0.txt" not in kept
    assert {d.meta["title"] for d in kept.values()} == {
        "The Lamp at Gull Rock", "A Year in the Walled Garden - Osric Fenwell",
        "A Year in the Walled Garden (Revised Edition) - Osric Fenwell",
        "The Voyage of the Kestrel - Idony Marsh"}
    assert not any("PROJECT GUTENBERG" in d.text.upper() for d in kept.values())
    [cluster] = books.config["near_dup"]["clusters"]
    assert cluster["kept"] == "books/gutenberg/90001/pg90001.txt"
    assert cluster["books"] == ["books/gutenberg/90001/90001-0.txt",
                                "books/gutenberg/90001/pg90001.txt"]
    assert [share for _, _, share in cluster["pairs"]] == [pytest.approx(0.994, abs=0.001)]

    papers = release.sources["arxiv"]
    papers.funnel.check()
    assert papers.funnel.read == 3 and papers.funnel.kept == 2
    assert papers.funnel.dropped == {"arxiv:pdf_only": 1} and not papers.funnel.unreadable
    cleaned = {d.id: d for s in papers.shards for d in read_shard(str(demo / "arxiv" / s.name))}
    assert sorted(cleaned) == ["arxiv/2601.00001", "arxiv/2601.00002"]
    assert cleaned["arxiv/2601.00001"].meta["main_file"] == "main.tex"
    for doc in cleaned.values():
        assert doc.text.startswith("\\section{") and "%" not in doc.text
        assert not re.search(r"\\(?:vocab|freq|pieces|ratio|merges|shard|lines|bibitem"
                             r"|bibliography|documentclass)(?![A-Za-z])", doc.text)


def _check_demo_c4(demo: Path, release: manifest.Manifest, out: str) -> None:
    """The C4 stage against the sample read here: a duplicate is a page whose text repeats once
    case, digits and spacing are set aside; a page in another language has its language as the
    first segment of its URL path (the sample's README)."""
    with gzip.open(samples.c4_sample(), "rt", encoding="utf-8") as f:
        pages = [json.loads(line) for line in f]
    texts = {" ".join(re.sub(r"[0-9]", "0", p["text"].lower()).split()) for p in pages}
    foreign = [p for p in pages if re.match(r"/(?!en/)[a-z]{2}/", urlsplit(p["url"]).path)]
    duplicates = len(pages) - len(texts)
    assert duplicates >= 3 and len(foreign) >= 3

    c4 = release.sources["c4"]
    c4.funnel.check()
    assert c4.funnel.read == len(pages) and not c4.funnel.unreadable
    assert c4.funnel.dropped.get("exact_dedup:duplicate") == duplicates
    assert sum(n for r, n in c4.funnel.dropped.items() if r.startswith("language:")) == len(foreign)
    assert c4.funnel.kept == len(pages) - duplicates - len(foreign)
    kept = [d for s in c4.shards for d in read_shard(str(demo / "c4" / s.name))]
    assert len(kept) == c4.funnel.kept and all(d.lang == "en" and d.url for d in kept)
    assert c4.tokens["documents"] == len(kept) and "c4: funnel" in out


def test_mix_prints_table1_for_1_4t_and_its_json(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no release here
    assert main(["mix", "--tokens", "1.4T"]) == 0
    out = capsys.readouterr().out
    for source in ("commoncrawl", "c4", "github", "wikipedia", "books", "arxiv", "stackexchange"):
        assert source in out
    assert "938B" in out and "3.30 TB" in out  # 67% of 1.4T; the paper's disk size
    assert main(["mix", "--tokens", "1.4T", "--json", "--available", "c4=200B",
                 "--available", "commoncrawl=850B", "--available", "github=100B",
                 "--available", "wikipedia=25B", "--available", "books=28B",
                 "--available", "arxiv=33B", "--available", "stackexchange=27B"]) == 0
    plan = json.loads(capsys.readouterr().out)
    c4 = next(s for s in plan["sources"] if s["source"] == "c4")
    assert c4["target_tokens"] == 210_000_000_000 and c4["epochs"] == pytest.approx(1.05)


@pytest.mark.parametrize("argv, message", [
    (["mix", "--tokens", "1.4T", "--weights", "{weights}"], "weights sum to 0.9"),
    (["mix", "--tokens", "1.4T", "--weights", "{unknown}"], "unknown source 'reddit'"),
    (["mix", "--tokens", "1.4T", "--release", "{release}"], "no token counts yet"),
    (["tokenizer", "encode", "--release", "{release}"], "no tokenizer"),
    (["mix", "--tokens", "1.4T", "--available", "wikipedia"], "expected SOURCE=N"),
])
def test_tokenizer_and_mix_bad_input_is_one_line_and_exit_1(tmp_path, capsys, argv, message):
    (tmp_path / "w.json").write_text('{"c4": 0.5, "wikipedia": 0.4}')
    (tmp_path / "u.json").write_text('{"c4": 0.5, "reddit": 0.5}')
    release = tmp_path / "r"
    manifest.update_source(str(release), "wikipedia", manifest.SourceEntry(
        [], manifest.Funnel(), {}, {}))
    argv = [a.format(weights=tmp_path / "w.json", unknown=tmp_path / "u.json", release=release)
            for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("llama-data: error:") and message in err[-1], err


def test_a_count_without_a_known_suffix_is_a_usage_error():
    with pytest.raises(SystemExit) as exit_info:
        main(["mix", "--tokens", "1.4X"])
    assert exit_info.value.code == 2


def test_tokenizer_train_encode_and_mix_from_the_command_line(corpus_release, tmp_path, capsys):
    import shutil

    release = tmp_path / "r"
    shutil.copytree(corpus_release, release)
    (tmp_path / "w.json").write_text('{"wikipedia": 0.6, "c4": 0.4}')
    assert main(["tokenizer", "train", "--release", str(release), "--vocab-size", "1000",
                 "--sample-size", "1MB", "--weights", str(tmp_path / "w.json")]) == 0
    assert main(["tokenizer", "encode", "--release", str(release), "--workers", "2"]) == 0
    # progress off a terminal: plain lines, each bar's last one at its end
    err = capsys.readouterr().err
    saved = manifest.load(str(release))
    sampled = [line for line in err.splitlines() if line.startswith("tokenizer: sample:")]
    size = tqdm.format_sizeof(saved.tokenizer["sample"]["bytes"], divisor=1024)
    # the sample ends near its budget, over it by part of a document: then tqdm shows no total
    assert re.search(rf"[ |]{re.escape(size)}(/| ?B \[)", sampled[-1]), sampled[-1]
    encoded = [line for line in err.splitlines() if line.startswith("tokens: encode:")]
    documents = sum(e.documents for e in saved.sources.values())
    tokens = sum(e.tokens["tokens"] for e in saved.sources.values())
    assert f"100%|##########| {documents}/{documents} [" in encoded[-1]
    assert encoded[-1].endswith(f" {tokens} tokens]")
    assert main(["mix", "--tokens", "5M", "--release", str(release), "--weights",
                 str(tmp_path / "w.json")]) == 0
    out = capsys.readouterr().out
    assert "wikipedia" in out and "c4" in out and "books" not in out.split("total")[0]
    assert json.loads((release / "mixture.json").read_text())["total_tokens"] == 5_000_000

    junk = release / "tokenizer" / "tokenizer.model"
    junk.write_bytes(b"\x08\x96\x01 this is not a model")
    saved = manifest.load(str(release))
    saved.tokenizer["sha256"] = sha256_file(junk)
    manifest.save(str(release), saved)
    shutil.rmtree(release / "tokens")
    assert main(["tokenizer", "encode", "--release", str(release)]) == 1
    assert "not a SentencePiece model" in capsys.readouterr().err


def test_train_lm_trains_a_language_model_on_a_releases_shards(tmp_path, capsys):
    import gzip

    from llama_data.document import Document
    from llama_data.quality.perplexity import LanguageModel
    from llama_data.shards import write_shards

    c4 = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "c4"
    if not c4.exists():
        pytest.skip(f"real corpus samples not found at {c4} (../shared beside the checkout)")
    with gzip.open(c4 / "c4-sample.00000-of-00001.json.gz", "rt") as f:
        texts = [json.loads(line)["text"] for line in f][:300]
    docs = [Document(f"c4/{i:04d}", t, "c4", lang="en") for i, t in enumerate(texts)]
    docs.append(Document("c4/9999", "Ein deutscher Text, der nicht mitzählt.", "c4", lang="de"))
    write_shards(docs, str(tmp_path / "r" / "c4"), "part-00000")
    assert main(["train-lm", "--lang", "en", "--input", str(tmp_path / "r" / "c4"),
                 "--output", str(tmp_path / "lm"), "--vocab-size", "4000",
                 "--memory", "64M"]) == 0
    model = LanguageModel.load(tmp_path / "lm", "en")
    assert model.perplexity(texts[0]) < model.perplexity(" ".join(reversed(texts[0].split())))
    assert "en.arpa.bin" in capsys.readouterr().out


def test_train_classifier_from_dumps_and_a_releases_pages(tmp_path, capsys, reference_pages):
    from conftest import WIKI_CORPUS

    from llama_data.quality.reference import ReferenceClassifier, roc_auc
    from llama_data.shards import write_shards

    pages, held_cited, held_random, _ = reference_pages
    write_shards(sorted(pages, key=lambda d: d.id), str(tmp_path / "r" / "commoncrawl"), "part-00000")
    model = tmp_path / "ref" / "en.bin"
    assert main(["train-classifier", "--wikipedia", str(WIKI_CORPUS / "enwiki-*.bz2"),
                 "--commoncrawl", str(tmp_path / "r" / "commoncrawl"), "--output", str(model),
                 "--dim", "8"]) == 0
    out = capsys.readouterr().out
    report = json.loads(model.with_suffix(".json").read_text())
    assert f"{report['examples']['positives']} cited pages" in out and "held-out AUC" in out
    classifier = ReferenceClassifier(model)
    assert roc_auc(classifier.predict(held_cited), classifier.predict(held_random)) > 0.8

    assert main(["prepare", "commoncrawl", "--input", str(tmp_path / "r" / "commoncrawl" / "*"),
                 "--output", str(tmp_path / "out"), "--ref-model", str(tmp_path / "no.bin")]) == 1
    assert "no such reference-classifier model" in capsys.readouterr().err
    assert main(["train-classifier", "--wikipedia", str(WIKI_CORPUS / "bgwiki-*.bz2"),
                 "--commoncrawl", str(tmp_path / "r" / "commoncrawl"),
                 "--output", str(tmp_path / "bg.bin")]) == 1
    assert "only 0 cited pages" in capsys.readouterr().err
