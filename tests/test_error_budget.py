"""A job that fails, fails loudly: above the error budget, or with nothing kept, ``prepare`` exits
non-zero with one line naming the most frequent error, and the release keeps its previous bytes."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from apache_beam.internal.cloudpickle import cloudpickle
from conftest import IN_PROCESS, dump_xml, page_xml, prose, write

from llama_data import manifest
from llama_data.cli import main
from llama_data.errors import ErrorBudgetExceeded
from llama_data.pipelines import common, wikipedia
from llama_data.pipelines.config import WikipediaConfig

pytestmark = pytest.mark.slow

# Beam's workers cannot import this test module: ship its classes by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def snapshot(release: Path) -> dict[str, bytes]:
    """Every file of the release that readers see (not the Beam logs, not the lock file)."""
    return {str(p.relative_to(release)): p.read_bytes() for p in sorted(release.rglob("*"))
            if p.is_file() and p.parts[len(release.parts)] not in ("logs", ".lock")}


@pytest.fixture
def release(tmp_path) -> Path:
    """A release with a good Wikipedia source already in it."""
    good = write(tmp_path / "enwiki-good.xml", dump_xml(
        [page_xml(i, f"Good {i}", prose(40, f"g{i}-")) for i in range(1, 6)]))
    path = tmp_path / "release"
    assert main(["prepare", "wikipedia", "--input", str(good), "--output", str(path),
                 *IN_PROCESS]) == 0
    return path


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("llama-data: error:")]


class RaiseOnEveryDocument:
    """A step that fails on every document it is given (a bug in a step, a parser limit)."""

    name = "explode"

    def map(self, doc):
        raise ValueError(f"cannot process {doc.id}")


def raising_steps():
    return [RaiseOnEveryDocument()]


def test_a_step_that_raises_on_every_document_fails_the_job(tmp_path, release):
    before = snapshot(release)
    dump = write(tmp_path / "enwiki-more.xml", dump_xml(
        [page_xml(i, f"More {i}", prose(40)) for i in range(1, 8)]))
    spec = common.SourceSpec("wikipedia", wikipedia.spec().reader, raising_steps)
    with pytest.raises(ErrorBudgetExceeded) as failure:
        common.run(spec, [str(dump)], str(release), config={}, beam_args=IN_PROCESS)
    message = str(failure.value)
    assert "\n" not in message
    assert "7 of 7 records" in message and "processing_error (7x)" in message
    assert "ValueError: cannot process wikipedia/en/" in message  # the example's own error
    assert "https://en.wikipedia.org/wiki/More_" in message  # where it came from
    assert snapshot(release) == before
    assert not (release / ".staging").exists()


def test_garbage_after_a_valid_header_exits_1_with_one_line(tmp_path, release, capsys):
    before = snapshot(release)
    start = dump_xml([page_xml(1, "Fine", prose(40))]).removesuffix("</mediawiki>").encode()
    garbage = tmp_path / "enwiki-garbage.xml"
    garbage.write_bytes(start + random.Random(0).randbytes(4000))
    code = main(["prepare", "wikipedia", "--input", str(garbage), "--output", str(release),
                 *IN_PROCESS])
    errors = error_lines(capsys.readouterr().err)
    assert code == 1 and len(errors) == 1
    assert "1 of 2 records" in errors[0] and "(1x)" in errors[0]
    assert f"{garbage}: line " in errors[0]  # the file and the position
    assert snapshot(release) == before


def test_a_garbage_warc_exits_1_with_one_line(tmp_path, release, capsys):
    before = snapshot(release)
    garbage = tmp_path / "garbage.warc"
    garbage.write_bytes(random.Random(1).randbytes(5000))
    code = main(["prepare", "commoncrawl", "--input", str(garbage), "--output", str(release),
                 *IN_PROCESS])
    errors = error_lines(capsys.readouterr().err)
    assert code == 1 and len(errors) == 1
    assert "commoncrawl: 1 of 1 records" in errors[0] and str(garbage) in errors[0]
    assert snapshot(release) == before
    assert set(manifest.load(str(release)).sources) == {"wikipedia"}


def test_the_budget_is_a_share_of_the_records_read(tmp_path):
    good = [page_xml(i, f"Good {i}", prose(40, f"g{i}-")) for i in range(1, 10)]
    inputs = [str(write(tmp_path / "enwiki-good.xml", dump_xml(good))),
              str(write(tmp_path / "enwiki-bad.xml", dump_xml(good[:1]).replace("</page>", "")))]
    release = str(tmp_path / "r")
    with pytest.raises(ErrorBudgetExceeded, match=r"1 of 10 records .*\(10\.0%"):
        wikipedia.run(WikipediaConfig(input=inputs, output=release, max_error_rate=0.09),
                      IN_PROCESS)
    entry = wikipedia.run(WikipediaConfig(input=inputs, output=release, max_error_rate=0.1),
                          IN_PROCESS)
    assert entry.funnel.unreadable == {"malformed_xml": 1} and entry.funnel.kept == 9


def test_nothing_kept_is_refused_unless_allowed(tmp_path, release, capsys):
    before = snapshot(release)
    stubs = write(tmp_path / "enwiki-stubs.xml", dump_xml(
        [page_xml(i, f"Stub {i}", "Too short.") for i in range(1, 4)]))
    argv = ["prepare", "wikipedia", "--input", str(stubs), "--output", str(release), *IN_PROCESS]
    assert main(argv) == 1
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "3 records read and none kept" in errors[0]
    assert "min_words:too_short (3x)" in errors[0] and "--allow-empty" in errors[0]
    assert snapshot(release) == before

    assert main([*argv, "--allow-empty"]) == 0
    entry = manifest.load(str(release)).sources["wikipedia"]
    assert entry.funnel.read == 3 and entry.funnel.kept == 0 and entry.shards == []
    assert list((release / "wikipedia").iterdir()) == []
