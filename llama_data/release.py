"""Replacing one source of a release as a whole, so that readers never see a mix of two runs.

A run writes into a staging area of its own and touches what readers see only once it has
succeeded. The manifest is the single truth: a reader (``manifest.load``) reads exactly the shards
its entry lists, at ``RELEASE/<entry.folder>/<shard.name>``, each with its sha256.

**Local filesystem** (rename is atomic). A run stages in ``RELEASE/.staging/<source>/<run>/``
(``data/`` its shards, ``rejects/`` its rejected documents, ``*.jsonl`` its reports), created
under the release lock with an ``.alive`` file the run holds an flock on as long as it lives (the
kernel drops it when the process exits or is killed). On success, under the release lock
(``flock`` on ``RELEASE/.lock``):

1. write ``swap.json`` (atomically) into the run's folder: each (new, final, aside) folder;
2. rename ``RELEASE/<source>`` to ``<run>/old-data`` (and the rejects alike);
3. rename ``<run>/data`` to ``RELEASE/<source>``;
4. write ``manifest.json`` (temp file + rename) with the new entry, which names ``<run>``;
5. remove ``<run>/`` (the old shards with it).

Recovery (at the next run's start and commit, and at every ``manifest.load`` while a staging
folder exists) settles each run whose ``.alive`` lock no process holds:

- no ``swap.json`` (killed or failed before step 1): the release was never touched; remove it;
- ``swap.json`` and the manifest names the run (killed after step 4): remove it (step 5);
- ``swap.json`` and the manifest does not name the run (killed after 1, 2 or 3): roll back, each
  folder in turn: a final folder whose new one is gone is the new one (step 3 done): moved back;
  an aside folder is the old one: renamed to its final place. Then remove the run's folder.

Every kill point thus ends with the manifest and the shards it names agreeing. Between steps 2 and
3 the source's folder is absent for the time of one rename: a reader that opened the manifest
just before sees a missing file, never a wrong one (and ``manifest.load`` waits for the lock).

**Object stores** (gs://, s3://: a rename is a copy, there is no lock). Manifest last: a run
writes its shards into a folder of its own, ``RELEASE/<source>/<run>/``, and commits by writing
``manifest.json`` in one PUT (all or nothing) with an entry whose ``folder`` is that folder; then
every other folder under ``RELEASE/<source>/`` (older runs, killed runs) is deleted. A killed or
failed run leaves only unlisted files, removed at the source's next commit. One writer per
release there: two concurrent commits can lose one manifest update.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator

import fsspec
from fsspec.implementations.local import LocalFileSystem

from llama_data import manifest as manifest_lib
from llama_data.io import atomic_path

STAGING = ".staging"
JOURNAL = "swap.json"
ALIVE = ".alive"


def is_local(url: str) -> bool:
    return isinstance(fsspec.core.url_to_fs(url)[0], LocalFileSystem)


@dataclasses.dataclass(frozen=True)
class Stage:
    """Where one run of one source writes; ``folder`` is its shards' folder, relative to the
    release, once committed."""

    release: str
    source: str
    run: str
    local: bool

    @property
    def root(self) -> str:
        return f"{self.release}/{STAGING}/{self.source}/{self.run}"

    @property
    def folder(self) -> str:
        return self.source if self.local else f"{self.source}/{self.run}"

    @property
    def shards(self) -> str:
        return f"{self.root}/data" if self.local else f"{self.release}/{self.folder}"

    @property
    def rejects(self) -> str:
        return f"{self.root}/rejects" if self.local else f"{self.release}/rejects/{self.folder}"

    def swaps(self, keep_rejects: bool) -> list[dict[str, str | None]]:
        """(new, final, aside) folders of a local commit; rejects of an earlier run are removed
        when this one keeps none (they would describe other shards)."""
        return [{"new": self.shards, "final": f"{self.release}/{self.source}",
                 "aside": f"{self.root}/old-data"},
                {"new": self.rejects if keep_rejects else None,
                 "final": f"{self.release}/rejects/{self.source}",
                 "aside": f"{self.root}/old-rejects"}]


def new_run_id() -> str:
    """Sortable by start time, unique across processes."""
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def stage(release: str, source: str) -> Iterator[Stage]:
    """A fresh staging area for one run of ``source``; settled when the block ends: a run that
    did not commit leaves the release as it was."""
    staged = Stage(release.rstrip("/"), source, new_run_id(), is_local(release))
    if not staged.local:
        try:
            yield staged
        except BaseException:
            _remove_remote(staged.shards, staged.rejects)
            raise
        finally:
            _remove_remote(staged.root)
        return
    with manifest_lib.locked(staged.release):
        _recover_locked(staged.release)
        os.makedirs(staged.shards)
        os.makedirs(staged.rejects)
        alive = open(f"{staged.root}/{ALIVE}", "w")  # noqa: SIM115 (held until the run ends)
        fcntl.flock(alive, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        yield staged
    finally:
        with manifest_lib.locked(staged.release):
            _settle(staged.root, manifest_lib.read(staged.release, missing_ok=True))
            _remove_empty_staging(staged.release)
        alive.close()


def commit(staged: Stage, entry: manifest_lib.SourceEntry,
           keep_rejects: bool) -> manifest_lib.SourceEntry:
    """Swap the staged run in as ``staged.source``'s shards and manifest entry (see the module's
    docstring); returns ``entry`` as recorded, with the run's folder and id."""
    entry = dataclasses.replace(entry, folder=staged.folder, run=staged.run)
    entry.funnel.check()
    with manifest_lib.locked(staged.release):
        manifest = manifest_lib.read(staged.release, missing_ok=True)
        if staged.local:
            swaps = staged.swaps(keep_rejects)
            with atomic_path(f"{staged.root}/{JOURNAL}") as tmp:
                tmp.write_text(json.dumps(swaps), encoding="utf-8")
            for swap in swaps:
                _swap_in(**swap)
        manifest.sources[staged.source] = entry
        manifest_lib.save(staged.release, manifest)
        if not staged.local:
            _collect_garbage(staged)
    return entry


def recover(release: str) -> None:
    """Settle the runs that died while staging or swapping (see the module's docstring)."""
    if is_local(release) and os.path.isdir(f"{release.rstrip('/')}/{STAGING}"):
        with manifest_lib.locked(release):
            _recover_locked(release.rstrip("/"))


def _recover_locked(release: str) -> None:
    staging = f"{release}/{STAGING}"
    if not os.path.isdir(staging):
        return
    manifest = manifest_lib.read(release, missing_ok=True)
    for source in sorted(os.listdir(staging)):
        for run in sorted(os.listdir(f"{staging}/{source}")):
            if not _alive(f"{staging}/{source}/{run}"):
                _settle(f"{staging}/{source}/{run}", manifest)
    _remove_empty_staging(release)


def _alive(root: str) -> bool:
    """Whether a live process holds the run's ``.alive`` lock."""
    try:
        with open(f"{root}/{ALIVE}", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except FileNotFoundError:  # not created yet, or the run's folder is being removed
        return False
    return False


def _settle(root: str, manifest: manifest_lib.Manifest) -> None:
    """End a run: roll its swap back unless the manifest names it, then remove its folder."""
    source, run = root.rstrip("/").split("/")[-2:]
    entry = manifest.sources.get(source)
    if os.path.exists(f"{root}/{JOURNAL}") and (entry is None or entry.run != run):
        with open(f"{root}/{JOURNAL}", encoding="utf-8") as f:
            for swap in reversed(json.load(f)):
                _roll_back(**swap)
    shutil.rmtree(root, ignore_errors=True)


def _swap_in(new: str | None, final: str, aside: str) -> None:
    if os.path.exists(final):
        os.rename(final, aside)
    if new is not None:
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.rename(new, final)


def _roll_back(new: str | None, final: str, aside: str) -> None:
    if new is not None and not os.path.exists(new) and os.path.exists(final):
        os.rename(final, new)
    if os.path.exists(aside):
        os.rename(aside, final)


def _remove_empty_staging(release: str) -> None:
    staging = f"{release}/{STAGING}"
    for folder in ([f"{staging}/{s}" for s in os.listdir(staging)]
                   if os.path.isdir(staging) else []) + [staging, f"{release}/rejects"]:
        with contextlib.suppress(OSError):  # not empty, or already gone
            os.rmdir(folder)


def _collect_garbage(staged: Stage) -> None:
    """On an object store, after the manifest names ``staged``: every other run's files of the
    source (older runs, killed runs) go."""
    fs, base = fsspec.core.url_to_fs(staged.release)
    for parent in (f"{base}/{staged.source}", f"{base}/rejects/{staged.source}",
                   f"{base}/{STAGING}/{staged.source}"):
        if fs.exists(parent):
            for path in fs.ls(parent, detail=False):
                if path.rstrip("/").rsplit("/", 1)[-1] != staged.run:
                    fs.rm(path, recursive=True)


def _remove_remote(*urls: str) -> None:
    for url in urls:
        fs, path = fsspec.core.url_to_fs(url)
        if fs.exists(path):
            fs.rm(path, recursive=True)
