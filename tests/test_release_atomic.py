"""A source in a release is replaced as a whole: a rerun killed at any point, or failing, leaves the
previous shards and manifest byte-identical; two sources prepared at once are both recorded."""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import IN_PROCESS, dump_xml, page_xml, prose, write

from llama_data import manifest, release, samples
from llama_data.document import Document
from llama_data.shards import write_shards

CLI = str(Path(sys.executable).parent / "llama-data")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file readers see (not the Beam logs, not the lock file)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.parts[len(folder.parts)] not in ("logs", ".lock")}


def assert_consistent(folder: Path) -> manifest.Manifest:
    """The manifest lists exactly the shards on disk, each with its sha256; no staging is left."""
    loaded = manifest.load(str(folder))
    for source, entry in loaded.sources.items():
        on_disk = sorted(p.name for p in (folder / (entry.folder or source)).iterdir())
        assert on_disk == [s.name for s in entry.shards]
        for shard in entry.shards:
            data = Path(entry.shard_path(str(folder), source, shard)).read_bytes()
            assert hashlib.sha256(data).hexdigest() == shard.sha256
    assert not (folder / release.STAGING).exists()
    return loaded


def docs(tag: str, n: int) -> list[Document]:
    return [Document(id=f"wikipedia/en/{tag}{i:04d}", text=prose(30, f"{tag}{i}-"),
                     source="wikipedia") for i in range(n)]


def stage_and_commit(folder: str, tag: str, die_at: str | None, rejects: bool = False) -> None:
    """Stage two shards of new documents (and a shard of rejects) and commit them; with
    ``die_at``, SIGKILL this process at that point of the commit (``rename:K``: before the K-th
    rename, ``saved``: after the manifest is written)."""
    def kill() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with release.stage(folder, "wikipedia") as staged:
        new = docs(tag, 40)
        shards = (write_shards(new[:20], staged.shards, "part-00000")
                  + write_shards(new[20:], staged.shards, "part-00001"))
        write_shards(docs(f"{tag}-rejected", 5), staged.rejects, "part-00000")
        entry = manifest.SourceEntry(shards, manifest.Funnel(read=45, kept=40,
                                                             dropped={"x": 5}), {}, {})
        if die_at and die_at.startswith("rename:"):
            renames, rename = [0], os.rename

            def dying_rename(src, dst):
                renames[0] += 1
                if renames[0] == int(die_at.split(":")[1]):
                    kill()
                rename(src, dst)

            os.rename = dying_rename
        if die_at == "saved":
            save = manifest.save
            manifest.save = lambda *args: (save(*args), kill())
        release.commit(staged, entry, keep_rejects=rejects)


@pytest.fixture
def previous(tmp_path) -> Path:
    """A release whose Wikipedia source (with rejects) was committed once, by the same protocol."""
    folder = tmp_path / "release"
    stage_and_commit(str(folder), "old", None, rejects=True)
    assert (folder / "rejects" / "wikipedia").exists()
    return folder


# Renames of a commit over a previous source: 1 moves the old shards aside, 2 moves the new in,
# 3 moves the old rejects aside (the new run keeps none).
@pytest.mark.parametrize("die_at", ["rename:1", "rename:2", "rename:3", "saved"])
def test_a_commit_killed_at_each_point_leaves_a_consistent_release(previous, die_at):
    before = snapshot(previous)
    child = multiprocessing.get_context("fork").Process(
        target=stage_and_commit, args=(str(previous), "new", die_at))
    child.start()
    child.join()
    assert child.exitcode == -signal.SIGKILL
    assert (previous / release.STAGING).exists()  # what the killed commit left

    loaded = assert_consistent(previous)  # load() settles the dead run
    if die_at == "saved":  # the manifest was written: the new source stands
        assert loaded.sources["wikipedia"].documents == 40
        assert not (previous / "rejects" / "wikipedia").exists()
        assert snapshot(previous) != before
    else:
        assert snapshot(previous) == before


def test_a_rerun_that_fails_leaves_the_release_as_it_was(previous):
    before = snapshot(previous)
    with pytest.raises(RuntimeError, match="job failed"), release.stage(str(previous),
                                                                           "wikipedia") as staged:
        write_shards(docs("new", 10), staged.shards, "part-00000")
        raise RuntimeError("job failed")
    assert snapshot(previous) == before
    assert_consistent(previous)


def big_dump(path: Path, pages: int) -> Path:
    return write(path, dump_xml([page_xml(i, f"Page {i}", prose(80, f"w{i}x"))
                                 for i in range(1, pages + 1)]))


def prepare(inputs: list[str], output: Path, *extra: str) -> list[str]:
    return [CLI, "prepare", "wikipedia", "--input", *inputs, "--output", str(output), *extra,
            *IN_PROCESS]


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_rerun_then_a_rerun_from_scratch(tmp_path):
    small = big_dump(tmp_path / "enwiki-small.xml", 30)
    big = big_dump(tmp_path / "enwiki-big.xml.bz2", 20_000)
    folder = tmp_path / "release"
    subprocess.run(prepare([str(small)], folder), check=True, capture_output=True)
    before = snapshot(folder)

    job = subprocess.Popen(prepare([str(big)], folder, "--num-shards", "64"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    staged = folder / release.STAGING / "wikipedia"
    while job.poll() is None and not list(staged.glob("*/data/*.arrow")):
        time.sleep(0.001)
    assert job.poll() is None, "the job ended before its first shard was seen"
    os.killpg(job.pid, signal.SIGKILL)  # the job and any worker it started
    job.wait()
    assert list(staged.glob("*/data/*.arrow"))  # killed with shards staged
    assert_consistent(folder)  # load() removes the dead run's staging
    assert snapshot(folder) == before

    subprocess.run(prepare([str(big)], folder, "--num-shards", "64"), check=True,
                   capture_output=True)
    clean = tmp_path / "clean"
    subprocess.run(prepare([str(big)], clean, "--num-shards", "64"), check=True,
                   capture_output=True)
    rerun, reference = assert_consistent(folder), assert_consistent(clean)
    assert [(s.name, s.sha256) for s in rerun.sources["wikipedia"].shards] == \
        [(s.name, s.sha256) for s in reference.sources["wikipedia"].shards]
    assert rerun.sources["wikipedia"].documents == 20_000


@pytest.mark.slow
def test_a_rerun_over_the_error_budget_leaves_the_release_as_it_was(tmp_path):
    folder = tmp_path / "release"
    subprocess.run(prepare([str(big_dump(tmp_path / "enwiki-small.xml", 30))], folder),
                   check=True, capture_output=True)
    before = snapshot(folder)
    start = dump_xml([page_xml(1, "A", prose(30))]).removesuffix("</mediawiki>").encode()
    bad = write(tmp_path / "enwiki-bad.xml", start + random.Random(0).randbytes(4000))
    failed = subprocess.run(prepare([str(bad)], folder), capture_output=True, text=True,
                            check=False)
    assert failed.returncode == 1 and "above --max-error-rate" in failed.stderr
    assert snapshot(folder) == before
    assert_consistent(folder)


def waiting_for_a_lock() -> set[int]:
    """Processes blocked on a file lock (Linux's /proc/locks: a waiter's line has "->")."""
    lines = Path("/proc/locks").read_text().splitlines()
    return {int(line.split()[5]) for line in lines if line.split()[1] == "->"}


@pytest.mark.slow
def test_two_sources_prepared_at_once_are_both_recorded(tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    wiki = prepare([str(samples.SAMPLES_DIR / "wikipedia" / "*.xml")], folder)
    cc = [CLI, "prepare", "commoncrawl", "--input", str(samples.commoncrawl_sample()),
          "--output", str(folder), *IN_PROCESS]
    staging = folder / release.STAGING
    jobs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for argv in (wiki, cc)]
    while len(list(staging.glob("*/*/.alive"))) < 2 and all(j.poll() is None for j in jobs):
        time.sleep(0.01)
    # Both jobs run; hold the release lock until both wait for it: neither may have committed.
    with open(folder / manifest.LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        while waiting_for_a_lock() < {j.pid for j in jobs} and all(j.poll() is None for j in jobs):
            time.sleep(0.01)
        assert not (folder / manifest.MANIFEST).exists()
    assert [j.wait() for j in jobs] == [0, 0], [j.stderr.read() for j in jobs]
    recorded = assert_consistent(folder)
    assert sorted(recorded.sources) == ["commoncrawl", "wikipedia"]
    assert all(e.documents > 0 for e in recorded.sources.values())
    saved = json.loads((folder / manifest.MANIFEST).read_text())
    assert saved["sources"]["wikipedia"]["run"] != saved["sources"]["commoncrawl"]["run"]


def test_on_an_object_store_the_manifest_is_written_last(tmp_path):
    """fsspec's in-memory filesystem stands for gs:// or s3://: not local, so no rename."""
    import fsspec

    folder = f"memory://{tmp_path.name}/release"
    fs = fsspec.filesystem("memory")

    def commit(tag: str) -> manifest.SourceEntry:
        with release.stage(folder, "wikipedia") as staged:
            shards = write_shards(docs(tag, 10), staged.shards, "part-00000")
            return release.commit(staged, manifest.SourceEntry(
                shards, manifest.Funnel(read=10, kept=10), {}, {}), keep_rejects=False)

    first = commit("old")
    assert first.folder == f"wikipedia/{first.run}"
    with pytest.raises(RuntimeError), release.stage(folder, "wikipedia") as staged:
        write_shards(docs("new", 10), staged.shards, "part-00000")
        raise RuntimeError("the job failed")
    loaded = manifest.load(folder).sources["wikipedia"]
    assert loaded.run == first.run
    assert fs.ls(f"/{tmp_path.name}/release/wikipedia", detail=False) == [
        f"/{tmp_path.name}/release/wikipedia/{first.run}"]

    second = commit("new")
    entry = manifest.load(folder).sources["wikipedia"]
    assert entry.run == second.run != first.run
    for shard in entry.shards:
        data = fs.cat(entry.shard_path(folder, "wikipedia", shard))
        assert hashlib.sha256(data).hexdigest() == shard.sha256
    assert fs.ls(f"/{tmp_path.name}/release/wikipedia", detail=False) == [
        f"/{tmp_path.name}/release/wikipedia/{second.run}"]  # the old run collected
    fs.rm(f"/{tmp_path.name}", recursive=True)
