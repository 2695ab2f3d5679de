"""Books readers on real files: the shared Gutenberg editions (three header forms of Pride and
Prejudice, Metamorphosis without one), hand-written headers of each era, and Books3 collections
written in tmp_path as tarballs, folders and JSON lines (hostile members, bombs, bad lines and a
truncated archive included)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import CORPUS, corpus_files, outcomes, tar_members

from llama_data.document import Document
from llama_data.errors import (
    DecompressionBomb,
    FileTooLarge,
    InvalidEncoding,
    MalformedRecord,
    NotABook,
    TruncatedInput,
    UnsafeArchiveMember,
)
from llama_data.sources.archives import ArchiveLimits
from llama_data.sources.books import (
    Books3Reader,
    GutenbergReader,
    decode_book,
    ebook_id_from_name,
    read_books,
    strip_gutenberg,
    title_from_name,
)

BOOKS = CORPUS / "books"
META_KEYS = {"collection", "title", "author", "ebook_id", "language", "encoding",
             "boilerplate_removed", "path"}
OPENING = "It is a truth universally acknowledged"


def read(reader) -> tuple[list[Document], list]:
    """The reader's outcomes, every book checked for the meta and id a book carries."""
    docs, errors = outcomes(reader)
    for doc in docs:
        assert set(doc.meta) == META_KEYS, doc.meta
        assert doc.source == "books"
        assert doc.id.startswith(f"books/{doc.meta['collection']}/")
    return docs, errors


def one_book_of(reader) -> Document:
    docs, errors = read(reader)
    assert errors == [] and len(docs) == 1
    return docs[0]


def one_book(path: Path) -> Document:
    return one_book_of(read_books(str(path)))


def corpus_book(pattern: str) -> Path:
    return corpus_files(BOOKS, pattern)[0]


# --- hand-written headers of each era ------------------------------------------------------------

CURRENT_HEADER = (
    "The Project Gutenberg eBook of The Sea Around, Volume One\n    \n"
    "This ebook is for the use of anyone anywhere in the United States and\n"
    "most other parts of the world at no cost and with almost no restrictions\n"
    "whatsoever. You may copy it, give it away or re-use it under the terms\n"
    "of the Project Gutenberg License included with this ebook or online\n"
    "at www.gutenberg.org.\n\n"
    "Title: The Sea Around\n        Volume One\n\n"
    "Author: Ann Example\n\n"
    "Release date: March 3, 2021 [eBook #64321]\n"
    "                Most recently updated: May 1, 2024\n\n"
    "Language: French\n\n"
    "Credits: Volunteers of the Distributed Proofreaders\n\n\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK THE SEA AROUND, VOLUME ONE ***\n"
)
OLD_HEADER = (
    "The Project Gutenberg EBook of Old Roads, by Bert Sample\n\n"
    "This eBook is for the use of anyone anywhere at no cost and with\n"
    "almost no restrictions whatsoever.\n\n\n"
    "Title: Old Roads\n\n"
    "Author: Bert Sample\n\n"
    "Posting Date: August 26, 2008 [EBook #2345]\n"
    "Release Date: June, 1998\n\n"
    "Language: English\n\n"
    "Character set encoding: ASCII\n\n"
    "*** START OF THIS PROJECT GUTENBERG EBOOK OLD ROADS ***\n"
)
OLD_CREDITS = "\n\n\n\nProduced by Anonymous Volunteers\n\n"
SMALL_PRINT_HEADER = (
    "**The Project Gutenberg Etext of Far Hills, by Cy Person**\n"
    "**Welcome To The World of Free Plain Vanilla Electronic Texts**\n"
    "*****These Etexts Were Prepared By Thousands of Volunteers!*****\n\n"
    "Far Hills  [Etext #77]\n\n"
    "*BEFORE!* YOU USE OR READ THIS ETEXT\n"
    "**START**THE SMALL PRINT!**FOR PUBLIC DOMAIN ETEXTS**START***\n"
    "Why is this \"Small Print!\" statement here?  You know: lawyers.\n"
    "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n"
)
BOOK = ("\n\nCHAPTER I\n\nThe road went on, and the end of the day came, and the\n"
        "travellers kept walking.\n\n   * * *\n\nCHAPTER II\n\nMorning again.\n\n\n")
CURRENT_FOOTER = (
    "*** END OF THE PROJECT GUTENBERG EBOOK THE SEA AROUND, VOLUME ONE ***\n\n"
    "Updated editions will replace the previous one--the old editions will\nbe renamed.\n")
OLD_FOOTER = (
    "End of the Project Gutenberg EBook of Old Roads, by Bert Sample\n\n"
    "*** END OF THIS PROJECT GUTENBERG EBOOK OLD ROADS ***\n\n"
    "***** This file should be named 2345.txt or 2345.zip *****\n\n"
    "*** START: FULL LICENSE ***\n\nTHE FULL PROJECT GUTENBERG LICENSE\n")
SMALL_PRINT_FOOTER = "End of The Project Gutenberg Etext of Far Hills\n"
BOOK_TEXT = BOOK.strip("\n")


@pytest.mark.parametrize("header,credits,footer,fields", [
    (CURRENT_HEADER, "", CURRENT_FOOTER,
     {"title": "The Sea Around Volume One", "author": "Ann Example", "ebook_id": 64321,
      "language": "French"}),
    (OLD_HEADER, OLD_CREDITS, OLD_FOOTER,
     {"title": "Old Roads", "author": "Bert Sample", "ebook_id": 2345, "language": "English"}),
    (SMALL_PRINT_HEADER, "", SMALL_PRINT_FOOTER,
     {"title": "Far Hills", "author": "Cy Person", "ebook_id": 77, "language": None}),
], ids=["current", "2000s", "1990s-small-print"])
def test_each_header_form_is_cut_and_read(header, credits, footer, fields):
    text, meta = strip_gutenberg(header + credits + BOOK + footer)
    assert text == BOOK_TEXT
    assert meta == {**fields, "boilerplate_removed": len(header) + len(credits) + len(footer)}


def test_crlf_and_a_bom_change_nothing_but_the_count():
    raw = OLD_HEADER + OLD_CREDITS + BOOK + OLD_FOOTER
    text, meta = strip_gutenberg("\ufeff" + raw.replace("\n", "\r\n"))
    assert (text, meta) == strip_gutenberg(raw)
    assert "\r" not in text


def test_ebook_id_spellings():
    for line, ebook in [("Release Date: June, 1998 [EBook #1342]", 1342),
                        ("Release date: June 1, 1998 [eBook #1342]", 1342),
                        ("Release Date: May, 2004  [E-Book #5678]", 5678),
                        ("Release Date: May, 2004  [Etext # 12]", 12),
                        ("Release Date: May, 2004", None)]:
        header = f"Title: T\n\n{line}\n\n*** START OF THE PROJECT GUTENBERG EBOOK T ***\n"
        assert strip_gutenberg(header + "Body.\n")[1]["ebook_id"] == ebook, line


def test_a_book_without_markers_is_returned_as_it_is():
    book = "   A POEM\n\nSome lines, and the End of it.\n  indented"
    assert strip_gutenberg(book) == (book, {"title": None, "author": None, "ebook_id": None,
                                            "language": None, "boilerplate_removed": 0})
    assert strip_gutenberg("\n\n" + book + "\n\n")[0] == book


def test_a_marker_deep_inside_a_book_is_not_a_header():
    body = "".join(f"line {i}\n" for i in range(700))
    quoted = body + "*** START OF THE PROJECT GUTENBERG EBOOK QUOTED ***\nmore\n"
    assert strip_gutenberg(quoted) == (quoted.rstrip(), strip_gutenberg("x")[1])


def test_credits_are_cut_only_right_after_the_start_line():
    later = OLD_HEADER + "\nCHAPTER I\n\nProduced by the mill, the flour was fine.\n"
    assert strip_gutenberg(later)[0] == "CHAPTER I\n\nProduced by the mill, the flour was fine."


def test_footer_without_end_marker_is_the_full_licence():
    text, meta = strip_gutenberg(OLD_HEADER + BOOK + "*** START: FULL LICENSE ***\nterms\n")
    assert text == BOOK_TEXT
    assert meta["boilerplate_removed"] == len(OLD_HEADER) + len("*** START: FULL LICENSE ***\n"
                                                                "terms\n")


# --- the shared editions ---------------------------------------------------------------------------

def test_2000s_edition_starts_at_the_book_and_ends_before_the_licence():
    path = corpus_book("1342-0.KArcherSutherland.txt")
    doc = one_book(path)
    assert doc.text.startswith("PRIDE AND PREJUDICE\n\nBy Jane Austen\n")
    assert doc.text.index(OPENING) < 100
    assert doc.text.endswith("had been the means of uniting them.")
    assert "gutenberg" not in doc.text.lower()
    assert doc.id == "books/gutenberg/1342/1342-0.KArcherSutherland.txt"
    assert doc.url == "https://www.gutenberg.org/ebooks/1342"
    raw = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    assert doc.meta == {"collection": "gutenberg", "title": "Pride and Prejudice",
                        "author": "Jane Austen", "ebook_id": 1342, "language": "English",
                        "encoding": "utf-8", "path": str(path),
                        "boilerplate_removed": doc.meta["boilerplate_removed"]}
    # what is cut is what lies around the book in the file, give or take blank lines
    around = len(raw) - len(doc.text)
    assert 0 <= around - doc.meta["boilerplate_removed"] < 20
    at = raw.index(doc.text)
    assert raw[:at].rstrip().endswith("*** START OF THIS PROJECT GUTENBERG EBOOK PRIDE AND "
                                      "PREJUDICE ***\n\n\n\n\nProduced by Anonymous Volunteers")
    assert raw[at + len(doc.text):].lstrip().startswith("End of the Project Gutenberg EBook")


def test_current_edition_without_footer_matches_the_already_stripped_one():
    """The Windows-1252 2025 edition, its header cut here, begins exactly like the edition whose
    header its publisher removed by hand (they differ later: this copy lost its accents)."""
    path = corpus_book("pg1342.AlexCuke.txt")
    doc, stripped = one_book(path), one_book(corpus_book("1342-0.gutenbergbooks-stripped.txt"))
    assert doc.text[:5000] == stripped.text[:5000]
    assert doc.text.index(OPENING) == stripped.text.index(OPENING)
    assert "gutenberg" not in doc.text.lower()
    raw = path.read_bytes().decode("cp1252")
    assert doc.text.endswith("Is not he a\ncharming man? I am")  # no footer: nothing cut
    assert len(raw) - len(doc.text) - doc.meta["boilerplate_removed"] < 20
    assert {k: doc.meta[k] for k in ("title", "author", "ebook_id", "language", "encoding")} == {
        "title": "Pride and Prejudice", "author": "Jane Austen", "ebook_id": 1342,
        "language": "English", "encoding": "cp1252"}


@pytest.mark.parametrize("name,ebook,start", [
    ("1342-0.gutenbergbooks-stripped.txt", 1342, "                            [Illustration:"),
    ("pg5200.txt", 5200, "One morning, when Gregor Samsa woke from troubled dreams"),
])
def test_books_without_header_are_kept_whole(name, ebook, start):
    path = corpus_book(name)
    doc = one_book(path)
    raw = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
    assert doc.text == raw.strip("\n").rstrip()
    assert doc.text.startswith(start)
    assert doc.meta["boilerplate_removed"] == 0
    assert (doc.meta["ebook_id"], doc.meta["title"], doc.meta["language"]) == (ebook, None, None)
    assert doc.id == f"books/gutenberg/{ebook}/{path.name}"


def test_stripping_is_idempotent_on_the_shared_editions():
    for path in corpus_files(BOOKS, "*.txt"):
        text, _ = decode_book(path.read_bytes())
        once, _ = strip_gutenberg(text)
        twice, meta = strip_gutenberg(once)
        assert (twice, meta["boilerplate_removed"]) == (once, 0), path.name


# --- Gutenberg files: encodings, names, compression ------------------------------------------------

def test_latin1_file_is_decoded_and_named_by_its_file(tmp_path):
    book = "Title: Les Misérables\n\n*** START OF THE PROJECT GUTENBERG EBOOK LES MIS ***\n" \
           "Ce fut à Digne, en 1815.\n"
    doc = one_book(write(tmp_path / "135-8.txt", book.encode("latin-1")))
    assert doc.text == "Ce fut à Digne, en 1815."
    assert (doc.meta["title"], doc.meta["ebook_id"], doc.meta["encoding"]) == (
        "Les Misérables", 135, "cp1252")
    assert doc.url == "https://www.gutenberg.org/ebooks/135"
    # 0x81 is unassigned in Windows-1252: only Latin-1 reads it
    assert one_book(write(tmp_path / "x.txt", b"caf\xe9 \x81")).meta["encoding"] == "latin-1"


def test_decode_book():
    assert decode_book("é".encode()) == ("é", "utf-8")
    assert decode_book("\ufeffé".encode()) == ("\ufeffé", "utf-8")
    assert decode_book("“é”".encode("cp1252")) == ("“é”", "cp1252")
    assert decode_book("é".encode("utf-16")) == ("é", "utf-16")
    assert decode_book(b"PK\x03\x04\x00\x00") is None


def test_binary_file_is_an_invalid_encoding(tmp_path):
    _, errors = read(read_books(str(write(tmp_path / "1.txt", b"\x89PNG\x00\x00"))))
    assert [type(e) for e in errors] == [InvalidEncoding]


@pytest.mark.parametrize("name,ebook", [("pg1342.txt", 1342), ("1342-0.txt", 1342),
                                        ("1342-8.txt", 1342), ("1342.zip", 1342),
                                        ("/m/1/3/4/1342/1342.txt", 1342), ("pg1342.txt.gz", 1342),
                                        ("readme.txt", None), ("pgx.txt", None)])
def test_ebook_id_from_name(name, ebook):
    assert ebook_id_from_name(name) == ebook


def test_gzipped_and_zipped_books_read_like_the_plain_file(tmp_path):
    raw = (OLD_HEADER + OLD_CREDITS + BOOK + OLD_FOOTER).encode()
    plain = one_book(write(tmp_path / "2345.txt", raw))
    gzipped = one_book(write(tmp_path / "2345.txt.gz", gzip.compress(raw)))
    archive = tmp_path / "2345.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("2345/2345.txt", raw)
        z.writestr("2345/images/cover.jpg", b"\xff\xd8\xff")
    zipped = one_book(archive)
    assert plain.text == gzipped.text == zipped.text == BOOK_TEXT
    assert (plain.id, gzipped.id, zipped.id) == ("books/gutenberg/2345/2345.txt",
                                                 "books/gutenberg/2345/2345.txt.gz",
                                                 "books/gutenberg/2345/2345.txt")
    assert zipped.meta["path"] == f"{archive}/2345/2345.txt"


def test_zip_name_gives_the_ebook_id_when_nothing_else_does(tmp_path):
    archive = tmp_path / "4321.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("book.txt", "Just a book.\n")
    assert one_book(archive).meta["ebook_id"] == 4321


def test_truncated_gzip_and_oversized_book(tmp_path):
    data = gzip.compress(os.urandom(50_000).hex().encode())
    _, errors = read(read_books(str(write(tmp_path / "1.txt.gz", data[:len(data) // 2]))))
    assert [type(e) for e in errors] == [TruncatedInput]
    small = ArchiveLimits(max_file_bytes=100)
    big = write(tmp_path / "2.txt", b"x" * 101)
    docs, errors = read(GutenbergReader(str(big), small))
    assert docs == [] and [type(e) for e in errors] == [FileTooLarge]
    assert len(read(GutenbergReader(str(write(tmp_path / "3.txt", b"x" * 100)), small))[0]) == 1


# --- Books3 collections ----------------------------------------------------------------------------

PREFIX = "books3/the-eye.eu/public/Books/Bibliotik/"
SHELF = {
    PREFIX + "A/Ann Example - The Sea Around.epub.txt": "The sea was all around.\n",
    PREFIX + "B/Bert Sample - Old Roads.txt": "Roads, old ones.\n",
    # a Gutenberg text made into an epub: its licence comes along, and is cut
    PREFIX + "C/Far Hills.epub.txt": SMALL_PRINT_HEADER + BOOK + SMALL_PRINT_FOOTER,
}


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def tar_files(path: Path, files: dict[str, str]) -> Path:
    return tar_members(path, [(tarfile.TarInfo(n), d.encode()) for n, d in files.items()])


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def test_books3_tarball(tmp_path):
    docs, errors = read(read_books(str(tar_files(tmp_path / "books3.tar.gz", SHELF))))
    assert errors == []
    by_title = {d.meta["title"]: d for d in docs}
    assert sorted(by_title) == ["Ann Example - The Sea Around", "Bert Sample - Old Roads",
                                "Far Hills"]
    sea = by_title["Ann Example - The Sea Around"]
    name = PREFIX + "A/Ann Example - The Sea Around.epub.txt"
    assert sea == Document(
        id="books/books3/" + hashlib.sha1(name.encode()).hexdigest()[:20],
        text="The sea was all around.", source="books", url=None,
        meta={"collection": "books3", "title": "Ann Example - The Sea Around", "author": None,
              "ebook_id": None, "language": None, "encoding": "utf-8",
              "boilerplate_removed": 0, "path": f"{tmp_path}/books3.tar.gz/{name}"})
    hills = by_title["Far Hills"]
    assert hills.text == BOOK_TEXT
    assert (hills.meta["author"], hills.meta["ebook_id"], hills.url) == ("Cy Person", 77, None)


def test_books3_folder_reads_like_its_tarball(tmp_path):
    for name, text in SHELF.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "books3" / "README.md").write_text("not a book\n")
    folder, _ = read(read_books(str(tmp_path / "books3")))
    tarred, _ = read(read_books(str(tar_files(tmp_path / "b.tar.gz", SHELF))))
    assert [(d.text, d.meta["title"]) for d in folder] == [(d.text, d.meta["title"])
                                                          for d in tarred]


def test_gutenberg_and_books3_ids_never_collide(tmp_path):
    book = OLD_HEADER + BOOK
    gutenberg = one_book(write(tmp_path / "2345.txt", book))
    books3 = one_book(tar_files(tmp_path / "b.tar", {"2345.txt": book}))
    assert gutenberg.text == books3.text
    assert (gutenberg.id, books3.id[:13]) == ("books/gutenberg/2345/2345.txt", "books/books3/")


def test_unsafe_members_are_refused_and_the_rest_read(tmp_path):
    archive = tar_members(tmp_path / "books3.tar.gz", [
        (tarfile.TarInfo("books3/a.txt"), b"A book.\n"),
        (tarfile.TarInfo("books3/../../etc/evil.txt"), b"escaped\n"),
        (tarfile.TarInfo("/abs/evil.txt"), b"absolute\n"),
        link("books3/link.txt", "/etc/passwd"),
        link("books3/hard.txt", "books3/a.txt", tarfile.LNKTYPE),
        (tarfile.TarInfo("books3/b.txt"), b"B book.\n"),
    ])
    docs, errors = read(Books3Reader(str(archive)))
    assert [d.text for d in docs] == ["A book.", "B book."]
    assert [type(e) for e in errors] == [UnsafeArchiveMember] * 4
    assert [e.position for e in errors] == ["books3/../../etc/evil.txt", "/abs/evil.txt",
                                            "books3/link.txt", "books3/hard.txt"]


def test_too_many_members_or_bytes_stop_the_archive(tmp_path):
    many = tar_files(tmp_path / "many.tar.gz", {f"b/{i}.txt": f"Book {i}.\n" for i in range(10)})
    docs, errors = read(Books3Reader(str(many), ArchiveLimits(max_files=4)))
    assert [d.text for d in docs] == ["Book 0.", "Book 1.", "Book 2.", "Book 3."]
    assert [type(e) for e in errors] == [DecompressionBomb]
    assert errors[0].position == "after 4 members"
    bomb = tar_files(tmp_path / "bomb.tar.gz", {"b/zeros.txt": "0" * 5_000_000})
    assert bomb.stat().st_size < 20_000
    capped = ArchiveLimits(max_expanded_bytes=1_000_000, max_file_bytes=10_000_000)
    docs, errors = read(Books3Reader(str(bomb), capped))
    assert docs == [] and [type(e) for e in errors] == [DecompressionBomb]


def test_book_over_the_file_cap_is_counted_and_the_rest_read(tmp_path):
    archive = tar_files(tmp_path / "b.tar.gz", {"b/big.txt": "x" * 200, "b/small.txt": "ok"})
    docs, errors = read(Books3Reader(str(archive), ArchiveLimits(max_file_bytes=100)))
    assert [d.text for d in docs] == ["ok"]
    assert [(type(e), e.position) for e in errors] == [(FileTooLarge, "b/big.txt")]


def test_truncated_tarball_keeps_the_books_before_the_cut(tmp_path):
    files = {f"b/{i}.txt": os.urandom(20_000).hex() for i in range(6)}  # incompressible
    archive = tar_files(tmp_path / "b.tar.gz", files)
    cut = write(tmp_path / "cut.tar.gz", archive.read_bytes()[:archive.stat().st_size // 2])
    docs, errors = read(Books3Reader(str(cut)))
    assert 1 <= len(docs) < 6
    assert [d.text for d in docs] == [files[f"b/{i}.txt"] for i in range(len(docs))]
    assert [type(e) for e in errors] == [TruncatedInput]


def test_pile_json_lines(tmp_path):
    lines = [
        json.dumps({"text": "A Books3 book.\n", "meta": {"pile_set_name": "Books3"}}),
        '{"text": "broken',
        json.dumps({"text": "A web page.", "meta": {"pile_set_name": "Pile-CC"}}),
        json.dumps(["not", "a", "record"]),
        json.dumps({"text": OLD_HEADER + BOOK, "meta": {"pile_set_name": "Gutenberg (PG-19)"}}),
        json.dumps({"text": "No meta at all."}),
        json.dumps({"text": "x", "meta": {"pile_set_name": ["Books3"]}}),
    ]
    path = tmp_path / "07.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    docs, errors = read(read_books(str(path)))
    assert [(d.meta["collection"], d.text) for d in docs] == [
        ("books3", "A Books3 book."), ("gutenberg", BOOK_TEXT), ("books3", "No meta at all.")]
    assert [(type(e), e.position) for e in errors] == [
        (MalformedRecord, "line 2"), (NotABook, "line 3"), (MalformedRecord, "line 4"),
        (NotABook, "line 7")]
    assert docs[0].meta["path"] == f"{path}:1"
    assert docs[1].meta["ebook_id"] == 2345 and docs[1].url == "https://www.gutenberg.org/ebooks/2345"
    assert docs[0].id == "books/books3/" + hashlib.sha1(b"07.jsonl.gz\n1").hexdigest()[:20]
    assert len({d.id for d in docs}) == 3


@pytest.mark.parametrize("name,collection", [
    ("1342-0.txt", "gutenberg"), ("pg1342.txt.gz", "gutenberg"), ("1342.zip", "gutenberg"),
    ("books3.tar.gz", "books3"), ("books3.tar", "books3"), ("books3.jsonl", "books3"),
    ("books3.jsonl.gz", "books3")])
def test_read_books_picks_the_reader_by_name(tmp_path, name, collection):
    book = OLD_HEADER + "Body.\n"
    if name.endswith(".zip"):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            z.writestr("1342.txt", book)
    elif ".tar" in name:
        tar_files(tmp_path / name, {"b/x.txt": book})
    elif ".jsonl" in name:
        record = json.dumps({"text": book}) + "\n"
        write(tmp_path / name, gzip.compress(record.encode()) if name.endswith(".gz") else record)
    else:
        write(tmp_path / name, gzip.compress(book.encode()) if name.endswith(".gz") else book)
    assert one_book(tmp_path / name).meta["collection"] == collection


def test_read_books_forced_collection_and_unknown_one(tmp_path):
    folder = tmp_path / "shelf"
    folder.mkdir()
    write(folder / "x.txt", "Body.\n")
    assert one_book(folder).meta["collection"] == "books3"
    alone = one_book_of(read_books(str(folder / "x.txt"), "books3"))  # an extracted collection
    assert (alone.meta["collection"], alone.meta["title"], alone.id) == (
        "books3", "x", "books/books3/" + hashlib.sha1(b"x.txt").hexdigest()[:20])
    with pytest.raises(ValueError, match="unknown books collection"):
        read_books(str(folder), "pg19")


def test_title_from_name():
    assert title_from_name("a/b/Jane Doe - A Title.epub.txt") == "Jane Doe - A Title"
    assert title_from_name("x/Plain.TXT") == "Plain"
    assert title_from_name("x/v1.0 notes.mobi.txt") == "v1.0 notes"
