"""Books -> one Document per book: Project Gutenberg plain-text files (``1342-0.txt``,
``pg1342.txt``, ``1342-8.txt``, gzipped, or Gutenberg's ``1342.zip``) and Books3-style collections
(a tarball or folder of ``.txt``, one book per file, or The Pile's JSON lines ``{"text", "meta":
{"pile_set_name": "Books3"}}``).

Project Gutenberg's licence boilerplate is cut by line markers (:func:`strip_gutenberg`): the
header ends at ``*** START OF THE PROJECT GUTENBERG EBOOK ...`` (current), ``*** START OF THIS
PROJECT GUTENBERG EBOOK ...`` (2000s) or ``*END*THE SMALL PRINT!`` (1990s), the footer begins at
``End of the Project Gutenberg ...`` / ``*** END OF ...`` (or, without either, the full licence).
The markers are the line-initial ones that gutenberg's own cleaner lists (github:c-w/gutenberg,
``gutenberg/_domain_model/text.py`` as used by ``gutenberg/cleanup/strip_headers.py``, commit
123d134), less the loose ones (``The Project Gutenberg``, ``Produced by``, ``by Project
Gutenberg``) that also begin lines of books; a ``Produced by`` credits paragraph is cut only right
after the START line. The cleaner runs on every book of every collection: Books3 holds epubs made
from Gutenberg texts, licence included, and a book without markers is left as it is.

Every Document: ``id`` ``books/<collection>/<key>`` (namespaced, so Gutenberg's and Books3's never
collide, as RedPajama's did), ``url`` the Gutenberg page when the ebook id is known, and ``meta``
exactly ``{"collection", "title", "author", "ebook_id", "language", "encoding",
"boilerplate_removed", "path"}``. Bad input (a truncated archive, an unsafe member, a bomb, a book
over the size cap, a bad JSON line) is yielded as an :class:`InputError` and reading goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from typing import Any

from llama_data.document import Document
from llama_data.errors import (
    FileTooLarge,
    InputError,
    InvalidEncoding,
    MalformedRecord,
    NotABook,
    TruncatedInput,
    UnsafeArchiveMember,
)
from llama_data.io import COMPRESSION_ERRORS, open_input
from llama_data.sources.archives import (
    ARCHIVE_SUFFIX,
    ArchiveLimits,
    Budget,
    Member,
    guarded,
    members,
    safe_path,
)
from llama_data.sources.jsonl import JsonLinesReader

SOURCE = "books"
GUTENBERG = "gutenberg"
BOOKS3 = "books3"

# Books3 as released: 196,640 books, about 100 GB of text, the longest some tens of MB; a "book"
# over 64 MiB (ten million words) is a concatenation or garbage, and would be held in memory.
BOOK_LIMITS = ArchiveLimits(max_files=500_000, max_expanded_bytes=256 << 30,
                            max_file_bytes=64 << 20)

# Gutenberg's START markers are looked for in a book's first lines only (gutenberg's cleaner: 600).
HEADER_LINES = 600

_START = re.compile(r"(?im)^[ \t]*(?:\*{3}[ \t]*START OF (?:THE |THIS )?(?:COPYRIGHTED )?"
                    r"PROJECT GUTENBERG|\*END\*?[ \t]*THE SMALL PRINT).*$")
_END = re.compile(r"(?im)^[ \t]*(?:\*{3}[ \t]*)?(?:END OF (?:THE |THIS )?(?:COPYRIGHTED )?PROJECT "
                  r"GUTENBERG|ENDE? DIESE[SR]? PROJE(?:CT|KT) GUTENBERG|FIN DE PROJECT GUTENBERG"
                  r"|\*{3}[ \t]*START: FULL LICENSE)")
_CREDITS = re.compile(r"(?is)\s*(?:Produced by|E-?text prepared by|This "
                      r"e-?(?:text|book) was (?:prepared|produced) by|Transcribed from)\b"
                      r".*?(?:\n[ \t]*\n|\Z)")
_FIELD = re.compile(r"(?im)^(Title|Author|Language)[ \t]*:[ \t]*(.*(?:\n[ \t]+\S.*)*)")
_EBOOK_ID = re.compile(r"(?i)\[\s*E-?(?:BOOK|TEXT)\s*#\s*(\d+)\s*\]")
_FIRST_LINE = re.compile(r"(?im)^[ \t*]*(?:The )?Project Gutenberg'?s? (?:E-?Book|E-?Text) of (.+?)"
                         r"(?:, by (.+?))?[ \t*]*$")
_FILE_EBOOK_ID = re.compile(r"(?i)^(?:pg)?(\d+)(?:-\d)?\.")
_BOOK_SUFFIX = re.compile(r"(?i)(?:\.(?:epub|mobi|azw3?|pdf|docx?|rtf|html?|fb2))*\.txt"
                          r"(?:\.(?:gz|bz2|xz))?$")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")

# The Pile's sets that are books, and the collection each stands for.
PILE_COLLECTIONS = {"Books3": BOOKS3, "Gutenberg (PG-19)": GUTENBERG}


def normalize(text: str) -> str:
    """Without a byte-order mark and with ``\\n`` line ends: editions of one book compare equal."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def strip_gutenberg(text: str) -> tuple[str, dict[str, Any]]:
    """A book without Project Gutenberg's header, credits line and footer, and what the header
    says: ``{"title", "author", "ebook_id" (int), "language"}`` (None where it is silent) and
    ``"boilerplate_removed"`` (characters cut). Line ends are normalised and blank lines at
    both ends dropped; a book without markers is otherwise returned as it is."""
    text = normalize(text)
    header, start = _header(text)
    if start:
        credits = _CREDITS.match(text, start)
        start = credits.end() if credits else start
    footer = _END.search(text, start)
    end = footer.start() if footer else len(text)
    fields = header_fields(header)
    fields["boilerplate_removed"] = start + len(text) - end
    return _LEADING_BLANK_LINES.sub("", text[start:end]).rstrip(), fields


def _header(text: str) -> tuple[str, int]:
    """The header before the last START marker of the first lines, and where the book begins
    (0 and "" when there is none)."""
    window = -1
    for _ in range(HEADER_LINES):
        window = text.find("\n", window + 1)
        if window < 0:
            window = len(text)
            break
    starts = list(_START.finditer(text, 0, window))
    if not starts:
        return "", 0
    last = starts[-1]
    return text[:last.start()], min(last.end() + 1, len(text))


def header_fields(header: str) -> dict[str, Any]:
    """Title, author, language and ebook id from a Gutenberg header's ``Field: value`` lines
    (a value may go on over indented lines), else title and author from its first line
    (``The Project Gutenberg EBook of <title>, by <author>``)."""
    fields: dict[str, Any] = {"title": None, "author": None, "ebook_id": None, "language": None}
    for match in _FIELD.finditer(header):
        key, value = match.group(1).lower(), " ".join(match.group(2).split())
        if value and fields[key] is None:
            fields[key] = value
    first = _FIRST_LINE.search(header)
    if first and fields["title"] is None:
        fields["title"] = first.group(1).strip()
    if first and fields["author"] is None and first.group(2):
        fields["author"] = first.group(2).strip()
    ebook = _EBOOK_ID.search(header)
    fields["ebook_id"] = int(ebook.group(1)) if ebook else None
    return fields


def decode_book(data: bytes) -> tuple[str, str] | None:
    """The text and the encoding it was read with: a byte-order mark's, else UTF-8, else
    Windows-1252 (Gutenberg's old ``-8.txt`` files are Latin-1, of which cp1252 is the superset
    that editors wrote), else Latin-1 (never fails). None for NUL bytes: not a text file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-16"), "utf-16"
    if b"\x00" in data:
        return None
    for encoding in ("utf-8", "cp1252"):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode(encoding), encoding
    return data.decode("latin-1"), "latin-1"


def ebook_id_from_name(name: str) -> int | None:
    """The ebook id in a Gutenberg file name: ``pg1342.txt``, ``1342-0.txt``, ``1342-8.txt``,
    ``1342.zip``."""
    match = _FILE_EBOOK_ID.match(name.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else None


def title_from_name(name: str) -> str:
    """A Books3 file's title: its name without folders and ``.epub.txt``-like suffixes."""
    return _BOOK_SUFFIX.sub("", name.rsplit("/", 1)[-1]).strip() or name


def document_id(collection: str, key: str) -> str:
    return f"{SOURCE}/{collection}/{key}"


def book_document(text: str, collection: str, key: str, path: str, encoding: str,
                  title: str | None = None, ebook_id: int | None = None) -> Document:
    """A book as a Document, its boilerplate cut; what the header says wins over ``title`` and
    ``ebook_id`` (from a file name). A Gutenberg book's key is prefixed by its ebook id when
    known (``books/gutenberg/1342/1342-0.txt``): the editions of one ebook are distinct files,
    which the dedup step removes."""
    body, fields = strip_gutenberg(text)
    ebook = fields["ebook_id"] if fields["ebook_id"] is not None else ebook_id
    meta = {"collection": collection, "title": fields["title"] or title,
            "author": fields["author"], "ebook_id": ebook, "language": fields["language"],
            "encoding": encoding, "boilerplate_removed": fields["boilerplate_removed"],
            "path": path}
    gutenberg = collection == GUTENBERG and ebook is not None
    return Document(id=document_id(collection, f"{ebook}/{key}" if gutenberg else key),
                    text=body, source=SOURCE,
                    url=f"https://www.gutenberg.org/ebooks/{ebook}" if gutenberg else None,
                    meta=meta)


def _hashed(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:20]


def file_book(data: bytes, collection: str, path: str, member: str | None = None,
              fallback_ebook_id: int | None = None) -> Document | InputError:
    """One book file (``member`` of the folder or archive ``path``, or ``path`` itself) as a
    Document. A Gutenberg book's key is its file name; a Books3 book's, a hash of its path inside
    the collection (names there are long, and of any characters)."""
    decoded = decode_book(data)
    if decoded is None:
        return InvalidEncoding(path, "NUL bytes: not a text file", member)
    text, encoding = decoded
    name = member or path.rsplit("/", 1)[-1]
    where = f"{path}/{member}" if member else path
    if collection == GUTENBERG:
        return book_document(text, collection, name.rsplit("/", 1)[-1], where, encoding,
                             ebook_id=ebook_id_from_name(name) or fallback_ebook_id)
    return book_document(text, collection, _hashed(name), where, encoding,
                         title=title_from_name(name))


def single_book(path: str, collection: str,
                limits: ArchiveLimits = BOOK_LIMITS) -> Iterator[Document | InputError]:
    """A file that is one book (plain or compressed), read up to the file cap."""
    try:
        with open_input(path) as stream:
            data = stream.read(limits.max_file_bytes + 1)
    except InputError as e:
        yield e
        return
    except COMPRESSION_ERRORS as e:
        yield TruncatedInput(path, f"compressed stream is truncated or corrupt ({e})")
        return
    yield _too_large(path, limits) if len(data) > limits.max_file_bytes else file_book(
        data, collection, path)


def _too_large(path: str, limits: ArchiveLimits, name: str | None = None) -> FileTooLarge:
    return FileTooLarge(path, f"over {limits.max_file_bytes} bytes, not read", name)


def archive_books(path: str, collection: str, limits: ArchiveLimits = BOOK_LIMITS,
                  fallback_ebook_id: int | None = None) -> Iterator[Document | InputError]:
    """The ``.txt`` books of a folder, tar or zip, read through :mod:`archives`' safe members:
    other files are passed over (counted against the file cap), unsafe ones refused."""
    budget = Budget(limits)

    def wanted(name: str) -> bool:
        return name.lower().endswith(".txt") and safe_path(name) is not None

    def books() -> Iterator[Document | InputError]:
        with contextlib.closing(members(path, budget, wanted)) as found:
            for member in found:
                budget.count_file()
                if isinstance(member, InputError):
                    yield member
                elif safe_path(member.name) is None:
                    yield UnsafeArchiveMember(path, "absolute path or '..' refused", member.name)
                elif wanted(member.name):
                    yield _member_book(path, member, collection, limits, fallback_ebook_id)

    yield from guarded(path, books(), budget)


def _member_book(path: str, member: Member, collection: str, limits: ArchiveLimits,
                 fallback_ebook_id: int | None) -> Document | InputError:
    name = safe_path(member.name) or member.name
    if member.data is None or len(member.data) > limits.max_file_bytes:
        return _too_large(path, limits, name)
    return file_book(member.data, collection, path, name, fallback_ebook_id)


class GutenbergReader:
    """Iterate one Gutenberg file: a plain-text book (``.txt``, or gzipped), or a ``.zip`` of
    one; ebook id from the header, else from the file's (or the zip's) name."""

    def __init__(self, path: str, limits: ArchiveLimits = BOOK_LIMITS):
        self.path = path
        self.limits = limits

    def __iter__(self) -> Iterator[Document | InputError]:
        if self.path.lower().endswith(".zip"):
            return archive_books(self.path, GUTENBERG, self.limits, ebook_id_from_name(self.path))
        return single_book(self.path, GUTENBERG, self.limits)


class PileReader(JsonLinesReader):
    """Iterate one JSON-lines file of books (The Pile's ``{"text", "meta": {"pile_set_name"}}``):
    a Document per line; a record of a Pile set that is not books is :class:`NotABook`."""

    def from_record(self, record: Any, where: str) -> Document | InputError:
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            return MalformedRecord(self.path, "not a book record (an object with a string "
                                   "'text')", where)
        meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
        set_name = meta.get("pile_set_name", "Books3")
        if not isinstance(set_name, str) or set_name not in PILE_COLLECTIONS:
            return NotABook(self.path, f"a record of The Pile's {set_name!r} set", where)
        title = meta.get("title") if isinstance(meta.get("title"), str) else None
        name = self.path.rsplit("/", 1)[-1]
        return book_document(record["text"], PILE_COLLECTIONS[set_name],
                             _hashed(f"{name}\n{self.lines}"), f"{self.path}:{self.lines}",
                             "utf-8", title=title)


JSONL_SUFFIX = re.compile(r"(?i)\.jsonl?(?:\.(?:gz|bz2|xz))?$")


class Books3Reader:
    """Iterate one Books3-style collection: a tarball, zip or folder of ``.txt`` books (title from
    the file name), JSON lines, or one book's file (an extracted collection's files, globbed)."""

    def __init__(self, path: str, limits: ArchiveLimits = BOOK_LIMITS):
        self.path = path
        self.limits = limits

    def __iter__(self) -> Iterator[Document | InputError]:
        if JSONL_SUFFIX.search(self.path):
            return iter(PileReader(self.path))
        if os.path.isdir(self.path) or ARCHIVE_SUFFIX.search(self.path):
            return archive_books(self.path, BOOKS3, self.limits)
        return single_book(self.path, BOOKS3, self.limits)


GUTENBERG_SUFFIX = re.compile(r"(?i)\.(?:txt(?:\.(?:gz|bz2|xz))?|zip)$")


def read_books(path: str, collection: str = "auto",
               limits: ArchiveLimits = BOOK_LIMITS) -> Iterator[Document | InputError]:
    """One input of a books job, read as ``collection`` says (``gutenberg``, ``books3``) or,
    with ``auto``, as its name says: ``.txt`` files (plain or compressed) and ``.zip`` are
    Gutenberg books, tarballs, folders and JSON lines Books3 collections."""
    if collection not in ("auto", GUTENBERG, BOOKS3):
        raise ValueError(f"unknown books collection {collection!r}")
    gutenberg = collection == GUTENBERG or collection == "auto" and bool(
        GUTENBERG_SUFFIX.search(path))
    return iter(GutenbergReader(path, limits) if gutenberg else Books3Reader(path, limits))
