"""The Wikipedia pipeline on Beam's real local runner (FnApiRunner), end to end on disk."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import datasets
import pytest
from apache_beam.internal.cloudpickle import cloudpickle
from conftest import (
    IN_PROCESS,
    MARKUP_REMNANTS,
    count_articles,
    decompressed,
    dump_xml,
    page_xml,
    prose,
    write,
)

from llama_data import manifest
from llama_data.pipelines import common, wikipedia
from llama_data.pipelines.config import WikipediaConfig
from llama_data.shards import read_shard

pytestmark = pytest.mark.slow


def shard_docs(release: Path, source: str = "wikipedia"):
    return [d for p in sorted((release / source).glob("*.arrow")) for d in read_shard(str(p))]


def test_real_dumps_into_a_release_with_a_balanced_funnel(tmp_path, wiki_corpus):
    release = tmp_path / "release"
    entry = wikipedia.run(WikipediaConfig(input=[str(p) for p in wiki_corpus], output=str(release)),
                          IN_PROCESS)

    articles = sum(count_articles(decompressed(p))[1] for p in wiki_corpus)
    funnel = entry.funnel
    content_drops = sum(n for r, n in funnel.dropped.items() if r.startswith("min_words:"))
    assert funnel.kept + content_drops == articles
    assert funnel.kept + sum(funnel.dropped.values()) + sum(funnel.unreadable.values()) == funnel.read
    assert funnel.read == sum(count_articles(decompressed(p))[0] for p in wiki_corpus)

    docs = shard_docs(release)
    assert len(docs) == funnel.kept == entry.documents
    assert {d.lang for d in docs} == {"en", "bg"}
    for doc in docs:
        assert not any(m in doc.text for m in MARKUP_REMNANTS), doc.id

    saved = json.loads((release / "manifest.json").read_text())["sources"]["wikipedia"]
    assert saved["funnel"]["read"] == funnel.read
    for shard in saved["shards"]:
        assert hashlib.sha256((release / "wikipedia" / shard["name"]).read_bytes()).hexdigest() \
            == shard["sha256"]
    dataset = datasets.load_dataset("arrow", data_files=str(release / "wikipedia" / "*.arrow"),
                                    split="train", cache_dir=str(tmp_path / "hf"))
    assert dataset.num_rows == funnel.kept
    assert not (release / ".staging").exists()


def bad_and_good_dumps(tmp_path: Path) -> list[str]:
    good = [page_xml(i, f"Good {i}", prose(40, f"g{i}-")) for i in range(1, 6)]
    paths = [
        write(tmp_path / "enwiki-good.xml.bz2", dump_xml(good)),
        write(tmp_path / "dewiki-good.xml.gz", dump_xml(
            [page_xml(i, f"Gut {i}", prose(40, f"d{i}-")) for i in range(1, 4)], lang="de")),
    ]
    truncated = write(tmp_path / "frwiki-truncated.xml.bz2", dump_xml(good, lang="fr"))
    truncated.write_bytes(truncated.read_bytes()[:-50])
    bad_utf8 = tmp_path / "svwiki-badutf8.xml"
    bad_utf8.write_bytes(dump_xml([page_xml(1, "Bra", prose(40))], lang="sv").encode()
                         .replace(b"Bra", b"Br\xffa"))
    return [str(p) for p in (*paths, truncated, bad_utf8)]


# Two unreadable files of ten records: well above the default error budget.
TOLERANT = {"max_error_rate": 0.5}


def test_bad_files_are_counted_and_named_and_the_good_output_is_kept(tmp_path):
    release = tmp_path / "release"
    entry = wikipedia.run(WikipediaConfig(input=bad_and_good_dumps(tmp_path), output=str(release),
                                          **TOLERANT), IN_PROCESS)
    assert entry.funnel.unreadable == {"truncated_or_corrupt_compression": 1,
                                       "invalid_encoding": 1}
    titles = sorted(d.meta["title"] for d in shard_docs(release))
    assert titles[:3] == ["Good 1", "Good 2", "Good 3"] and "Gut 3" in titles
    messages = [e["message"] for e in entry.errors]
    assert any("frwiki-truncated.xml.bz2" in m for m in messages)
    assert any("svwiki-badutf8.xml" in m and "line" in m for m in messages)
    assert manifest.load(str(release)).sources["wikipedia"].errors == entry.errors


def test_parallel_workers_and_reruns_give_byte_identical_shards(tmp_path):
    inputs = bad_and_good_dumps(tmp_path)
    one = wikipedia.run(WikipediaConfig(input=inputs, output=str(tmp_path / "a"), num_shards=3,
                                        **TOLERANT), IN_PROCESS)
    two = wikipedia.run(WikipediaConfig(input=inputs, output=str(tmp_path / "b"), num_shards=3,
                                        **TOLERANT),
                        ["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    assert one.config["runner"] == two.config["runner"] == "FnApiRunner"
    assert [(s.name, s.sha256) for s in one.shards] == [(s.name, s.sha256) for s in two.shards]
    assert len(one.shards) > 1
    assert one.funnel == two.funnel


def test_a_rerun_replaces_stale_shards(tmp_path):
    inputs = bad_and_good_dumps(tmp_path)
    release = tmp_path / "r"
    wikipedia.run(WikipediaConfig(input=inputs, output=str(release), num_shards=4, **TOLERANT),
                  IN_PROCESS)
    entry = wikipedia.run(WikipediaConfig(input=inputs, output=str(release), num_shards=1,
                                          **TOLERANT), IN_PROCESS)
    assert sorted(p.name for p in (release / "wikipedia").iterdir()) == [s.name for s in entry.shards]


def test_keep_rejects_writes_each_dropped_document_with_its_reason(tmp_path):
    pages = [page_xml(1, "Long", prose(40)), page_xml(2, "Stub", "Too short."),
             page_xml(3, "Moved", "#REDIRECT [[Long]]", redirect="Long"),
             page_xml(4, "Talk:Long", prose(40), ns=1)]
    path = write(tmp_path / "enwiki-x.xml", dump_xml(pages))
    release = tmp_path / "r"
    entry = wikipedia.run(WikipediaConfig(input=[str(path)], output=str(release), keep_rejects=True),
                          IN_PROCESS)
    rejects = shard_docs(release, "rejects/wikipedia")
    assert sorted((d.meta["title"], d.meta["rejected_by"]) for d in rejects) == [
        ("Moved", "article:redirect"), ("Stub", "min_words:too_short"),
        ("Talk:Long", "article:not_namespace_0")]
    assert sum(entry.funnel.dropped.values()) == len(rejects)


# Beam's worker processes cannot import this test module: ship its classes by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class CountingSteps:
    """A steps factory that leaves a file per call, to see how often workers build their steps."""

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self):
        from llama_data.sources.wikipedia import wikipedia_steps

        Path(self.folder, f"built-{os.getpid()}-{os.urandom(4).hex()}").touch()
        return wikipedia_steps()


def test_steps_are_built_once_per_worker_not_per_bundle(tmp_path):
    pages = [page_xml(i, f"P{i}", prose(25, f"p{i}-")) for i in range(1, 400)]
    inputs = [str(write(tmp_path / f"enwiki-{k}.xml", dump_xml(pages[k::4]))) for k in range(4)]
    marks = tmp_path / "marks"
    marks.mkdir()
    spec = common.SourceSpec("wikipedia", wikipedia.spec().reader, CountingSteps(str(marks)))
    entry = common.run(spec, inputs, str(tmp_path / "r"), config={}, beam_args=[
        "--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    assert entry.funnel.kept == 399
    built = list(marks.iterdir())
    assert 1 <= len(built) <= 2
    assert len(built) == len({p.name.split("-")[1] for p in built})  # one per process


def test_standard_beam_options_pass_through():
    options = common.pipeline_options(
        ["--runner", "DataflowRunner", "--project", "p", "--region", "europe-west4",
         "--temp_location", "gs://bucket/tmp", "--setup_file", "./setup.py"]).get_all_options()
    assert options["runner"] == "DataflowRunner" and options["project"] == "p"
    assert options["region"] == "europe-west4" and options["temp_location"] == "gs://bucket/tmp"
    assert options["setup_file"] == "./setup.py"
    local = common.pipeline_options([]).get_all_options()
    assert local["runner"] == "FnApiRunner"
    assert local["direct_num_workers"] == (os.cpu_count() or 1)
