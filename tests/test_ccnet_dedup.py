"""CCNet normalisation and line hashes: properties (CCNet's own values are in
test_ccnet_golden.py; the job-wide dedup on Beam is in test_dedup_lines.py)."""

from __future__ import annotations

import sys

from llama_data.text import ccnet

# --- normalisation ---------------------------------------------------------------------------

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


def test_normalize_text_is_normalize_line_over_a_whole_text():
    text = "Café 12\n  Naïve\tword «x»\n\nSECOND line ٣\x00"
    assert ccnet.normalize_text(text) == 'cafe 00   naive word "x"  second line 0'
    # the same words as line by line, where no control character sits inside a line
    plain = text.replace("\t", " ").replace("\x00", "")
    lines = [ccnet.normalize_line(line) for line in plain.split("\n")]
    assert ccnet.normalize_text(plain).split() == " ".join(lines).split()
    assert ccnet.normalize_text("ASCII\tonly 42\r\n") == "ascii only 00"


def test_line_hash_sees_through_case_digits_and_spacing_at_the_ends():
    assert ccnet.line_hash("Copyright 2021 ACME") == ccnet.line_hash("  copyright 1999 acme ")
    assert ccnet.line_hash("cafe") != ccnet.line_hash("café")


def test_hashed_lines_leave_out_lines_with_nothing_to_hash():
    hashed = ccnet.hashed_lines("One\n\nTwo 2\n  \n…\none\n")
    assert [i for i, _ in hashed] == [0, 2, 5]  # blank, whitespace-only, "…"-only lines left out
    assert hashed[0][1] == hashed[2][1] == ccnet.line_hash("ONE") != hashed[1][1]


def test_remove_lines_keeps_the_order_of_the_rest():
    assert ccnet.remove_lines("a\nb\nc\nd", {1, 3}) == "a\nc"
    assert ccnet.remove_lines("a\nb\n", {0}) == "b\n"
    assert ccnet.remove_lines("a\nb", set()) == "a\nb"
    assert ccnet.remove_lines("a", {0}) == ""
