"""The CommonCrawl pipeline (CCNet: line dedup across the job, fastText language ID) on Beam's
local runner, on WET files written here and on the real samples of ../shared/corpus."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import CORPUS, IN_PROCESS, TWO_WORKERS, write_wet

from llama_data.pipelines import commoncrawl
from llama_data.pipelines.config import CommonCrawlConfig
from llama_data.shards import read_shard

pytestmark = pytest.mark.slow
BOILERPLATE = "Cookie policy | Privacy | Terms of use"






ENGLISH = {
    f"https://example.org/{topic}": "\n".join([
        f"The {topic} is a subject that many people find interesting to read about.",
        BOILERPLATE,
        f"Historians have written long books about the {topic} and its many uses over time.",
        f"Today the {topic} is still studied in schools and universities around the world.",
    ]) for topic in ("river", "bicycle", "lighthouse", "violin")
}


def inputs(tmp_path: Path) -> list[str]:
    first = dict(list(ENGLISH.items())[:2])
    second = {**dict(list(ENGLISH.items())[2:]),
              "https://example.de/fluss": "Der Fluss fließt langsam durch das breite Tal bis zum "
                                          "Meer, und viele Schiffe fahren auf ihm.\n" + BOILERPLATE,
              "https://example.org/only-boilerplate": BOILERPLATE}
    return [write_wet(tmp_path / "a.warc.wet.gz", first), write_wet(tmp_path / "b.warc.wet.gz", second)]


def docs_of(release: Path):
    return sorted((d for p in sorted((release / "commoncrawl").glob("*.arrow"))
                   for d in read_shard(str(p))), key=lambda d: d.url)


def test_repeated_lines_go_everywhere_and_only_english_is_kept(tmp_path):
    release = tmp_path / "r"
    entry = commoncrawl.run(CommonCrawlConfig(input=inputs(tmp_path), output=str(release)),
                            TWO_WORKERS)
    docs = docs_of(release)
    assert [d.url for d in docs] == sorted(ENGLISH)
    for doc in docs:
        assert BOILERPLATE not in doc.text
        assert doc.text == "\n".join(l for l in ENGLISH[doc.url].split("\n") if l != BOILERPLATE)
        assert doc.lang == "en" and doc.lang_score > 0.5
    assert entry.funnel.read == 6 and entry.funnel.kept == 4
    assert entry.funnel.dropped == {"language:not_en": 1, "min_words:empty": 1}
    assert entry.counters["dedup/lines_removed"] == 6  # the boilerplate line, in all six pages


def test_keep_first_keeps_one_copy_in_the_first_document(tmp_path):
    release = tmp_path / "r"
    commoncrawl.run(CommonCrawlConfig(input=inputs(tmp_path), output=str(release),
                                      dedup_keep="first", languages=None), IN_PROCESS)
    with_boilerplate = [d for d in docs_of(release) if BOILERPLATE in d.text]
    assert len(with_boilerplate) == 1


def test_the_same_shards_for_one_or_two_workers_and_every_record_counted_once(tmp_path):
    paths = inputs(tmp_path)
    broken = Path(paths[1])
    broken.write_bytes(broken.read_bytes()[:-40])  # the last record cut: unreadable, counted once
    entries = [commoncrawl.run(CommonCrawlConfig(input=paths, output=str(tmp_path / name),
                                                 dedup_keep=keep, languages=None,
                                                 max_error_rate=0.5), args)
               for keep in ("none", "first")
               for name, args in ((f"one-{keep}", IN_PROCESS), (f"two-{keep}", TWO_WORKERS))]
    for one, two in (entries[:2], entries[2:]):
        assert [(s.name, s.sha256) for s in one.shards] == [(s.name, s.sha256) for s in two.shards]
        assert one.funnel == two.funnel and one.counters == two.counters
    for entry in entries:
        entry.funnel.check()
        assert entry.funnel.read == 6 and entry.funnel.unreadable == {
            "truncated_or_corrupt_compression": 1}
    assert entries[0].config["dedup_scope"] == "job"


def test_a_bad_dedup_scope_is_refused_before_the_job_starts(tmp_path):
    with pytest.raises(ValueError, match="scope"):
        commoncrawl.run(CommonCrawlConfig(input=inputs(tmp_path), output=str(tmp_path / "r"),
                                          dedup_scope="groups:0"))
    assert not (tmp_path / "r").exists()


def test_the_real_samples_wet_and_warc(tmp_path):
    folder = CORPUS / "commoncrawl"
    if not folder.exists():
        pytest.skip(f"real corpus samples not found at {folder} (../shared beside the checkout)")
    release = tmp_path / "r"
    entry = commoncrawl.run(CommonCrawlConfig(
        input=[str(folder / "whirlwind.warc.wet.gz"), str(folder / "resiliparse-warcfile.warc.gz")],
        output=str(release), languages=None, fmt="auto"), IN_PROCESS)
    docs = docs_of(release)
    assert docs and all(d.lang and d.text for d in docs)
    assert {"en", "zh"} <= {d.lang for d in docs}
    # every WARC record is accounted for: 2 in the WET file, 50 in the WARC file (16 HTML pages)
    assert entry.funnel.read == 52 and entry.funnel.dropped["reader:not_a_page"] == 52 - 17
    entry.funnel.check()


def test_a_truncated_file_is_counted_and_the_rest_kept(tmp_path):
    paths = inputs(tmp_path)
    broken = Path(paths[1])
    broken.write_bytes(broken.read_bytes()[:-40])
    entry = commoncrawl.run(CommonCrawlConfig(  # 1 of 6 records: above the default budget
        input=paths, output=str(tmp_path / "r"), languages=None, max_error_rate=0.5), IN_PROCESS)
    assert entry.funnel.unreadable.get("truncated_or_corrupt_compression") == 1
    assert {d.url for d in docs_of(tmp_path / "r")} >= set(list(ENGLISH)[:2])


@pytest.fixture(scope="module")
def c4_model(tmp_path_factory):
    """C4's documents, and an English language model trained on the first 600 of them."""
    from llama_data.quality.perplexity import train_language_model

    c4 = CORPUS / "c4" / "c4-sample.00000-of-00001.json.gz"
    if not c4.exists():
        pytest.skip(f"real corpus samples not found at {c4} (../shared beside the checkout)")
    with gzip.open(c4, "rt") as f:
        texts = [json.loads(line)["text"] for line in f]
    lm = tmp_path_factory.mktemp("lm")
    train_language_model(texts[:600], "en", lm, vocab_size=8000, memory="64M")
    return texts, str(lm)


def test_perplexity_buckets_keep_the_head_and_middle(tmp_path, c4_model):
    texts, lm = c4_model
    pages = {f"https://example.org/c4/{i}": t for i, t in enumerate(texts[900:930])}
    pages["https://example.org/shuffled"] = " ".join(reversed(texts[950].split()))
    path = write_wet(tmp_path / "c.warc.wet.gz", pages)
    cutoffs = {"en": (150.0, 400.0)}
    entry = commoncrawl.run(CommonCrawlConfig(input=[path], output=str(tmp_path / "r"),
                                              lm_dir=str(lm), cutoffs=cutoffs), IN_PROCESS)
    kept = docs_of(tmp_path / "r")
    assert kept and all(d.meta["bucket"] in ("head", "middle") for d in kept)
    assert all(d.meta["perplexity"] < 400.0 for d in kept)
    assert "https://example.org/shuffled" not in {d.url for d in kept}
    assert entry.funnel.dropped.get("perplexity_bucket:bucket_tail", 0) >= 1
    saved = json.loads((tmp_path / "r" / "manifest.json").read_text())["sources"]["commoncrawl"]
    assert saved["config"]["perplexity"]["cutoffs"] == {"en": [150.0, 400.0]}


def test_cutoffs_computed_from_the_job_split_it_into_thirds_then_the_classifier_drops(
        tmp_path, c4_model, ref_model):
    texts, lm = c4_model
    pages = {f"https://example.org/c4/{i}": t for i, t in enumerate(texts[700:800])}
    release = tmp_path / "r"
    entry = commoncrawl.run(CommonCrawlConfig(
        input=[write_wet(tmp_path / "c.warc.wet.gz", pages)], output=str(release),
        keep_rejects=True, lm_dir=str(lm), ref_model=str(ref_model)), TWO_WORKERS)
    head, tail = entry.config["bucket_cutoffs"]["en"]
    kept, rejected = docs_of(release), [d for p in (release / "rejects" / "commoncrawl").glob("*.arrow")
                                        for d in read_shard(str(p))]
    assert all(d.meta["perplexity"] < tail and d.meta["ref_score"] >= 0.25 for d in kept)
    tails = [d for d in rejected if d.meta.get("bucket") == "tail"]
    assert tails and all(d.meta["perplexity"] >= tail and "ref_score" not in d.meta
                         for d in tails)  # the classifier sees only what the buckets keep
    unlike = entry.funnel.dropped.get("reference_classifier:low_score", 0)
    assert unlike > 0 and unlike == sum(d.meta["rejected_by"] == "reference_classifier:low_score"
                                        for d in rejected)
    english = entry.funnel.kept + unlike + entry.funnel.dropped.get(
        "perplexity_bucket:bucket_tail", 0)
    assert entry.funnel.kept + unlike == pytest.approx(0.6 * english, abs=3)  # head + middle
    assert head < tail
    saved = json.loads((release / "manifest.json").read_text())["sources"]["commoncrawl"]
    assert saved["config"]["bucket_cutoffs"]["en"] == [head, tail]
    assert saved["config"]["reference_classifier"] == {"model": ref_model, "threshold": 0.25}
    entry.funnel.check()


def test_the_reference_classifier_keeps_reference_like_pages(tmp_path, reference_pages, ref_model):
    _, held_cited, held_random, _ = reference_pages
    pages = {f"https://cited.example/{i}": t for i, t in enumerate(held_cited[:30])}
    pages |= {f"https://random.example/{i}": t for i, t in enumerate(held_random[:30])}
    entry = commoncrawl.run(CommonCrawlConfig(
        input=[write_wet(tmp_path / "c.warc.wet.gz", pages)], output=str(tmp_path / "r"),
        ref_model=str(ref_model), ref_threshold=0.5), IN_PROCESS)
    kept = docs_of(tmp_path / "r")
    assert all(d.meta["ref_score"] >= 0.5 for d in kept)
    cited = sum(d.url.startswith("https://cited") for d in kept)
    assert cited >= 20 and len(kept) - cited <= 10
    assert entry.funnel.dropped["reference_classifier:low_score"] == 60 - len(kept) - sum(
        n for reason, n in entry.funnel.dropped.items() if not reason.startswith("reference"))
