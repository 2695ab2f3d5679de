"""LLaMA's Wikipedia-reference classifier: cited URLs from <ref> tags, training examples, a real
fastText model trained on the shared samples, and its steps."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from conftest import WIKI_CORPUS

from llama_data.document import Document
from llama_data.filters import Rejected, run_steps
from llama_data.quality.reference import (
    REF_THRESHOLD,
    ClassifierNotFound,
    Examples,
    KeepReferences,
    NotEnoughExamples,
    ReferenceClassifier,
    ScoreReference,
    TrainingParams,
    normalize_url,
    roc_auc,
    select_examples,
    train_reference_classifier,
)
from llama_data.sources.wikipedia import cited_urls
from llama_data.text.wikitext import reference_urls


def test_reference_urls_are_the_links_and_citation_urls_inside_ref_tags():
    wikitext = (
        "Prose [http://outside.example/ not a reference].<ref name=a>{{cite web "
        "|url=http://a.example/x |archive-url=https://web.archive.org/1 |title=T}}</ref> More."
        "<ref>[https://b.example/y?q=1 B], see also http://c.example/z</ref><ref name=a />"
        "<!-- <ref>http://commented.example</ref> --><ref>{{cite book|title=No URL}}</ref>")
    assert reference_urls(wikitext) == ["http://a.example/x", "https://b.example/y?q=1",
                                        "http://c.example/z"]
    assert reference_urls("no references at all") == []


def test_the_real_dump_cites_thousands_of_urls():
    dump = WIKI_CORPUS / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    if not dump.exists():
        pytest.skip(f"real corpus samples not found at {dump} (../shared beside the checkout)")
    urls = list(cited_urls([str(dump)]))
    assert len(set(urls)) > 1000
    assert ("http://www.theanarchistlibrary.org/HTML/Petr_Kropotkin___Anarchism__from_the_"
            "Encyclopaedia_Britannica.html") in urls
    assert not any("web.archive.org" in u and "url=" in u for u in urls)


def test_urls_compare_without_scheme_www_port_fragment_or_trailing_slash():
    same = ["https://www.Example.org/a/b/", "http://example.org/a/b", "http://EXAMPLE.org:80/a/b#s"]
    assert len({normalize_url(u) for u in same}) == 1
    assert normalize_url("http://example.org/a?x=1") != normalize_url("http://example.org/a?x=2")
    assert normalize_url("http://example.org:8080/a") != normalize_url("http://example.org/a")
    assert normalize_url("http://example.org/A") != normalize_url("http://example.org/a")


def page(i: int, text: str, url: str, bucket: str | None = None) -> Document:
    return Document(id=f"commoncrawl/{i:04d}", text=text, source="commoncrawl", url=url,
                    meta={} if bucket is None else {"bucket": bucket})


def test_examples_are_cited_long_unique_pages_and_as_many_random_from_the_same_buckets():
    long = "words " * 300
    cited = {normalize_url(f"http://cited.example/{i}") for i in range(4)}
    docs = [page(0, "A " + long, "http://cited.example/0", "head"),
            page(1, "A " + long, "https://www.cited.example/1/", "head"),  # same text: once
            page(2, "short", "http://cited.example/2", "head"),  # under min_chars
            page(3, "B " + long, "http://cited.example/3", "tail")]
    docs += [page(10 + i, f"random {i} " + long, f"http://random.example/{i}",
                  ["head", "middle", "tail"][i % 3]) for i in range(30)]
    examples = select_examples(cited, lambda: docs, seed=1)
    assert sorted(examples.positives) == ["A " + long, "B " + long]
    assert examples.stats == {"pages": 34, "cited_pages": 4, "cited_too_short": 1,
                              "cited_duplicates": 1, "positives": 2, "negatives": 2}
    buckets = {d.text: d.meta["bucket"] for d in docs}
    assert sorted(buckets[t] for t in examples.negatives) == ["head", "tail"]
    assert select_examples(cited, lambda: docs, seed=1).negatives == examples.negatives
    draws = {tuple(select_examples(cited, lambda: docs, seed=s).negatives) for s in range(8)}
    assert len(draws) > 1  # the seed chooses which random pages


def test_roc_auc_is_the_share_of_pairs_ranked_right():
    rng = random.Random(0)
    pos, neg = [rng.random() + 0.3 for _ in range(40)], [rng.random() for _ in range(50)]
    pos[0] = neg[0]  # a tie counts half
    pairs = [(p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg)]
    assert roc_auc(pos, neg) == pytest.approx(sum(pairs) / len(pairs))
    assert roc_auc([1.0], [0.0]) == 1.0 and roc_auc([0.0], [1.0]) == 0.0


def test_a_classifier_trained_on_the_samples_separates_held_apart_pages(
        reference_pages, ref_model):
    _, held_cited, held_random, _ = reference_pages
    classifier = ReferenceClassifier(ref_model)
    cited, random_ = classifier.predict(held_cited), classifier.predict(held_random)
    assert len(cited) > 100 and len(random_) == 200
    assert roc_auc(cited, random_) > 0.8  # chance is 0.5
    assert sum(s >= REF_THRESHOLD for s in cited) / len(cited) > \
        sum(s >= REF_THRESHOLD for s in random_) / len(random_) + 0.3
    report = json.loads(Path(ref_model.removesuffix(".bin") + ".json").read_text())
    assert report["held_out_auc"] > 0.8 and report["examples"]["positives"] > 500
    assert report["default_threshold"] == REF_THRESHOLD == 0.25


def test_training_is_reproducible(reference_pages, ref_model, tmp_path):
    pages, _, held_random, urls = reference_pages
    examples = select_examples({normalize_url(u) for u in urls}, lambda: pages)
    again = tmp_path / "again.bin"
    train_reference_classifier(examples, again, TrainingParams(dim=16, bucket=2**16))
    assert ReferenceClassifier(again).predict(held_random[:20]) == \
        ReferenceClassifier(ref_model).predict(held_random[:20])


def test_score_and_keep_steps(reference_pages, ref_model):
    _, held_cited, held_random, _ = reference_pages
    steps = [ScoreReference(ReferenceClassifier(ref_model)), KeepReferences()]
    results = [run_steps(page(i, t, f"http://x.example/{i}"), steps)
               for i, t in enumerate(held_cited[:20] + held_random[:20])]
    kept = [r for r in results if not isinstance(r, Rejected)]
    dropped = [r for r in results if isinstance(r, Rejected)]
    assert kept and dropped
    assert all(r.meta["ref_score"] >= REF_THRESHOLD for r in kept)
    assert all(r.reason == "reference_classifier:low_score" and r.doc.meta["ref_score"] < 0.25
               for r in dropped)
    assert KeepReferences(0.0).filter(dropped[0].doc) is True


def test_too_few_examples_and_a_missing_model_are_named(tmp_path):
    few = Examples(["cited text"] * 3, ["random text"] * 30, {})
    with pytest.raises(NotEnoughExamples, match="only 3 cited pages"):
        train_reference_classifier(few, tmp_path / "m.bin")
    with pytest.raises(ClassifierNotFound, match="no such reference-classifier model"):
        ReferenceClassifier(tmp_path / "missing.bin")
