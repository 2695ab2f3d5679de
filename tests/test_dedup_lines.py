"""The job-wide line dedup (pipelines/dedup.py) on Beam's real local runner, on WET files read by
the real reader, against a brute-force oracle that holds every document in one dict."""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.internal.cloudpickle import cloudpickle
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from conftest import wet_record, word

from llama_data.document import Document
from llama_data.pipelines.common import ReadFn
from llama_data.pipelines.config import group_size
from llama_data.pipelines.dedup import ReadDeduplicated
from llama_data.sources.commoncrawl import WarcReader
from llama_data.text.ccnet import hashed_lines

cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.slow
SOURCE = "commoncrawl"
IN_PROCESS = ["--runner=FnApiRunner", "--direct_num_workers=1", "--direct_running_mode=in_memory"]
TWO_WORKERS = ["--runner=FnApiRunner", "--direct_num_workers=2",
               "--direct_running_mode=multi_processing"]
HOT = "We use cookies to improve your experience."  # in every page of every file
RIGHTS, RIGHTS_VARIANT = "All rights reserved 2021.", "  ALL RIGHTS RESERVED 1999. "
ACROSS = "Read our newsletter about the river valley."  # files 0 and 2 only
REPEAT = "Back to top"  # twice in one page only






def page(f: int, p: int) -> str:
    lines = [HOT] + [f"unique {word(f)} page {word(p)} line {word(j)}." for j in range(3)]
    lines.insert(2, "")  # blank lines are never duplicates
    if p % 5 == 0:
        lines.append(RIGHTS if p % 2 else RIGHTS_VARIANT)
    if p == 3 and f in (0, 2):
        lines.insert(1, ACROSS)
    if p == 7 and f == 1:
        lines += [REPEAT, "middle", REPEAT]
    return "\n".join(lines)


def write_inputs(folder: Path, files: int = 4, pages: int = 30) -> list[str]:
    paths = []
    for f in range(files):
        path = folder / f"f{f}.warc.wet.gz"
        records = [wet_record(f"https://example.org/{f}/{p}", page(f, p)) for p in range(pages)]
        if f == 1:  # a page of nothing but duplicated lines: emptied, still passed on
            records.append(wet_record("https://example.org/1/only", f"{HOT}\n\n{RIGHTS}"))
        path.write_bytes(b"".join(records))
        paths.append(str(path))
    return paths


def oracle(paths: list[str], keep: str, scope: str) -> dict[str, str]:
    """Every document in memory: a line is a duplicate if its hash occurs twice in its group."""
    size = group_size(scope)
    docs = [(0 if size is None else i // size, d) for i, path in enumerate(paths)
            for d in WarcReader(path)]
    seen: dict[tuple[int, int], list[tuple[str, int]]] = collections.defaultdict(list)
    for group, doc in docs:
        for index, h in hashed_lines(doc.text):
            seen[group, h].append((doc.id, index))
    out = {}
    for group, doc in docs:
        drop = {index for index, h in hashed_lines(doc.text) if len(seen[group, h]) > 1
                and not (keep == "first" and min(seen[group, h]) == (doc.id, index))}
        out[doc.id] = "\n".join(line for i, line in enumerate(doc.text.split("\n"))
                                if i not in drop)
    return out


def run_dedup(tmp_path: Path, paths: list[str], keep: str, scope: str, args: list[str]):
    out = tmp_path / f"out-{keep}-{scope.replace(':', '')}-{args[1][-1]}"
    pipeline = beam.Pipeline(options=PipelineOptions(args))
    read = (pipeline
            | beam.Create(paths)
            | ReadDeduplicated(SOURCE, WarcReader, paths, keep=keep, scope=scope))
    (read.docs
     | beam.Map(lambda d: json.dumps(d.to_row(), sort_keys=True))
     | beam.io.WriteToText(str(out)))
    read[ReadFn.ERRORS] | "Errors" >> beam.Map(json.dumps) | "WriteErrors" >> beam.io.WriteToText(
        f"{out}-errors")
    result = pipeline.run()
    result.wait_until_finish()
    rows = sorted(line for p in tmp_path.glob(f"{out.name}-0*") for line in p.read_text().split("\n")
                  if line)
    counters = collections.Counter()
    for c in result.metrics().query(MetricsFilter().with_namespace(f"llama_data.{SOURCE}"))[
            "counters"]:
        counters[c.key.metric.name] += c.committed if c.committed is not None else c.attempted
    return rows, {Document.from_row(json.loads(r)).id: Document.from_row(json.loads(r))
                  for r in rows}, counters


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    return write_inputs(tmp_path_factory.mktemp("wet"))


@pytest.mark.parametrize("keep", ["none", "first"])
def test_same_as_the_oracle_and_the_same_bytes_for_one_or_two_workers(tmp_path, inputs, keep):
    one, docs, counters = run_dedup(tmp_path, inputs, keep, "job", IN_PROCESS)
    two, _, counters_two = run_dedup(tmp_path, inputs, keep, "job", TWO_WORKERS)
    assert one == two and counters == counters_two
    expected = oracle(inputs, keep, "job")
    assert {i: d.text for i, d in docs.items()} == expected
    texts = [d.text.split("\n") for d in docs.values()]
    hot_copies = sum(lines.count(HOT) for lines in texts)
    assert hot_copies == (0 if keep == "none" else 1)  # the hot key: 121 pages, 4 files
    assert sum(lines.count(REPEAT) for lines in texts) == (0 if keep == "none" else 1)
    emptied = next(d for d in docs.values() if d.url.endswith("/only"))
    if keep == "none":
        assert emptied.text == "" and emptied.meta["dedup_lines_removed"] == 2
    # the funnel: every record read once (not once per pass), every line seen once
    assert counters["read"] == 4 * 30 + 1 and len(docs) == 121
    lines_in = sum(len(page(f, p).split("\n")) for f in range(4) for p in range(30)) + 3
    assert counters["dedup/lines_seen"] == lines_in
    assert counters["dedup/lines_removed"] == sum(d.meta["dedup_lines_removed"]
                                                  for d in docs.values())
    assert counters["dedup/lines_removed"] == lines_in - sum(len(t) for t in texts)


def test_keep_none_by_hand_on_the_planted_lines(tmp_path, inputs):
    _, docs, counters = run_dedup(tmp_path, inputs, "none", "job", IN_PROCESS)
    by_url = {d.url: d.text.split("\n") for d in docs.values()}
    assert by_url["https://example.org/0/3"] == ["unique ba page bd line ba.", "",
                                                 "unique ba page bd line bb.",
                                                 "unique ba page bd line bc."]
    assert by_url["https://example.org/1/7"][-1] == "middle"
    assert counters["dedup/documents_emptied"] == 1


@pytest.mark.parametrize("scope, across_kept", [("groups:1", True), ("groups:2", True),
                                                ("groups:3", False), ("job", False)])
def test_scopes_dedup_within_groups_of_consecutive_files(tmp_path, inputs, scope, across_kept):
    _, docs, _ = run_dedup(tmp_path, inputs, "none", scope, IN_PROCESS)
    assert {i: d.text for i, d in docs.items()} == oracle(inputs, "none", scope)
    # ACROSS is in files 0 and 2: the same group only when groups hold 3 files or more
    assert any(ACROSS in d.text for d in docs.values()) == across_kept
    # the hot line is in every file: removed in every scope, even one file per group
    assert not any(HOT in d.text for d in docs.values())


def test_an_unreadable_file_is_counted_once(tmp_path, inputs):
    broken = tmp_path / "broken.warc.wet.gz"
    broken.write_bytes(Path(inputs[0]).read_bytes()[:-40])
    paths = [*inputs[1:], str(broken)]
    _, docs, counters = run_dedup(tmp_path, paths, "none", "job", TWO_WORKERS)
    assert counters["unreadable/truncated_or_corrupt_compression"] == 1
    assert counters["read"] == len(docs) + 1


@pytest.mark.parametrize("scope", ["groups", "groups:0", "groups:x", "files:2", "Job"])
def test_a_bad_scope_is_refused(scope):
    with pytest.raises(ValueError, match="scope"):
        ReadDeduplicated(SOURCE, WarcReader, [], scope=scope)


def test_an_unknown_keep_is_refused():
    with pytest.raises(ValueError, match="keep"):
        ReadDeduplicated(SOURCE, WarcReader, [], keep="last")
