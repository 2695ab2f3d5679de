from __future__ import annotations

import bz2
import gzip
import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

import libarchive
import pytest
from conftest import CORPUS, corpus_files

from llama_data.document import Document
from llama_data.errors import (
    DecompressionBomb,
    InputError,
    InvalidEncoding,
    MalformedRecord,
    MalformedXML,
    NotPostsDump,
    TruncatedInput,
    UnsafeXML,
)
from llama_data.sources.stackexchange import (
    PostsReader,
    carries_posts,
    largest_sites,
    parse_tags,
    site_of,
)

SE_CORPUS = CORPUS / "stackexchange"
META_KEYS = {"site", "post_id", "post_type", "parent_id", "title", "tags", "score",
             "answer_count", "accepted_answer_id", "license", "created"}


def posts_xml(rows: list[dict[str, object]]) -> str:
    """A Posts.xml in the dump's format: one ``<row>`` of attributes per post."""
    lines = ["\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<posts>"]
    lines += ["  <row " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in row.items()) + " />"
              for row in rows]
    return "\n".join([*lines, "</posts>", ""])


def row(post_id: int, post_type: int = 1, **attrs: object) -> dict[str, object]:
    return {"Id": post_id, "PostTypeId": post_type, "Score": 0, "Body": f"<p>post {post_id}</p>",
            **attrs}


def write_7z(path: Path, entries: dict[str, bytes]) -> Path:
    with libarchive.file_writer(str(path), "7zip") as archive:
        for name, data in entries.items():
            archive.add_file_from_memory(name, len(data), data)
    return path


def read(path: Path, **kwargs) -> tuple[list[Document], list[InputError]]:
    items = list(PostsReader(str(path), **kwargs))
    return ([i for i in items if isinstance(i, Document)],
            [i for i in items if isinstance(i, InputError)])


SMALL = [row(1, Title="Why?", Tags="<a><b-c>", AnswerCount=1, AcceptedAnswerId=2,
             CreationDate="2014-01-21T20:26:05.383"),
         row(2, 2, ParentId=1, Score=3), row(3, 5, Body="<p>wiki</p>")]


@pytest.fixture(scope="module")
def se_corpus() -> list[Path]:
    return corpus_files(SE_CORPUS, "*.Posts.xml")


def test_real_dumps_every_row_read_with_its_fields(se_corpus):
    for path in se_corpus:
        text = path.read_text("utf-8-sig")
        docs, errors = read(path)
        assert errors == [], path.name
        assert len(docs) == len(re.findall(r"<row ", text)), path.name
        ids = [int(i) for i in re.findall(r'<row Id="(\d+)"', text)]
        assert [d.meta["post_id"] for d in docs] == ids
        for doc in docs:
            assert set(doc.meta) == META_KEYS and doc.source == "stackexchange"
            assert doc.id == f"stackexchange/{doc.meta['site']}/{doc.meta['post_id']}"
            assert doc.url is None  # the corpus files' site names are not domains
            assert (doc.meta["parent_id"] is not None) == (doc.meta["post_type"] == "answer")
        answers = sum(d.meta["post_type"] == "answer" for d in docs)
        assert answers == text.count('PostTypeId="2"'), path.name


def test_real_dumps_both_tag_formats_and_the_licence(se_corpus):
    by_name = {p.name: {d.meta["post_id"]: d for d in read(p)[0]} for p in se_corpus}
    beer = by_name["beer.stackexchange.Posts.xml"][5]  # Tags="&lt;serving&gt;&lt;temperature&gt;"
    assert beer.meta["site"] == "beer.stackexchange"
    assert beer.meta["tags"] == ["serving", "temperature"] and beer.meta["license"] is None
    assert beer.meta["title"] == "What temperature should I serve my beer?"
    assert (beer.meta["score"], beer.meta["answer_count"], beer.meta["accepted_answer_id"]) == (
        20, 3, 19)
    assert beer.text.startswith("<p>In general, what's the best way")
    meta = by_name["datascience-meta.Posts.xml"][6]  # Tags="|feature-request|status-completed|"
    assert meta.meta["tags"] == ["feature-request", "status-completed"]
    assert meta.meta["license"] == "CC BY-SA 3.0" and meta.meta["site"] == "datascience-meta"
    assert "<code>$\\sqrt{2}$</code>" in meta.text


@pytest.mark.parametrize("path, site", [
    ("dump/beer.stackexchange.com.7z", "beer.stackexchange.com"),
    ("stackoverflow.com-Posts.7z", "stackoverflow.com"),
    ("gs://b/stackoverflow.com-Comments.7z", "stackoverflow.com"),
    ("math.stackexchange.com/Posts.xml", "math.stackexchange.com"),
    ("/x/math.stackexchange.com/Posts.xml.bz2", "math.stackexchange.com"),
    ("corpus/beer.stackexchange.Posts.xml", "beer.stackexchange"),
    ("meta.stackoverflow.com.7z", "meta.stackoverflow.com"),
])
def test_site_of_internet_archive_and_extracted_names(path, site):
    assert site_of(path) == site


@pytest.mark.parametrize("path", ["Posts.xml", "dump/Users.xml", "notes.txt"])
def test_site_of_refuses_names_without_a_site(path):
    with pytest.raises(ValueError):
        site_of(path)


def test_carries_posts_only_for_posts_tables():
    assert carries_posts("beer.stackexchange.com.7z")
    assert carries_posts("stackoverflow.com-Posts.7z")
    assert carries_posts("math.stackexchange.com/Posts.xml")
    assert not carries_posts("stackoverflow.com-Comments.7z")
    assert not carries_posts("math.stackexchange.com/Users.xml")


def test_largest_sites_adds_up_a_sites_files_and_breaks_ties_by_name():
    sizes = {"stackoverflow.com-Posts.7z": 50, "stackoverflow.com-Comments.7z": 40,
             "math.stackexchange.com.7z": 80, "b.stackexchange.com.7z": 10,
             "a.stackexchange.com.7z": 10, "readme.txt": 10_000}
    assert largest_sites(list(sizes), n=3, sizes=sizes.__getitem__) == [
        "stackoverflow.com", "math.stackexchange.com", "a.stackexchange.com"]
    assert largest_sites(list(sizes), sizes=sizes.__getitem__)[-1] == "b.stackexchange.com"


def test_largest_sites_reads_sizes_from_disk(tmp_path):
    (tmp_path / "small.stackexchange.com.7z").write_bytes(b"x")
    (tmp_path / "big.stackexchange.com.7z").write_bytes(b"x" * 10)
    assert largest_sites([str(p) for p in tmp_path.iterdir()], n=1) == ["big.stackexchange.com"]


@pytest.mark.parametrize("value, tags", [("<a><b-c>", ["a", "b-c"]), ("|a|c++|", ["a", "c++"]),
                                         ("", []), (None, [])])
def test_parse_tags_both_formats(value, tags):
    assert parse_tags(value) == tags


def test_7z_archive_reads_only_posts_and_matches_the_plain_file(tmp_path):
    xml = posts_xml(SMALL).encode()
    users = b'<?xml version="1.0"?><users><row Id="99" Body="not a post"/></users>'
    archive = write_7z(tmp_path / "beer.stackexchange.com.7z", {"Users.xml": users,
                                                                 "Posts.xml": xml})
    plain = tmp_path / "beer.stackexchange.com" / "Posts.xml"
    plain.parent.mkdir()
    plain.write_bytes(xml)
    docs, errors = read(archive)
    assert errors == [] and docs == read(plain)[0]
    question, answer, wiki = docs
    assert question.meta == {
        "site": "beer.stackexchange.com", "post_id": 1, "post_type": "question",
        "parent_id": None, "title": "Why?", "tags": ["a", "b-c"], "score": 0, "answer_count": 1,
        "accepted_answer_id": 2, "license": None, "created": "2014-01-21T20:26:05.383"}
    assert question.url == "https://beer.stackexchange.com/q/1"
    assert answer.url == "https://beer.stackexchange.com/a/2"
    assert (answer.meta["parent_id"], answer.meta["score"], answer.text) == (1, 3, "<p>post 2</p>")
    assert wiki.meta["post_type"] == "tag_wiki"


@pytest.mark.parametrize("suffix", [".bz2", ".gz"])
def test_compressed_posts_xml_reads_as_the_plain_one(tmp_path, suffix):
    xml = posts_xml(SMALL).encode()
    plain = tmp_path / "s.stackexchange.com.Posts.xml"
    plain.write_bytes(xml)
    packed = tmp_path / f"s.stackexchange.com.Posts.xml{suffix}"
    packed.write_bytes(bz2.compress(xml) if suffix == ".bz2" else gzip.compress(xml))
    assert read(packed) == read(plain) and len(read(plain)[0]) == 3


def test_archive_of_another_table_is_not_a_posts_dump(tmp_path):
    archive = write_7z(tmp_path / "stackoverflow.com-Comments.7z", {"Comments.xml": b"<comments/>"})
    docs, errors = read(archive)
    assert docs == [] and [type(e) for e in errors] == [NotPostsDump]
    assert read(tmp_path / "notes.xml")[1][0].reason == "not_a_posts_dump"


def test_truncated_and_corrupt_archives_are_named(tmp_path):
    whole = write_7z(tmp_path / "whole.7z", {"Posts.xml": posts_xml(SMALL * 50).encode()})
    data = whole.read_bytes()
    cut = tmp_path / "cut.stackexchange.com.7z"
    cut.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "junk.stackexchange.com.7z"
    garbage.write_bytes(b"not an archive at all")
    for path in (cut, garbage):
        docs, errors = read(path)
        assert [type(e) for e in errors] == [TruncatedInput], path.name
        assert errors[0].path == str(path) and errors[0].position == f"after row {len(docs)}"


def test_truncated_compressed_stream_keeps_the_rows_before(tmp_path):
    rows = [row(i) for i in range(1, 2001)]
    data = gzip.compress(posts_xml(rows).encode())
    path = tmp_path / "s.stackexchange.com.Posts.xml.gz"
    path.write_bytes(data[: len(data) * 3 // 4])
    docs, errors = read(path)
    assert [type(e) for e in errors] == [TruncatedInput]
    assert 0 < len(docs) < 2000
    assert [d.meta["post_id"] for d in docs] == list(range(1, len(docs) + 1))


def test_malformed_xml_keeps_rows_before_and_names_the_line(tmp_path):
    xml = posts_xml(SMALL).replace("<row Id=\"3\"", "<row Id=\"3\" Score=\"1\" Score=\"2\"")
    path = tmp_path / "s.stackexchange.com.Posts.xml"
    path.write_text(xml, "utf-8")
    docs, errors = read(path)
    assert [d.meta["post_id"] for d in docs] == [1, 2]
    assert [type(e) for e in errors] == [MalformedXML] and errors[0].position.startswith("line 5,")


def test_invalid_utf8_is_an_encoding_error_after_the_good_rows(tmp_path):
    xml = posts_xml(SMALL).encode().replace(b"wiki", b"caf\xe9")
    path = tmp_path / "s.stackexchange.com.Posts.xml"
    path.write_bytes(xml)
    docs, errors = read(path)
    assert [d.meta["post_id"] for d in docs] == [1, 2]
    assert [type(e) for e in errors] == [InvalidEncoding] and errors[0].reason == "invalid_encoding"


def test_entity_expansion_bomb_is_refused(tmp_path):
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE posts [{entities}]>'
           '<posts><row Id="1" PostTypeId="1" Score="0" Body="&a9;" /></posts>')
    path = tmp_path / "s.stackexchange.com.Posts.xml"
    path.write_text(xml, "utf-8")
    archive = write_7z(tmp_path / "s.stackexchange.com.7z", {"Posts.xml": xml.encode()})
    for source in (path, archive):
        docs, errors = read(source)
        assert docs == [] and [type(e) for e in errors] == [UnsafeXML], source.name
        assert errors[0].reason == "unsafe_xml"


def test_a_dtd_without_expansion_is_refused_too(tmp_path):
    xml = posts_xml(SMALL).replace("<posts>", '<!DOCTYPE posts [<!ENTITY x "y">]><posts>')
    path = tmp_path / "s.stackexchange.com.Posts.xml"
    path.write_text(xml, "utf-8")
    docs, errors = read(path)
    assert docs == [] and [type(e) for e in errors] == [UnsafeXML]


def test_decompression_bomb_stops_the_archive(tmp_path):
    xml = posts_xml([row(i, Body="<p>" + "beer " * 200 + "</p>") for i in range(1, 4001)])
    archive = write_7z(tmp_path / "bomb.stackexchange.com.7z", {"Posts.xml": xml.encode()})
    ratio = len(xml) / archive.stat().st_size
    assert ratio > 20  # a small archive of many MB
    docs, errors = read(archive, max_expansion=10)
    assert [type(e) for e in errors] == [DecompressionBomb] and len(docs) < 4000
    assert errors[0].reason == "expanded_size_over_limit"
    docs, errors = read(archive, max_expansion=ratio * 1.1)
    assert errors == [] and len(docs) == 4000


def test_bad_rows_are_counted_and_reading_goes_on(tmp_path):
    rows = [row(1), {"Id": "x1", "PostTypeId": 1, "Score": 0}, {"PostTypeId": 1, "Score": 0},
            {"Id": 4, "Score": 0}, row(5, Score="high"), row(6, 2), row(7, 2, ParentId="one"),
            row(8, 99), row(9)]
    path = tmp_path / "s.stackexchange.com.Posts.xml"
    path.write_text(posts_xml(rows), "utf-8")
    docs, errors = read(path)
    assert [d.meta["post_id"] for d in docs] == [1, 8, 9]
    assert docs[1].meta["post_type"] == "type_99"
    assert all(isinstance(e, MalformedRecord) for e in errors) and len(errors) == 6
    assert [e.position for e in errors] == [f"line {n}" for n in range(4, 10)]
