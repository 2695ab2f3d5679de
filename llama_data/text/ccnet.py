"""CCNet's text normalisation and line hashes (facebookresearch/cc_net, ``text_normalizer.py`` and
``dedup.py``, MIT licence), reimplemented without numpy so that the values are the same.

Two normalisers, as in CCNet:

* :func:`normalize_line` is ``text_normalizer.normalize`` with its defaults (``accent=True,
  case=True, numbers=True, punct=1``): what CCNet's SentencePiece/KenLM perplexity models expect.
* :func:`normalize_for_dedup` is ``text_normalizer.normalize_for_dedup``: what CCNet's line
  dedup hashes (``dedup.compute_hashes``). It keeps accents and *removes* unicode punctuation
  instead of replacing it, so it is not the same function; :func:`line_hash` uses this one, so
  that our hashes are CCNet's hashes.

A line takes part in dedup only if its dedup-normalised form is not empty (see
:func:`hashed_lines`): CCNet hashes blank lines too, and since the hash of ``""`` is the same in
every document, it would remove every blank line of the job as a "duplicate". Here a blank line
(or one of only whitespace, control characters or removed unicode punctuation) is never a
duplicate of anything and is never removed by dedup.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection

from llama_data.hashing import sha1_int

# CCNet's map, kept as is (including its oddity "１" -> '"'; with numbers=True the digit rule runs
# first and turns "１" into "0", so that entry only matters with numbers=False).
UNICODE_PUNCT = {
    "，": ",",
    "。": ".",
    "、": ",",
    "„": '"',
    "”": '"',
    "“": '"',
    "«": '"',
    "»": '"',
    "１": '"',
    "」": '"',
    "「": '"',
    "《": '"',
    "》": '"',
    "´": "'",
    "∶": ":",
    "：": ":",
    "？": "?",
    "！": "!",
    "（": "(",
    "）": ")",
    "；": ";",
    "–": "-",
    "—": " - ",
    "．": ". ",
    "～": "~",
    "’": "'",
    "…": "...",
    "━": "-",
    "〈": "<",
    "〉": ">",
    "【": "[",
    "】": "]",
    "％": "%",
    "►": "-",
}

# A regular expression rather than str.translate: on non-ASCII text, translate looks every
# character up in a dict, while the class compiles into a bitmap and only matches call back.
_UNICODE_PUNCT_RE = re.compile(f"[{re.escape(''.join(UNICODE_PUNCT))}]")
# C0 controls (0-31, so tab, newline and carriage return too), DEL and C1 controls (127-159).
NON_PRINTING_CHARS = "".join(map(chr, [*range(32), *range(127, 160)]))
_NON_PRINTING_RE = re.compile(f"[{re.escape(NON_PRINTING_CHARS)}]")
_PUNCT_OR_NON_PRINTING_RE = re.compile(
    f"[{re.escape(''.join(UNICODE_PUNCT) + NON_PRINTING_CHARS)}]")
_DIGIT_RE = re.compile(r"\d")  # any unicode decimal digit ("٣", "０"), as CCNet's
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# The digit and non-printing rules for ASCII text in one str.translate (a fast path in CPython);
# a line's non-printing characters are deleted, a whole text's become spaces (normalize_text).
_ASCII_LINE = str.maketrans({**dict.fromkeys("0123456789", "0"),
                             **dict.fromkeys(filter(str.isascii, NON_PRINTING_CHARS), None)})
_ASCII_TEXT = str.maketrans({**dict.fromkeys("0123456789", "0"),
                             **dict.fromkeys(filter(str.isascii, NON_PRINTING_CHARS), " ")})


@functools.cache
def _combining_marks() -> re.Pattern:
    """A character class of the Basic Multilingual Plane's combining marks (category Mn), built
    once per process (15 ms): ``re`` compiles it into a bitmap, fast to match."""
    ranges: list[list[int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)) == "Mn":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                                    for a, b in ranges) + "]")


def _drop_astral_mark(match: re.Match) -> str:
    return "" if unicodedata.category(match.group()) == "Mn" else match.group()


def strip_accents(line: str) -> str:
    """Decompose (NFD) and drop the combining marks (category Mn): "é" -> "e". Characters beyond
    the Basic Multilingual Plane (emoji, mostly) are rare enough to be checked one by one."""
    if line.isascii():
        return line
    return _ASTRAL.sub(_drop_astral_mark,
                       _combining_marks().sub("", unicodedata.normalize("NFD", line)))


def _replace_punctuation(text: str) -> str:
    """:data:`UNICODE_PUNCT`'s ASCII equivalents (its keys are all non-ASCII)."""
    if text.isascii():
        return text
    return _UNICODE_PUNCT_RE.sub(lambda match: UNICODE_PUNCT[match.group()], text)


def normalize_line(line: str) -> str:
    """CCNet's ``normalize(line)`` with its defaults, in this order:

    - strip leading and trailing whitespace (a blank line gives "");
    - lower case;
    - strip accents (NFD, then drop combining marks);
    - every unicode decimal digit -> "0";
    - replace unicode punctuation by its ASCII equivalent (:data:`UNICODE_PUNCT`);
    - delete non-printing characters (code points 0-31 and 127-159, tab included).

    Like CCNet's, runs of inner spaces are kept as they are (not collapsed).
    """
    line = line.strip()
    return _normalize(line, _ASCII_LINE, "") if line else line


def normalize_text(text: str) -> str:
    """:func:`normalize_line`'s rules over a whole text, with line breaks and other non-printing
    characters turned into spaces rather than deleted: one line of words, as a fastText
    classifier reads its examples. Line by line, so that only lines with non-ASCII characters
    take the slower path."""
    if text.isascii():
        return _normalize(text, _ASCII_TEXT, " ").strip()
    return " ".join(_normalize(line, _ASCII_TEXT, " ") for line in text.split("\n")).strip()


def _normalize(text: str, ascii_table: dict[int, str | None], non_printing: str) -> str:
    """CCNet's steps in an order that gives the same result and lets most lines finish on the
    ASCII path (the only non-ASCII characters of a web line are often curly quotes and dashes):
    no digit decomposes under NFD or comes out of a decomposition, and the punctuation map is
    applied again after accent stripping, since one mark does come out of one (U+1FFD -> U+00B4).
    A test checks the result against CCNet's order on every code point."""
    text = text.lower()
    if not text.isascii():
        text = _replace_punctuation(_DIGIT_RE.sub("0", text))
    if text.isascii():  # the digit and non-printing rules in one translate; nothing else applies
        return text.translate(ascii_table)
    return _NON_PRINTING_RE.sub(non_printing, _replace_punctuation(strip_accents(text)))


def normalize_for_dedup(line: str) -> str:
    """CCNet's ``normalize_for_dedup(line)``, the normalisation its line hashes use:

    - strip leading and trailing whitespace;
    - lower case;
    - every unicode decimal digit -> "0";
    - delete unicode punctuation (:data:`UNICODE_PUNCT`'s keys) and non-printing characters.

    Accents are kept and ASCII punctuation is kept.
    """
    line = line.strip()
    if not line:
        return line
    line = line.lower()
    line = _DIGIT_RE.sub("0", line)
    return _PUNCT_OR_NON_PRINTING_RE.sub("", line)


def line_hash(line: str) -> int:
    """CCNet's line hash: SHA-1 of ``normalize_for_dedup(line)`` in UTF-8, its first 8 bytes read
    as an unsigned 64-bit integer in little-endian order.

    CCNet reads them with ``np.frombuffer(digest[:8], dtype=np.uint64)``, i.e. in the machine's
    order, little-endian on x86 and ARM (and its ``BYTE_ORDER`` constant says "little"); here the
    order is fixed, so the value is the same on every machine.
    """
    return sha1_int(normalize_for_dedup(line))


def split_lines(text: str) -> list[str]:
    """The lines of a document as CCNet cuts them: ``text.split("\\n")`` (a trailing newline
    gives a last, empty line; "" is one empty line)."""
    return text.split("\n")


def hashed_lines(text: str) -> list[tuple[int, int]]:
    """``(line index, hash)`` of the lines that take part in dedup: those whose dedup-normalised
    form is not empty. Blank lines are left out, so they are never duplicates of each other."""
    out = []
    for index, line in enumerate(split_lines(text)):
        normalized = normalize_for_dedup(line)
        if normalized:
            out.append((index, sha1_int(normalized)))
    return out


def remove_lines(text: str, drop: Collection[int]) -> str:
    """``text`` without the lines whose index (in :func:`split_lines`) is in ``drop``; the other
    lines keep their order and are joined with "\\n" again."""
    if not drop:
        return text
    return "\n".join(line for i, line in enumerate(split_lines(text)) if i not in drop)
