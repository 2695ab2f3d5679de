"""GitHub code -> one Document per file, from the BigQuery ``github_repos`` export (as LLaMA) or
from repositories on disk: folders and archives (.tar, .tar.gz/.tgz, .tar.bz2, .tar.xz, .zip).

The BigQuery export, as JSON lines (``{"repo_name", "path", "content", "license"}``, gzipped):

.. code-block:: sql

    EXPORT DATA OPTIONS (uri = 'gs://BUCKET/github/part-*.json.gz', format = 'JSON',
                         compression = 'GZIP') AS
    SELECT f.repo_name, f.path, c.content, l.license
    FROM `bigquery-public-data.github_repos.files` AS f
    JOIN `bigquery-public-data.github_repos.contents` AS c ON f.id = c.id
    JOIN `bigquery-public-data.github_repos.licenses` AS l ON f.repo_name = l.repo_name
    WHERE NOT c.binary AND c.content IS NOT NULL

(``contents`` holds files under 1 MiB; a file on several branches comes once per branch, which the
exact dedup step removes.)

Every Document: ``id`` from the repository and the path, ``text`` the file's content and ``meta``
``{"repo", "path", "licenses" (SPDX ids, [] if none recognised), "license_file" (the file the
licence was read from, "bigquery", or None), "size" (bytes)}``, plus ``"undecodable"`` (why) with an
empty text when the bytes are not UTF-8 text: the readers drop nothing, the filter steps count such
files. Bad input is yielded as an :class:`InputError` and reading goes on.

Archives are untrusted. Nothing is extracted to disk: tars stream (read twice, a first pass for the
root licence files and the common top folder, a second for the files), zips and folders are read
by name. Members that could reach outside the repository if extracted are refused, files over
:attr:`ArchiveLimits.max_file_bytes` are passed on unread (``meta["too_large"]``, for the steps to
drop as ``code:too_large``: a data decision, not bad input), and the bytes actually decompressed
and the files are capped (:class:`DecompressionBomb` stops the archive): see
:mod:`llama_data.sources.archives`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from llama_data.document import Document
from llama_data.errors import (
    InputError,
    InvalidEncoding,
    MalformedRecord,
    UnsafeArchiveMember,
)
from llama_data.quality.licenses import (
    LICENSE_FILE,
    RepoLicense,
    repository_license,
    spdx_from_github_key,
)
from llama_data.sources.archives import (
    ARCHIVE_ERRORS,
    ARCHIVE_SUFFIX,
    ArchiveLimits,
    Budget,
    Member,
    OverLimit,
    guarded,
    in_vcs_folder,
    members,
    safe_path,
)
from llama_data.sources.jsonl import JsonLinesReader

SOURCE = "github"

_OWNER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")


def document_id(repo: str, path: str) -> str:
    """Stable across reruns and mirrors: the repository and the path inside it."""
    key = f"{repo}\n{path}"
    return f"{SOURCE}/{hashlib.sha1(key.encode()).hexdigest()[:20]}"


def file_url(repo: str, path: str) -> str | None:
    """The file on github.com when ``repo`` is an owner/name, else None (a folder's own name)."""
    return f"https://github.com/{repo}/blob/HEAD/{quote(path)}" if _OWNER_NAME.match(repo) else None


def decode(data: bytes) -> tuple[str, str | None]:
    """The text of a file, or "" and why it is not UTF-8 text (NUL bytes mark binaries)."""
    if b"\x00" in data:
        return "", "NUL bytes"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return "", f"invalid UTF-8 at byte {e.start}"


def file_document(repo: str, path: str, data: bytes | None, licenses: tuple[str, ...],
                  license_file: str | None, size: int | None = None) -> Document:
    """A file as a Document; ``data`` None for a file left unread (over the size cap), which
    the steps drop as too large."""
    text, undecodable = decode(data) if data is not None else ("", None)
    meta: dict[str, Any] = {"repo": repo, "path": path, "licenses": list(licenses),
                            "license_file": license_file,
                            "size": len(data) if data is not None else size}
    if undecodable:
        meta["undecodable"] = undecodable
    if data is None:
        meta["too_large"] = True
    return Document(id=document_id(repo, path), text=text, source=SOURCE,
                    url=file_url(repo, path), meta=meta)


class BigQueryReader(JsonLinesReader):
    """Iterate one file of the BigQuery export: a Document per line, or an :class:`InputError`."""

    def from_record(self, record: Any, where: str) -> Document | InputError:
        if not (isinstance(record, dict)
                and all(isinstance(record.get(k), str) for k in ("repo_name", "path", "content"))):
            return MalformedRecord(self.path, "not a github_repos record (an object with string "
                                   "'repo_name', 'path' and 'content')", where)
        try:
            data = record["content"].encode("utf-8")
        except UnicodeEncodeError as e:
            return InvalidEncoding(self.path, f"content is not UTF-8 (lone surrogate at character "
                                   f"{e.start})", where)
        licenses = bigquery_licenses(record)
        return file_document(record["repo_name"], record["path"], data, licenses,
                             "bigquery" if licenses else None)


def bigquery_licenses(record: dict[str, Any]) -> tuple[str, ...]:
    """SPDX ids of a record's ``license`` key, or of its ``licenses`` list (an export that
    aggregated them), GitHub keys it does not know left out."""
    keys = record.get("licenses") or [record.get("license")]
    if not isinstance(keys, list):
        return ()
    spdx = (spdx_from_github_key(k) for k in keys if isinstance(k, str))
    return tuple(sorted({s for s in spdx if s}))


def repository_name(path: str) -> str:
    """A folder's or archive's name without its archive extensions ("." names the folder)."""
    path = os.path.abspath(path) if os.path.isdir(path) else path.rstrip("/")
    return ARCHIVE_SUFFIX.sub("", path.rsplit("/", 1)[-1])


def _root_candidate(name: str) -> bool:
    """A possible root licence file: at the top, or one folder down (under GitHub's
    ``owner-repo-sha/``, which is known to be stripped only once every name has been seen)."""
    path = safe_path(name)
    return path is not None and path.count("/") <= 1 and bool(
        LICENSE_FILE.match(path.rsplit("/", 1)[-1]))


class RepositoryReader:
    """Iterate one repository (a folder or an archive): a Document per file, or an
    :class:`InputError` (unsafe member, file over the cap, bomb, truncated archive)."""

    def __init__(self, path: str, limits: ArchiveLimits = ArchiveLimits()):
        self.path = path
        self.limits = limits
        self.repo = repository_name(path)

    def __iter__(self) -> Iterator[Document | InputError]:
        top, licence = self._survey()
        budget = Budget(self.limits)
        yield from guarded(self.path, self._files(budget, top, licence), budget)

    def _files(self, budget: Budget, top: str | None,
               licence: RepoLicense) -> Iterator[Document | InputError]:
        with contextlib.closing(members(self.path, budget, self._wanted)) as found:
            for member in found:
                yield from self._outcome(member, budget, top, licence)

    def _outcome(self, member: Member | InputError, budget: Budget, top: str | None,
                 licence: RepoLicense) -> Iterator[Document | InputError]:
        if isinstance(member, InputError):
            budget.count_file()
            yield member
            return
        path = safe_path(member.name)
        if path is not None and in_vcs_folder(path):
            return
        budget.count_file()
        if path is None:
            yield UnsafeArchiveMember(self.path, "absolute path or '..' refused", member.name)
        else:
            path = path[len(top) + 1:] if top else path
            data = member.data
            if data is not None and len(data) > self.limits.max_file_bytes:
                data = None
            yield file_document(self.repo, path, data, licence.spdx, licence.file, member.size)

    def _wanted(self, name: str) -> bool:
        path = safe_path(name)
        return path is not None and not in_vcs_folder(path)

    def _survey(self) -> tuple[str | None, RepoLicense]:
        """First pass: the top folder every file sits under (None if not one), and the licence of
        the root candidate files. Errors are left to the second pass, which meets them again."""
        tops: set[str] = set()
        flat = False
        candidates: dict[str, bytes] = {}
        budget = Budget(self.limits)
        with contextlib.suppress(OverLimit, InputError, *ARCHIVE_ERRORS), \
                contextlib.closing(members(self.path, budget, _root_candidate)) as found:
            for member in found:
                budget.count_file()
                path = None if isinstance(member, InputError) else safe_path(member.name)
                if path is None or in_vcs_folder(path):
                    continue
                head, _, rest = path.partition("/")
                flat = flat or not rest
                if len(tops) < 2:
                    tops.add(head)
                if member.data is not None and len(member.data) <= self.limits.max_file_bytes:
                    candidates[path] = member.data
        top = tops.pop() if len(tops) == 1 and not flat else None
        root = {(p[len(top) + 1:] if top else p): data for p, data in candidates.items()}
        texts = {p: data.decode("utf-8", "replace") for p, data in root.items() if "/" not in p}
        return top, repository_license(texts)


BIGQUERY_SUFFIX = re.compile(r"\.jsonl?(?:\.(?:gz|bz2|xz))?$", re.IGNORECASE)


def read_github(path: str, fmt: str = "auto",
                limits: ArchiveLimits = ArchiveLimits()) -> Iterator[Document | InputError]:
    """One input of a GitHub job, as ``fmt`` says (``bigquery``, ``repository``) or, with
    ``auto``, as its name says: JSON lines are the BigQuery export, anything else a repository."""
    bigquery = fmt == "bigquery" or fmt == "auto" and BIGQUERY_SUFFIX.search(path) is not None
    return iter(BigQueryReader(path) if bigquery else RepositoryReader(path, limits))
