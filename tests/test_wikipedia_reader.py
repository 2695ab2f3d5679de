from __future__ import annotations

import collections

import pytest
from conftest import MARKUP_REMNANTS, count_articles, decompressed, dump_xml, page_xml, prose, write

from llama_data.document import Document
from llama_data.errors import (
    InputError,
    InvalidEncoding,
    LanguageNotAllowed,
    MalformedXML,
    TruncatedInput,
    UnsafeXML,
)
from llama_data.filters import Rejected, run_steps
from llama_data.sources.wikipedia import DumpReader, read_dump_info, wikipedia_steps


def process(path, languages=None):
    """(kept docs, drop reasons, errors) of one dump through the Wikipedia steps."""
    kept, dropped, errors = [], collections.Counter(), []
    for item in DumpReader(str(path), languages):
        if isinstance(item, InputError):
            errors.append(item)
            continue
        result = run_steps(item, wikipedia_steps())
        if isinstance(result, Rejected):
            dropped[result.reason] += 1
        else:
            kept.append(result)
    return kept, dropped, errors


def test_real_dumps_every_article_written_or_dropped_and_no_markup_left(wiki_corpus):
    for path in wiki_corpus:
        kept, dropped, errors = process(path)
        assert errors == []
        pages, articles = count_articles(decompressed(path))
        content_drops = sum(n for r, n in dropped.items() if r.startswith("min_words:"))
        assert len(kept) + content_drops == articles, path.name
        assert len(kept) + sum(dropped.values()) == pages, path.name
        for doc in kept:
            for remnant in MARKUP_REMNANTS:
                assert remnant not in doc.text, (path.name, doc.meta["title"], remnant)


def test_language_and_metadata_come_from_the_dump(wiki_corpus):
    bg = next(p for p in wiki_corpus if p.name.startswith("bgwiki"))  # UTF-16 XML
    kept, _, errors = process(bg)
    assert errors == [] and kept
    doc = kept[0]
    assert doc.lang == "bg" and doc.source == "wikipedia"
    assert doc.id == f"wikipedia/bg/{doc.meta['page_id']}"
    assert doc.url.startswith("https://bg.wikipedia.org/wiki/")
    assert "link_namespaces" not in doc.meta  # used by the cleaner, not stored
    assert "Григорианският календар" in doc.text
    info = read_dump_info(str(bg))
    assert info.lang == "bg" and info.namespaces[14] == "Категория"


@pytest.mark.parametrize("suffix", [".xml", ".xml.bz2", ".xml.gz"])
def test_plain_bz2_and_gz_dumps_read_the_same(tmp_path, suffix):
    xml = dump_xml([page_xml(1, "Alpha", prose(30)), page_xml(2, "Beta", "#REDIRECT [[Alpha]]",
                                                              redirect="Alpha"),
                    page_xml(3, "Talk:Alpha", prose(30), ns=1)])
    path = write(tmp_path / f"enwiki-x{suffix}", xml)
    kept, dropped, errors = process(path)
    assert [d.meta["title"] for d in kept] == ["Alpha"]
    assert dropped == {"article:redirect": 1, "article:not_namespace_0": 1}
    assert errors == []


def test_other_languages_are_refused_unless_allowed(tmp_path):
    path = write(tmp_path / "eowiki-latest-pages-articles.xml", dump_xml(
        [page_xml(1, "Esperanto", prose(30))], lang="eo"))
    kept, _, errors = process(path, languages=["en", "de"])
    assert kept == [] and len(errors) == 1
    assert isinstance(errors[0], LanguageNotAllowed)
    assert "'eo'" in str(errors[0]) and "--languages" in str(errors[0])
    with pytest.raises(LanguageNotAllowed):
        read_dump_info(str(path), ["en"])
    assert [d.lang for d in process(path, languages=None)[0]] == ["eo"]


GOOD = [page_xml(i, f"Page {i}", prose(30, f"w{i}-")) for i in range(1, 4)]
BOMB = ('<?xml version="1.0"?><!DOCTYPE mediawiki [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + "]>")


@pytest.mark.parametrize("name, make, error", [
    ("truncated bz2", lambda p: write(p.with_suffix(".bz2"), dump_xml(GOOD))
     .write_bytes((p.with_suffix(".bz2")).read_bytes()[:-60]), TruncatedInput),
    ("truncated gz", lambda p: write(p.with_suffix(".gz"), dump_xml(GOOD))
     .write_bytes((p.with_suffix(".gz")).read_bytes()[:-30]), TruncatedInput),
    ("malformed xml", lambda p: p.with_suffix(".xml").write_text(
        dump_xml(GOOD).replace("</title></page>", "</titel></page>").replace(
            "<title>Page 3</title>", "<title>Page 3</titel>")), MalformedXML),
    ("invalid utf-8", lambda p: p.with_suffix(".xml").write_bytes(
        dump_xml(GOOD).encode().replace(b"Page 3", b"Page \xff\xfe3")), InvalidEncoding),
    ("entity bomb", lambda p: p.with_suffix(".xml").write_text(
        BOMB + dump_xml([page_xml(1, "Bomb", "&i; &i; &i;")]).replace("&amp;i;", "&i;")), UnsafeXML),
    ("external entity", lambda p: p.with_suffix(".xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + dump_xml([page_xml(1, "X", "&x;")]).replace("&amp;x;", "&x;")), UnsafeXML),
])
def test_bad_input_is_one_clear_error_naming_the_file_and_pages_before_it_are_kept(
        tmp_path, name, make, error):
    stem = tmp_path / "enwiki-bad"
    make(stem)
    path = next(tmp_path.glob("enwiki-bad*"))
    items = list(DumpReader(str(path)))
    errors = [i for i in items if isinstance(i, InputError)]
    assert len(errors) == 1, items
    assert isinstance(errors[0], error), errors[0]
    assert str(path) in str(errors[0])
    assert isinstance(items[-1], InputError)  # the error ends the file
    if error in (MalformedXML, InvalidEncoding):
        assert "line" in errors[0].position
        assert [d.meta["title"] for d in items if isinstance(d, Document)] == ["Page 1", "Page 2"]
    assert "root:" not in str(errors[0]) and "passwd" not in "".join(
        d.text for d in items if isinstance(d, Document))


def test_a_malformed_page_is_one_unreadable_record_and_reading_goes_on(tmp_path):
    no_id = page_xml(7, "No id", prose(30)).replace("<id>7</id>", "")
    bad_id = page_xml(8, "Bad id", prose(30)).replace("<id>8</id>", "<id>eight</id>")
    path = write(tmp_path / "enwiki-x.xml", dump_xml([GOOD[0], no_id, bad_id, GOOD[1]]))
    items = list(DumpReader(str(path)))
    assert [type(i).__name__ for i in items] == [
        "Document", "MalformedRecord", "MalformedRecord", "Document"]
    assert all("line" in i.position for i in items[1:3])
