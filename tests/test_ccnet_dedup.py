"""CCNet normalisation and line hashes (the job-wide dedup on Beam: tests/test_dedup_lines.py)."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest

from llama_data.text import ccnet


# --- normalisation ---------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ("  Hello WORLD \t ", "hello world"),  # case, ends stripped
    ("Call 555-1234 in 2023", "call 000-0000 in 0000"),  # digits
    ("０２３ and ٣", "000 and 0"),  # unicode digits too
    ("Café Déjà Vu, naïve Ørsted", "cafe deja vu, naive ørsted"),  # accents (Ø is no accent)
    ("«Bonjour»，ça va？", '"bonjour",ca va?'),  # unicode punctuation -> ASCII
    ("a—b…c–d’e", "a - b...c-d'e"),
    ("a\tb\x00c\x7fd\x9fe", "abcde"),  # non-printing chars deleted
    ("two  spaces", "two  spaces"),  # inner runs kept, as CCNet
    ("", ""), (" \t ", ""),
])
def test_normalize_line_is_ccnets_normalize(line, expected):
    assert ccnet.normalize_line(line) == expected


def test_strip_accents_drops_every_combining_mark_and_nothing_else():
    import unicodedata

    # every code point, decomposed, in chunks: the regular expressions built from the Unicode
    # database must agree with the per-character definition (category Mn), astral planes included
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    for start in range(0, len(everything), 4096):
        chunk = everything[start:start + 4096]
        nfd = unicodedata.normalize("NFD", chunk)
        assert ccnet.strip_accents(chunk) == "".join(
            c for c in nfd if unicodedata.category(c) != "Mn"), hex(ord(chunk[0]))


def _ccnet_normalize(line: str, non_printing: str = "") -> str:
    """CCNet's text_normalizer.normalize, step by step as CCNet writes it (no fast path); with
    ``non_printing=" "``, what normalize_text does to a whole text before its final strip."""
    import unicodedata

    line = line.lower() if non_printing else line.strip().lower()
    line = "".join(c for c in unicodedata.normalize("NFD", line)
                   if unicodedata.category(c) != "Mn")
    line = ccnet._DIGIT_RE.sub("0", line)
    line = line.translate(str.maketrans(ccnet.UNICODE_PUNCT))
    return "".join(non_printing if c in ccnet.NON_PRINTING_CHARS else c for c in line)


def test_the_fast_paths_give_ccnets_normalisation_on_every_code_point():
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    lines = [everything[i:i + 300] for i in range(0, len(everything), 300)]
    lines += ["Ｃafé １２ “x” – ´y´ ０٣", "plain ASCII 42\tline\x7f", "a\u0301\u2019b\xa0c…"]
    for line in lines:
        assert ccnet.normalize_line(line) == _ccnet_normalize(line), repr(line[:20])
        assert ccnet.normalize_text(line) == _ccnet_normalize(line, " ").strip(), repr(line[:20])


def test_normalize_text_is_normalize_line_over_a_whole_text():
    text = "Café 12\n  Naïve\tword «x»\n\nSECOND line ٣\x00"
    assert ccnet.normalize_text(text) == 'cafe 00   naive word "x"  second line 0'
    # the same words as line by line, where no control character sits inside a line
    plain = text.replace("\t", " ").replace("\x00", "")
    lines = [ccnet.normalize_line(line) for line in plain.split("\n")]
    assert ccnet.normalize_text(plain).split() == " ".join(lines).split()
    assert ccnet.normalize_text("ASCII\tonly 42\r\n") == "ascii only 00"


def test_normalize_for_dedup_keeps_accents_and_removes_unicode_punctuation():
    assert ccnet.normalize_for_dedup(" «Café» 2023！ ok… ") == "café 0000 ok"
    assert ccnet.normalize_for_dedup("a\tb!") == "ab!"
    assert ccnet.normalize_for_dedup("——…") == ""


def ccnet_hash(normalized: str) -> int:
    """CCNet's ``str_hash`` on x86: numpy reads the first 8 bytes of the SHA-1 as a uint64."""
    digest = hashlib.sha1(bytes(normalized, encoding="utf-8")).digest()
    return int(np.frombuffer(digest[:8], dtype="<u8", count=1)[0])


@pytest.mark.parametrize("line, normalized", [
    ("Hello World", "hello world"),
    ("  All Rights Reserved © 2021. ", "all rights reserved © 0000."),
    ("«Déjà vu» – encore", "déjà vu  encore"),
    ("", ""),
])
def test_line_hash_is_ccnets_formula(line, normalized):
    assert ccnet.normalize_for_dedup(line) == normalized
    assert ccnet.line_hash(line) == ccnet_hash(normalized)
    assert 0 <= ccnet.line_hash(line) < 2 ** 64


def test_line_hash_sees_through_case_digits_and_spacing_at_the_ends():
    assert ccnet.line_hash("Copyright 2021 ACME") == ccnet.line_hash("  copyright 1999 acme ")
    assert ccnet.line_hash("cafe") != ccnet.line_hash("café")


def test_line_hashes_and_hashed_lines_of_a_document():
    text = "One\n\nTwo 2\n  \n…\none\n"
    lines = text.split("\n")
    assert ccnet.line_hashes(text) == [ccnet_hash(ccnet.normalize_for_dedup(x)) for x in lines]
    hashed = ccnet.hashed_lines(text)
    assert [i for i, _ in hashed] == [0, 2, 5]  # blank, whitespace-only, "…"-only lines left out
    assert hashed[0][1] == hashed[2][1] == ccnet.line_hash("ONE")


def test_remove_lines_keeps_the_order_of_the_rest():
    assert ccnet.remove_lines("a\nb\nc\nd", {1, 3}) == "a\nc"
    assert ccnet.remove_lines("a\nb\n", {0}) == "b\n"
    assert ccnet.remove_lines("a\nb", set()) == "a\nb"
    assert ccnet.remove_lines("a", {0}) == ""
