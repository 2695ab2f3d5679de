"""A source job's progress: one bar over its inputs' bytes, fed by its workers' report lines."""

from __future__ import annotations

import io
import logging
import os
import re

import pytest
from conftest import TWO_WORKERS
from tqdm import tqdm

from llama_data import manifest, progress
from llama_data.cli import main
from llama_data.pipelines import common, console, wikipedia


@pytest.fixture
def shown(log_level):
    """Progress on, as the CLI has it without -q."""
    log_level(logging.INFO)


def bar_lines(err: str, desc: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"{desc}:")]


def test_reports_follow_the_compressed_bytes_read_and_a_finished_file_counts_its_size(
        wiki_corpus, caplog, monkeypatch, shown):
    path = str(max(wiki_corpus, key=os.path.getsize))
    size = os.path.getsize(path)
    monkeypatch.setattr(common, "PROGRESS_EVERY", 1)
    read = common.ReadFn("wikipedia", wikipedia.spec().reader)
    read.setup()
    with caplog.at_level(logging.INFO, "llama_data.pipelines"):
        records = list(read.process(path))
    reports = [r.getMessage() for r in caplog.records if r.getMessage().startswith("progress:")]
    assert len(reports) == len(records) + 1  # one per record, then the end of the file

    job = console.ReadProgress("wikipedia", {path: size}, io.StringIO())
    reached = []
    for message in reports[:-1]:
        assert job.update(message)
        reached.append(job.bar.n)
    assert reached == sorted(reached) and 0 < reached[0] and reached[-1] <= size
    assert len(set(reached)) > 2  # the bzip2 file's raw position, not only its start and end
    assert job.update(reports[-1]) and job.bar.n == size
    for message in reports:  # a retried bundle reads the file again: it is not counted twice
        job.update(message)
    assert job.bar.n == size and f"{len(records)} records" in job.bar.postfix
    job.bar.close()


def test_an_input_of_unknown_size_counts_the_bytes_reported(shown):
    job = console.ReadProgress("cc", {"https://x/a.warc.gz": None, "b.warc.gz": 10},
                               io.StringIO())
    assert job.bar.total is None
    assert not job.update("reading the dumps")
    job.update(console.report("https://x/a.warc.gz", 3, 700, done=False))
    job.update(console.report("b.warc.gz", 1, 4, done=False))
    job.update(console.report("https://x/a.warc.gz", 5, None, done=True))
    job.update(console.report("b.warc.gz", 2, None, done=True))
    assert job.bar.n == 710 and "7 records" in job.bar.postfix
    job.bar.close()


def test_a_run_echoes_its_own_messages_and_ends_the_bar_at_the_inputs_bytes(
        tmp_path, capfd, shown, monkeypatch):
    monkeypatch.setattr(progress, "PLAIN_INTERVAL", 0)
    log = tmp_path / "job.log"
    with console.beam_output_to(str(log), "job", {"a": 100, "b": 50}):
        for line in (f"INFO:llama_data.pipelines:{console.report('a', 10, 40, done=False)}",
                     "WARNING:llama_data.pipelines:unreadable: b: line 3: bad",
                     "INFO:apache_beam.runners.worker:harness chatter",
                     f"INFO:llama_data.pipelines:{console.report('a', 20, None, done=True)}",
                     f"INFO:llama_data.pipelines:{console.report('b', 5, None, done=True)}"):
            os.write(2, f"{line}\n".encode())
    err = capfd.readouterr().err
    assert "  unreadable: b: line 3: bad" in err.splitlines()
    assert "chatter" not in err and "chatter" in log.read_text()
    lines = bar_lines(err, "job: read")
    assert any(" 27%|" in line for line in lines)  # 40 of 150 bytes, mid-file
    assert "150/150" in lines[-1] and "100%" in lines[-1] and "25 records" in lines[-1]


@pytest.mark.slow
@pytest.mark.parametrize("quiet", [False, True])
def test_prepare_shows_plain_progress_lines_ending_at_the_inputs_bytes(
        tmp_path, capfd, wiki_corpus, quiet):
    paths = [str(p) for p in wiki_corpus]
    release = tmp_path / "r"
    # two worker processes, the local default: reports come from other processes
    assert main([*(["-q"] if quiet else []), "prepare", "wikipedia", "--input", *paths,
                 "--output", str(release), *TWO_WORKERS]) == 0
    err = capfd.readouterr().err
    lines = bar_lines(err, "wikipedia: read")
    if quiet:
        assert lines == []
        return
    assert "\r" not in err and len(lines) >= 2  # the start, the end
    total = tqdm.format_sizeof(sum(os.path.getsize(p) for p in paths), divisor=1024)
    funnel = manifest.load(str(release)).sources["wikipedia"].funnel
    assert f"100%|##########| {total}/{total} [" in lines[-1]
    assert re.search(r", *[\d.]+[kMG]?B/s, " + f"{funnel.read} records]", lines[-1]), lines[-1]
