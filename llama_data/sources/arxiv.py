"""ArXiv LaTeX sources -> one Document per paper, its text the main file with its ``\\input`` and
``\\include`` files inlined, as raw LaTeX (cleaning is a step: :mod:`llama_data.quality.arxiv`).

Inputs:

- arXiv's bulk source archives (``arXiv_src_YYMM_NNN.tar`` in the requester-pays bucket
  ``s3://arxiv/src/``): a tar of ``YYMM/<id>.gz`` files, each a gzipped tar of the paper's files
  or a single gzipped ``.tex`` (told apart by content: a tar header after decompression), and
  ``YYMM/<id>.pdf`` for PDF-only submissions, passed on as an empty Document with
  ``meta["pdf_only"]`` for a step to drop;
- one paper: a folder of its files, or its ``.tar.gz``/``.tgz``/``.tar``/``.gz``.

The main file, among the ``.tex`` files with ``\\documentclass`` (or LaTeX 2.09's
``\\documentstyle``; all ``.tex`` files when none has one), is the first by: having both
``\\begin{document}`` and a sectioning command (standalone figure sources have the first only),
then the most ``\\input``/``\\include`` references, then the largest, then the name (``main.tex``,
``ms.tex``, ``paper.tex``, ... before others, then in sorted order); commented-out text does not
count. ``\\input{x}``, ``\\input x`` and ``\\include{x}`` are replaced by the file ``x.tex`` (or
``x`` when it has an extension), relative to the main file's folder as LaTeX resolves it, from
the paper's own files only: absolute paths and ``..`` are refused, and an input that is refused,
absent, part of a cycle or nested deeper than :data:`MAX_INPUT_DEPTH` is left as written and
listed in ``meta["missing_inputs"]``. Files are decoded as UTF-8, else Latin-1 (which never
fails): ``meta["encoding"]`` says which one the paper needed.

Every Document: ``id`` ``"arxiv/<paper id>"`` (the arXiv id, old-style ones with their slash, or
the folder's or file's name), ``url`` the abstract page when the id is an arXiv id, and ``meta``
exactly ``{"paper_id", "main_file" (None without one), "files" (the paper's file count),
"missing_inputs", "encoding" (None without text), "pdf_only"}``.

Archives are untrusted (see :mod:`llama_data.sources.archives`): unsafe members are refused as
:class:`UnsafeArchiveMember` and the paper read on; a paper that expands past its caps
(:data:`PAPER_LIMITS`) is a :class:`DecompressionBomb` and gives no Document; in a bulk archive the
next paper is read.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import posixpath
import re
import tarfile
from collections.abc import Iterator
from typing import BinaryIO

import fsspec

from llama_data.document import Document
from llama_data.errors import (
    DecompressionBomb,
    InputError,
    MalformedRecord,
    TruncatedInput,
    UnsafeArchiveMember,
)
from llama_data.sources.archives import (
    ARCHIVE_ERRORS,
    ArchiveLimits,
    Budget,
    Counted,
    Member,
    OverLimit,
    guarded,
    members,
    safe_path,
    stream_tar_members,
    tar_members,
)
from llama_data.text.latex import SECTION, comment_start, remove_comments

SOURCE = "arxiv"

# One paper: arXiv caps a submission at 50 MB compressed; its expanded figures may be larger.
PAPER_LIMITS = ArchiveLimits(max_files=10_000, max_expanded_bytes=2 << 30,
                             max_file_bytes=16 << 20)
# A bulk archive is a plain tar of ~500 MB of compressed papers: a member is one paper's .gz.
BULK_LIMITS = ArchiveLimits(max_files=1_000_000, max_expanded_bytes=1 << 40,
                            max_file_bytes=1 << 30)
MAX_INPUT_DEPTH = 16

TEX_SUFFIXES = (".tex", ".ltx", ".latex")
# Files \input may name besides .tex ones (TikZ/PGF figure code); read, never main files.
INPUT_SUFFIXES = (*TEX_SUFFIXES, ".tikz", ".pgf", ".inc")
PREFERRED_NAMES = ("main.tex", "ms.tex", "paper.tex", "article.tex", "manuscript.tex")
BULK_NAME = re.compile(r"(?:^|/)arXiv_src_\d{4}_\d+\.tar$")
PAPER_SUFFIX = re.compile(r"\.(?:tar\.gz|tgz|tar|gz|pdf)$", re.IGNORECASE)
NEW_ID = re.compile(r"\d{4}\.\d{4,5}(?:v\d+)?")
OLD_ID = re.compile(r"([a-z][a-z-]*(?:\.[A-Z]{2})?)/?(\d{7}(?:v\d+)?)")
DOCUMENTCLASS = re.compile(r"\\document(?:class|style)(?![A-Za-z@])")
BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
INPUT = re.compile(r"\\(input|include)(?![A-Za-z@])\s*(?:\{([^{}]*)\}|([^\s{}\\%]+))")
GZIP_MAGIC = b"\x1f\x8b"


def paper_id(name: str) -> tuple[str, bool]:
    """A paper's id from its file or folder name (``astro-ph0001001.gz`` -> ``astro-ph/0001001``,
    as arXiv's bulk archives spell old-style ids), and whether it is an arXiv id."""
    stem = PAPER_SUFFIX.sub("", name.rstrip("/").rsplit("/", 1)[-1])
    if NEW_ID.fullmatch(stem):
        return stem, True
    old = OLD_ID.fullmatch(stem)
    return (f"{old.group(1)}/{old.group(2)}", True) if old else (stem, False)


def decode(data: bytes) -> tuple[str, str]:
    """A LaTeX file's text and its encoding: UTF-8 (a BOM dropped), else Latin-1."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def main_file(texts: dict[str, str]) -> str | None:
    """The paper's main file by the rule in the module's docstring; None without a .tex file."""
    code = {p: remove_comments(t) for p, t in texts.items() if p.lower().endswith(TEX_SUFFIXES)}
    candidates = [p for p, c in code.items() if DOCUMENTCLASS.search(c)] or list(code)

    def rank(path: str) -> tuple:
        c = code[path]
        complete = BEGIN_DOCUMENT.search(c) is not None and SECTION.search(c) is not None
        name = path.rsplit("/", 1)[-1].lower()
        preferred = PREFERRED_NAMES.index(name) if name in PREFERRED_NAMES else len(
            PREFERRED_NAMES)
        return not complete, -len(INPUT.findall(c)), -len(texts[path]), preferred, path
    return min(candidates, key=rank, default=None)


def _commented(text: str, pos: int) -> bool:
    return comment_start(text[text.rfind("\n", 0, pos) + 1:pos]) is not None


def inline_inputs(main: str, texts: dict[str, str]) -> tuple[str, list[str], set[str]]:
    """The main file with its inputs inlined (nested ones too), the inputs left as written, and
    the files used."""
    base = posixpath.dirname(main)
    missing: list[str] = []
    used = {main}

    def resolve(command: str, name: str) -> str | None:
        if name.startswith("/") or ".." in name.split("/"):
            return None
        tried = [name] if name.endswith(".tex") else [f"{name}.tex"] + (
            [name] if command == "input" else [])
        return next((p for t in tried if (p := posixpath.normpath(posixpath.join(base, t)))
                     in texts), None)

    def inline(text: str, stack: tuple[str, ...]) -> str:
        def replace(m: re.Match[str]) -> str:
            if _commented(text, m.start()):
                return m.group()
            name = (m.group(2) if m.group(2) is not None else m.group(3)).strip()
            path = resolve(m.group(1), name)
            if path is None or path in stack or len(stack) > MAX_INPUT_DEPTH:
                missing.append(name)
                return m.group()
            used.add(path)
            content = texts[path]
            return inline(content if content.endswith("\n") else content + "\n", (*stack, path))
        return INPUT.sub(replace, text)

    return inline(texts[main], (main,)), list(dict.fromkeys(missing)), used


def paper_document(pid: str, is_arxiv: bool, files: dict[str, bytes], n_files: int) -> Document:
    """A paper's Document from its readable files (path -> bytes) and its file count."""
    decoded = {p: decode(data) for p, data in files.items()}
    texts = {p: text for p, (text, _) in decoded.items()}
    main = main_file(texts)
    text, missing, used, encoding = "", [], set(), None
    if main is not None:
        text, missing, used = inline_inputs(main, texts)
        encoding = "latin-1" if any(decoded[p][1] == "latin-1" for p in used) else "utf-8"
    return _document(pid, is_arxiv, text, main, n_files, missing, encoding, pdf_only=False)


def _document(pid: str, is_arxiv: bool, text: str, main: str | None, n_files: int,
              missing: list[str], encoding: str | None, pdf_only: bool) -> Document:
    return Document(id=f"{SOURCE}/{pid}", text=text, source=SOURCE,
                    url=f"https://arxiv.org/abs/{pid}" if is_arxiv else None,
                    meta={"paper_id": pid, "main_file": main, "files": n_files,
                          "missing_inputs": missing, "encoding": encoding, "pdf_only": pdf_only})


def _is_tar(head: bytes) -> bool:
    """A tar header: POSIX/GNU magic, or (old v7 tars) a header whose checksum holds."""
    if len(head) < tarfile.BLOCKSIZE:
        return False
    if head[257:262] == b"ustar":
        return True
    try:
        tarfile.TarInfo.frombuf(head[:tarfile.BLOCKSIZE], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def _wanted(name: str) -> bool:
    return name.lower().endswith(INPUT_SUFFIXES)


class _Paper:
    """Reading one paper's files into a Document, its errors named after ``label``."""

    def __init__(self, label: str, name: str, limits: ArchiveLimits):
        self.label = label
        self.pid, self.is_arxiv = paper_id(name)
        self.limits = limits
        self.budget = Budget(limits)

    def read(self, found: Iterator[Member | InputError]) -> Iterator[Document | InputError]:
        """The paper from its members, or the error that stopped it."""
        files: dict[str, bytes] = {}
        n_files = 0
        try:
            with contextlib.closing(found):
                for member in found:
                    self.budget.count_file()
                    if isinstance(member, InputError):
                        yield member
                        continue
                    path = safe_path(member.name)
                    if path is None:
                        yield UnsafeArchiveMember(self.label, "absolute path or '..' refused",
                                                  member.name)
                        continue
                    n_files += 1
                    if (member.data is not None and _wanted(path)
                            and len(member.data) <= self.limits.max_file_bytes):
                        files[path] = member.data
        except OverLimit as e:
            yield DecompressionBomb(self.label, str(e), f"after {self.budget.files} members")
            return
        except InputError as e:
            yield e
            return
        except ARCHIVE_ERRORS as e:
            yield TruncatedInput(self.label, f"archive is truncated or corrupt ({e})",
                                 f"after {self.budget.files} members")
            return
        yield paper_document(self.pid, self.is_arxiv, files, n_files)

    def from_bytes(self, data: bytes) -> Iterator[Document | InputError]:
        """A paper as arXiv serves it: gzipped or not, a tar of its files, a single .tex, or
        a PDF."""
        try:
            head = self._stream(data).read(tarfile.BLOCKSIZE)
            if _is_tar(head):
                yield from self.read(stream_tar_members(self._stream(data), self.label,
                                                        self.budget, _wanted))
                return
            if head.startswith(b"%PDF"):
                yield self.pdf()
                return
            raw = self._stream(data).read(self.limits.max_file_bytes + 1)
        except OverLimit as e:
            yield DecompressionBomb(self.label, str(e))
            return
        except ARCHIVE_ERRORS as e:
            yield TruncatedInput(self.label, f"paper is truncated or corrupt ({e})")
            return
        if len(raw) > self.limits.max_file_bytes:
            yield DecompressionBomb(self.label, f"a single file over "
                                    f"{self.limits.max_file_bytes} bytes")
            return
        yield paper_document(self.pid, self.is_arxiv, {f"{self.pid.replace('/', '')}.tex": raw},
                             1)

    def _stream(self, data: bytes) -> Counted:
        raw: BinaryIO = io.BytesIO(data)
        if data.startswith(GZIP_MAGIC):
            raw = gzip.GzipFile(fileobj=raw, mode="rb")
        return Counted(raw, self.budget)

    def pdf(self) -> Document:
        return _document(self.pid, self.is_arxiv, "", None, 1, [], None, pdf_only=True)


class PaperReader:
    """Iterate one paper (a folder, or its archive or gzipped file): its Document and the errors
    met reading it."""

    def __init__(self, path: str, limits: ArchiveLimits = PAPER_LIMITS):
        self.path = path
        self.limits = limits

    def __iter__(self) -> Iterator[Document | InputError]:
        name = os.path.abspath(self.path) if os.path.isdir(self.path) else self.path
        paper = _Paper(self.path, name, self.limits)
        if os.path.isdir(self.path):
            yield from paper.read(members(self.path, paper.budget, _wanted))
            return
        try:
            with fsspec.open(self.path, "rb") as f:
                data = f.read(BULK_LIMITS.max_file_bytes + 1)
        except OSError as e:
            yield TruncatedInput(self.path, f"cannot be read ({e})")
            return
        if len(data) > BULK_LIMITS.max_file_bytes:
            yield DecompressionBomb(self.path, f"over {BULK_LIMITS.max_file_bytes} bytes")
            return
        yield from paper.from_bytes(data)


class BulkReader:
    """Iterate one of arXiv's bulk source archives: a Document per paper (PDF-only ones flagged),
    and the errors met (a bad paper is skipped, the archive read on)."""

    def __init__(self, path: str, limits: ArchiveLimits = PAPER_LIMITS,
                 bulk_limits: ArchiveLimits = BULK_LIMITS):
        self.path = path
        self.limits = limits
        self.bulk_limits = bulk_limits

    def __iter__(self) -> Iterator[Document | InputError]:
        budget = Budget(self.bulk_limits)
        yield from guarded(self.path, self._papers(budget), budget)

    def _papers(self, budget: Budget) -> Iterator[Document | InputError]:
        with contextlib.closing(tar_members(self.path, budget, _is_paper)) as found:
            for member in found:
                budget.count_file()
                yield from self._paper(member)

    def _paper(self, member: Member | InputError) -> Iterator[Document | InputError]:
        if isinstance(member, InputError):
            yield member
            return
        name = member.name
        paper = _Paper(f"{self.path}:{name}", name, self.limits)
        if safe_path(name) is None:
            yield UnsafeArchiveMember(self.path, "absolute path or '..' refused", name)
        elif name.lower().endswith(".pdf"):
            yield paper.pdf()
        elif not name.lower().endswith(".gz"):
            yield MalformedRecord(self.path, "not a paper's source (.gz) or PDF", name)
        elif member.data is None:
            yield DecompressionBomb(self.path, f"a paper over {self.bulk_limits.max_file_bytes} "
                                    "bytes", name)
        else:
            yield from paper.from_bytes(member.data)


def _is_paper(name: str) -> bool:
    return name.lower().endswith(".gz")


def read_arxiv(path: str, fmt: str = "auto",
               limits: ArchiveLimits = PAPER_LIMITS) -> Iterator[Document | InputError]:
    """One input of an ArXiv job, as ``fmt`` says (``bulk``, ``paper``) or, with ``auto``, as
    its name says: ``arXiv_src_YYMM_NNN.tar`` is a bulk archive, anything else one paper."""
    bulk = fmt == "bulk" or fmt == "auto" and BULK_NAME.search(path) is not None
    return iter(BulkReader(path, limits) if bulk else PaperReader(path, limits))
