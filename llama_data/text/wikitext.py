"""Wikitext -> plain prose, with mwparserfromhell's tokenizer and a walk over its token stream.

Templates, tables, references and comments are dropped whole, never rendered; they are nested,
often huge (infoboxes) and where a parser spends most of its time. So they are cut first by a
balanced-delimiter scan over the raw text (a regex finds the delimiters, a stack pairs them), and
the parser's C tokenizer then sees only what may become prose: links, headings, tags, entities,
external links. Its tokens are rendered in one pass with a stack, skipping the node tree that
``mwparserfromhell.parse`` builds in Python (three quarters of its time on real articles).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from mwparserfromhell.parser import tokens as T

try:
    from mwparserfromhell.parser import CTokenizer as _Tokenizer
except ImportError:  # no compiled tokenizer on this platform: the pure-Python one, same tokens
    from mwparserfromhell.parser.tokenizer import Tokenizer as _Tokenizer

# Tags whose content is not prose.
DROPPED_TAGS = frozenset(
    ["ref", "references", "gallery", "math", "chem", "ce", "timeline", "score", "imagemap", "graph", "mapframe", "maplink", "templatedata", "templatestyles", "syntaxhighlight", "source", "hiero", "inputbox", "categorytree", "table", "indicator", "noinclude", "includeonly"]
)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_REF = re.compile(r"<ref\b[^>]*?/>|<ref\b[^>]*>.*?</ref\s*>", re.DOTALL | re.IGNORECASE)
_NESTED = re.compile(r"\{\{|\}\}|\{\||\|\}")
_INTERLANGUAGE = re.compile(r"^(?:[a-z]{2,3}(?:-[a-z]{2,8})*|simple)$")
_BEHAVIOUR_SWITCH = re.compile(r"__[A-Z]+__")
_QUOTES = re.compile(r"'{2,}")
_EMPTY_BRACKETS = re.compile(r"\([\s,;:\u2013\u2014-]*\)")  # what is left of "({{lang|..}}; {{IPA|..}})"
_SPACE_BEFORE_COMMA = re.compile(r" ([,.])(?=\s|$)")
_DANGLING_OPEN = re.compile(r"\(\s*[,;]\s*")  # "(, x" where a template was
_DANGLING_CLOSE = re.compile(r"[,;]\s*\)")  # "x, )"
_SPACES = re.compile(r"[ \t\u00a0]{2,}|[\t\u00a0]")  # single spaces are left alone: fast
_LINE_EDGES = re.compile(r" \n ?|\n ")
_BLANK_LINES = re.compile(r"\n{3,}")
_MARKUP_IN_TEXT = re.compile(r"\[\[|\]\]|\{\{|\}\}|\{\||\|\}")
_REDIRECT = re.compile(r"^\s*#\s*\S+\s*:?\s*\[\[", re.UNICODE)
# What may precede "{|" on its line for it to open a table: MediaWiki trims the line and accepts
# definition-list indents (": {|" indents the whole table).
_TABLE_INDENT = re.compile(r"[ \t]*:*[ \t]*")
# A link target broken across lines ("[[Target\n|label]]"), which the tokenizer leaves as text.
# Title characters exclude []{}|<>, so each match stops at the next bracket: one linear scan.
_BROKEN_TARGET = re.compile(r"\[\[([^\[\]{}|<>\n]*\n[^\[\]{}|<>]*)(?=\||\]\])")


def strip_nested(text: str) -> str:
    """Remove templates ``{{...}}`` and tables ``{|...|}``, nested in any order, in one pass.

    An unclosed template or table runs to the end of the text, as MediaWiki renders it as text
    there; we drop it instead, since it is markup either way.
    """
    out: list[str] = []
    stack: list[str] = []
    start = 0
    for match in _NESTED.finditer(text):
        token = match.group()
        if token in ("{{", "{|"):
            if token == "{|" and not (stack or _opens_table(text, match.start())):
                continue
            if not stack:
                out.append(text[start:match.start()])
            stack.append(token)
        elif stack and stack[-1] == ("{{" if token == "}}" else "{|"):
            stack.pop()
            if not stack:
                start = match.end()
    if not stack:
        out.append(text[start:])
    return "".join(out)


def _opens_table(text: str, at: int) -> bool:
    """Whether "{|" at ``at`` opens a table: first on its line, after spaces or a ":" indent."""
    line_start = text.rfind("\n", 0, at) + 1
    return _TABLE_INDENT.fullmatch(text, line_start, at) is not None


def _join_target(match: re.Match) -> str:
    return "[[" + " ".join(match.group(1).split())


def is_redirect(wikitext: str) -> bool:
    """A redirect page in any language (``#REDIRECT [[...]]``, ``#WEITERLEITUNG [[...]]``, ...)."""
    return bool(_REDIRECT.match(wikitext))


class _Frame:
    """An open construct on the render stack; text goes to ``sink`` (``None`` discards it)."""

    __slots__ = ("alt", "keep", "kind", "markup", "name", "parts", "sink")

    def __init__(self, kind: str, keep: bool = True, markup: str | None = None):
        self.kind = kind
        self.keep = keep  # False inside something dropped whole (a template, a reference)
        self.markup = markup
        self.parts: list[str] = []  # link target, external URL, heading, entity, or tag name
        self.alt: list[str] | None = None  # link anchor, external link title, or tag body
        self.sink = self.parts if keep or kind == "tag" else None
        self.name = ""


_OPEN = {
    T.WikilinkOpen: "link", T.ExternalLinkOpen: "ext", T.HeadingStart: "heading",
    T.HTMLEntityStart: "entity", T.TagOpenOpen: "tag",
    T.TemplateOpen: "drop", T.ArgumentOpen: "drop", T.CommentStart: "drop",
}
_CLOSE = {
    T.WikilinkClose: "link", T.ExternalLinkClose: "ext", T.HeadingEnd: "heading",
    T.HTMLEntityEnd: "entity", T.TagCloseSelfclose: "tag", T.TagCloseClose: "tag",
    T.TemplateClose: "drop", T.ArgumentClose: "drop", T.CommentEnd: "drop",
}
_SEPARATORS = (T.WikilinkSeparator, T.ExternalLinkSeparator)


class WikitextCleaner:
    """Plain text of a wikitext article: prose, headings as lines, link anchors, list items.

    ``file_namespaces`` and ``category_namespaces`` name, in the wiki's language and in English,
    the namespaces whose links are removed whole (images with their captions, categories).
    """

    def __init__(self, file_namespaces: Iterable[str] = ("File", "Image", "Media"),
                 category_namespaces: Iterable[str] = ("Category",)):
        self._drop_prefixes = {n.casefold() for n in (*file_namespaces, *category_namespaces)}
        self._tokenizer = _Tokenizer()

    def clean(self, wikitext: str) -> str:
        text = strip_nested(_REF.sub("", _COMMENT.sub("", wikitext)))
        text = _BROKEN_TARGET.sub(_join_target, text)  # the link's label, or its title, is shown
        # Bold/italic quotes are cut by a regex after the walk: the tokenizer's style handling is
        # slow and leaves unbalanced quotes behind as text.
        tokens = self._tokenizer.tokenize(text, 0, True)
        return self._tidy(self._render(tokens))

    def _render(self, tokens) -> str:
        stack = [_Frame("root")]
        for token in tokens:
            kind = type(token)
            top = stack[-1]
            if kind is T.Text:
                if top.sink is not None:
                    top.sink.append(token["text"])
            elif kind in _OPEN:
                frame_kind = _OPEN[kind]
                keep = frame_kind != "drop" and top.sink is not None
                stack.append(_Frame(frame_kind, keep, token.get("wiki_markup")))
                if frame_kind == "ext":
                    stack[-1].name = "[" if token["brackets"] else ""
            elif kind in _SEPARATORS and top.kind in ("link", "ext") and top.alt is None:
                top.alt = []
                top.sink = top.alt if top.keep else None
            elif kind is T.HTMLEntityNumeric or kind is T.HTMLEntityHex:
                top.name += "#" if kind is T.HTMLEntityNumeric else token["char"]
            elif top.kind == "tag":
                self._tag_token(top, kind)
            if kind in _CLOSE and len(stack) > 1 and top.kind == _CLOSE[kind]:
                stack.pop()
                out = self._close(top, kind)
                if out and stack[-1].sink is not None:
                    stack[-1].sink.append(out)
        return "".join(stack[0].parts)

    @staticmethod
    def _tag_token(tag: _Frame, kind) -> None:
        """Follow a tag through its parts: name, attributes (dropped), body, closing name."""
        if kind is T.TagAttrStart or kind is T.TagCloseOpen:
            tag.name = tag.name or "".join(tag.parts).strip().lower()
            tag.sink = None
            if kind is T.TagCloseOpen:
                tag.alt = []
                if tag.keep and tag.name not in DROPPED_TAGS and tag.markup != "{|":
                    tag.sink = tag.alt
        elif kind is T.TagOpenClose:
            tag.sink = None

    def _close(self, frame: _Frame, kind) -> str:
        text = "".join(frame.parts)
        if frame.kind == "link":
            return self._link(text, None if frame.alt is None else "".join(frame.alt))
        if frame.kind == "ext":
            if frame.alt is not None:
                return "".join(frame.alt)
            return "" if frame.name else text
        if frame.kind == "heading":
            return "\n" + text.strip() + "\n"
        if frame.kind == "entity":
            return html.unescape(f"&{frame.name}{text};")
        if frame.kind == "tag":
            name = frame.name or text.strip().lower()
            if kind is T.TagCloseSelfclose:
                return "\n" if name == "br" else ""
            body = "".join(frame.alt or ())
            if name == "nowiki":
                return "" if _MARKUP_IN_TEXT.search(body) else html.unescape(body)
            return body
        return ""

    def _link(self, target: str, anchor: str | None) -> str:
        target = target.strip()
        shown = target.startswith(":")  # [[:Category:X]] is a visible link, not a categorisation
        target = target.lstrip(":")
        prefix, colon, _ = target.partition(":")
        prefix = prefix.strip()
        if colon and not shown and (
            prefix.casefold() in self._drop_prefixes or _INTERLANGUAGE.match(prefix)
        ):
            return ""
        if anchor is not None:
            return anchor
        return target.split("#", 1)[0] or target.lstrip("#")

    @staticmethod
    def _tidy(text: str) -> str:
        """Cut quotes and switches, mend what removed templates leave, normalise whitespace.

        Every pattern starts with a literal character, so each is one fast scan of the text."""
        text = _QUOTES.sub("", _BEHAVIOUR_SWITCH.sub("", text))
        text = _EMPTY_BRACKETS.sub("", text)
        text = _DANGLING_CLOSE.sub(")", _DANGLING_OPEN.sub("(", text))
        text = _SPACE_BEFORE_COMMA.sub(r"\1", _SPACES.sub(" ", text))
        return _BLANK_LINES.sub("\n\n", _LINE_EDGES.sub("\n", text)).strip()


def reference_urls(wikitext: str) -> list[str]:
    """The external URLs cited inside ``<ref>`` tags, in order: bracketed or bare links, and the
    ``url=`` of citation templates (``{{cite web |url=...}}``), but not their ``archive-url``.

    Only the ``<ref>`` spans (found as the cleaner finds them) go through mwparserfromhell's
    parser, so an article costs little more than a regex scan.
    """
    import mwparserfromhell
    from mwparserfromhell.nodes import ExternalLink, Template

    urls: list[str] = []
    for span in _REF.finditer(_COMMENT.sub("", wikitext)):
        code = mwparserfromhell.parse(span.group())
        for node in code.filter(recursive=True, forcetype=(Template, ExternalLink)):
            if isinstance(node, Template):
                if node.has("url"):
                    urls.append(str(node.get("url").value).strip())
            elif not any(isinstance(a, Template) for a in code.get_ancestors(node)):
                urls.append(str(node.url).strip())
    return [url for url in urls if url.startswith(("http://", "https://"))]
