"""Reading archives and folders that nobody vouches for (repositories, paper sources, book
collections): nothing is extracted to disk; a member that could reach outside its folder if
extracted (absolute path, ``..``, a link, a device) is refused as UnsafeArchiveMember; the bytes
actually decompressed and the members are counted against caps (a decompression bomb stops at
them); a file over the file cap is listed but not read."""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from typing import BinaryIO, TypeVar

import fsspec

from llama_data.errors import (
    DecompressionBomb,
    InputError,
    MalformedRecord,
    TruncatedInput,
    UnsafeArchiveMember,
)
from llama_data.io import COMPRESSION_ERRORS, open_input

VCS_FOLDERS = frozenset({".git", ".hg", ".svn", ".bzr"})
ARCHIVE_SUFFIX = re.compile(r"\.(?:tar(?:\.(?:gz|bz2|xz))?|tgz|tbz2?|txz|zip)$", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class ArchiveLimits:
    """Caps on one archive or folder. The defaults: GitHub's own 1 MiB cap on the files BigQuery
    holds, and room for the largest real repositories (200,000 files, 4 GiB expanded)."""

    max_files: int = 200_000
    max_expanded_bytes: int = 4 << 30
    max_file_bytes: int = 1 << 20


@dataclasses.dataclass(frozen=True)
class Member:
    """A file of an archive or folder: its stored name, its (claimed) size, and its bytes when
    they were asked for and not over the cap (up to ``max_file_bytes + 1`` of them)."""

    name: str
    size: int
    data: bytes | None


class OverLimit(Exception):
    """Raised inside the reading of an archive when a cap is passed; never leaves this module."""


class Budget:
    """What one pass over an archive has expanded and counted so far, against its caps."""

    def __init__(self, limits: ArchiveLimits):
        self.limits = limits
        self.bytes = 0
        self.files = 0

    def charge(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_expanded_bytes:
            raise OverLimit(f"expands past {self.limits.max_expanded_bytes} bytes")

    def count_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise OverLimit(f"holds more than {self.limits.max_files} files")


class Counted:
    """A decompressed stream that charges every byte it returns to a budget: a tar's headers
    cannot make it decompress more than the cap."""

    def __init__(self, stream: BinaryIO, budget: Budget):
        self.stream = stream
        self.budget = budget

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        self.budget.charge(len(data))
        return data


# What reading an archive raises when it is cut short or damaged.
ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, *COMPRESSION_ERRORS)
Wanted = Callable[[str], bool]




def safe_path(name: str) -> str | None:
    """A member's path inside the repository ('/'-separated, no "." parts), or None when it is
    absolute or climbs out with "..". Backslashes count as separators (zips made on Windows)."""
    parts = [p for p in re.split(r"[\\/]", name) if p not in ("", ".")]
    if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts or not parts:
        return None
    return "/".join(parts)


def in_vcs_folder(path: str) -> bool:
    return any(part in VCS_FOLDERS for part in path.split("/")[:-1])


def _link_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "a device, fifo or socket"


def guarded(path: str, items: Iterator[T], budget: Budget) -> Iterator[T | InputError]:
    """``items`` read from the archive at ``path``, with what stops it turned into the InputError
    that names it: a cap passed (DecompressionBomb), an InputError raised, the archive cut short or
    corrupt (TruncatedInput), each with how many members were read; what came before is kept."""
    try:
        yield from items
    except OverLimit as e:
        read = min(budget.files, budget.limits.max_files)
        yield DecompressionBomb(path, str(e), f"after {read} members")
    except InputError as e:
        yield e
    except ARCHIVE_ERRORS as e:
        yield TruncatedInput(path, f"archive is truncated or corrupt ({e})",
                             f"after {budget.files} members")


def members(path: str, budget: Budget, wanted: Wanted) -> Iterator[Member | InputError]:
    """The files of a folder, a zip or a tar (plain or compressed), in their order: each with its
    bytes when ``wanted`` by name and under the file cap, unsafe ones as UnsafeArchiveMember.
    Raises OverLimit past the budget's caps, ARCHIVE_ERRORS when the archive is cut short."""
    if os.path.isdir(path):
        return folder_members(path, budget, wanted)
    if path.lower().endswith(".zip"):
        return zip_members(path, budget, wanted)
    return tar_members(path, budget, wanted)


def tar_members(path: str, budget: Budget, wanted: Wanted) -> Iterator[Member | InputError]:
    with open_input(path) as stream:
        yield from stream_tar_members(stream, path, budget, wanted)


def stream_tar_members(stream: BinaryIO, path: str, budget: Budget,
                       wanted: Wanted) -> Iterator[Member | InputError]:
    """:func:`tar_members` of a tar already open as a (decompressed) stream, e.g. one member of
    another archive; ``path`` names it in errors."""
    limit = budget.limits.max_file_bytes
    with tarfile.open(fileobj=Counted(stream, budget), mode="r|") as tar:
        for info in tar:
            if info.isdir():
                continue
            if info.issym() or info.islnk():
                kind = "a symbolic link" if info.issym() else "a hard link"
                yield UnsafeArchiveMember(path, f"{kind} to {info.linkname!r} refused", info.name)
            elif not info.isreg():
                yield UnsafeArchiveMember(path, "a device or fifo refused", info.name)
            else:
                read = wanted(info.name) and info.size <= limit
                yield Member(info.name, info.size, tar.extractfile(info).read() if read else None)


def zip_members(path: str, budget: Budget, wanted: Wanted) -> Iterator[Member | InputError]:
    limit = budget.limits.max_file_bytes
    with fsspec.open(path, "rb") as raw, zipfile.ZipFile(raw) as archive:
        for info in archive.infolist():
            # The Unix file type, when the zip records one (not from Windows or Python's writestr).
            mode = stat.S_IFMT(info.external_attr >> 16)
            if info.is_dir():
                continue
            if mode and mode != stat.S_IFREG:
                yield UnsafeArchiveMember(path, f"{_link_kind(mode)} refused", info.filename)
                continue
            data = None
            if wanted(info.filename) and info.file_size <= limit:
                try:
                    with archive.open(info) as member:
                        data = member.read(limit + 1)  # the size in the header may lie
                except (zipfile.BadZipFile, *COMPRESSION_ERRORS) as e:
                    yield TruncatedInput(path, f"member is corrupt ({e})", info.filename)
                    continue
                except (RuntimeError, NotImplementedError) as e:  # encrypted, unknown method
                    yield MalformedRecord(path, f"member cannot be read ({e})", info.filename)
                    continue
                budget.charge(len(data))
            yield Member(info.filename, info.file_size, data)


def folder_members(root: str, budget: Budget, wanted: Wanted) -> Iterator[Member | InputError]:
    """A folder's files in sorted order. A symbolic link is read through only when it stays inside
    the folder, and then not at all: its target is read under its own name."""
    limit = budget.limits.max_file_bytes
    real_root = os.path.realpath(root)
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in VCS_FOLDERS)
        for name in sorted(files) + [d for d in subfolders if os.path.islink(f"{folder}/{d}")]:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                target = os.path.realpath(full)
                if os.path.commonpath([real_root, target]) != real_root:
                    yield UnsafeArchiveMember(root, f"a symbolic link out of the repository "
                                              f"({os.readlink(full)!r}) refused", rel)
            elif stat.S_ISREG(mode):
                size = os.stat(full).st_size
                data = None
                if wanted(rel) and size <= limit:
                    with open(full, "rb") as f:
                        data = f.read(limit + 1)
                    budget.charge(len(data))
                yield Member(rel, size, data)
            elif not stat.S_ISDIR(mode):
                yield UnsafeArchiveMember(root, f"{_link_kind(mode)} refused", rel)
