"""MediaWiki XML export dumps (``*-pages-articles*.xml[.bz2|.gz]``) -> one Document per page.

Streams with lxml's ``iterparse`` and frees each page once read, so memory does not grow with the dump.
Every page becomes a Document carrying its raw wikitext; deciding what is an article (namespace 0,
not a redirect) and cleaning the wikitext are later steps, so that each drop is counted with a reason.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Collection, Iterator, Sequence
from urllib.parse import quote

from lxml import etree

from llama_data.document import Document
from llama_data.errors import (
    InputError,
    LanguageNotAllowed,
    MalformedRecord,
    MalformedXML,
    TruncatedInput,
    UnknownLanguage,
)
from llama_data.filters import FilterResult, MinWords, Step
from llama_data.io import COMPRESSION_ERRORS, open_input
from llama_data.sources.xml_safety import SAFE_PARSER_ARGS, guarded, refuse_dtd
from llama_data.text.wikitext import WikitextCleaner, is_redirect, reference_urls

log = logging.getLogger("llama_data.sources.wikipedia")

SOURCE = "wikipedia"

# The LLaMA paper's 20 Wikipedia languages.
PAPER_LANGUAGES = (
    ["bg", "ca", "cs", "da", "de", "en", "es", "fr", "hr", "hu", "it", "nl", "pl", "pt", "ro", "ru", "sl", "sr", "sv", "uk"]
)

FILE_NAMESPACE, CATEGORY_NAMESPACE, MEDIA_NAMESPACE = 6, 14, -2
# Old names of the File namespace that MediaWiki still accepts but siteinfo does not list.
FILE_ALIASES = {
    "en": ["Image"], "de": ["Bild"], "es": ["Imagen"], "fr": ["Image"], "it": ["Immagine"],
    "nl": ["Afbeelding"], "pl": ["Grafika"], "pt": ["Imagem"], "ru": ["Изображение"],
    "uk": ["Зображення"], "sv": ["Bild"], "ca": ["Imatge"], "hu": ["Kép"], "ro": ["Imagine"],
    "bg": ["Картинка"], "sl": ["Slika"], "hr": ["Slika"], "sr": ["Слика"], "da": ["Billede"],
}
_DUMP_FILE_NAME = re.compile(r"(?:^|/)([a-z_]+)wiki-")


@dataclasses.dataclass(frozen=True)
class DumpInfo:
    """What the ``<siteinfo>`` header says about a dump."""

    lang: str
    dbname: str
    base_url: str
    namespaces: dict[int, str]

    def link_namespaces(self) -> dict[str, list[str]]:
        """Local and English names of the namespaces whose links are not prose (files, categories)."""
        files = ["File", "Image", "Media", *FILE_ALIASES.get(self.lang, [])]
        files += [self.namespaces[k] for k in (FILE_NAMESPACE, MEDIA_NAMESPACE) if k in self.namespaces]
        categories = ["Category", self.namespaces.get(CATEGORY_NAMESPACE, "Category")]
        return {"file": sorted(set(files)), "category": sorted(set(categories))}


def _lang_from(dbname: str, xml_lang: str | None, path: str) -> str | None:
    if dbname.endswith("wiki"):
        return dbname[: -len("wiki")].replace("_", "-")
    if xml_lang:
        return xml_lang
    match = _DUMP_FILE_NAME.search(path)
    return match.group(1).replace("_", "-") if match else None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class DumpReader:
    """Iterate one dump: a Document per page, or an :class:`InputError` for what cannot be read.

    A file-level error (truncated stream, malformed XML, bad encoding, a DTD, a refused language)
    is yielded once and ends the file; pages read before it are kept. A malformed page is yielded
    as :class:`MalformedRecord` and reading goes on.
    """

    def __init__(self, path: str, languages: Collection[str] | None = PAPER_LANGUAGES):
        self.path = path
        self.languages = None if languages is None else frozenset(languages)
        self.info: DumpInfo | None = None
        self.pages = 0

    def __iter__(self) -> Iterator[Document | InputError]:
        try:
            yield from guarded(self.path, self._pages(), self._after)
        except ValueError as e:  # a non-numeric namespace key in <siteinfo>
            yield MalformedXML(self.path, f"unexpected value in the dump header: {e}")
        except COMPRESSION_ERRORS as e:
            yield TruncatedInput(self.path, f"compressed stream is truncated or corrupt ({e})",
                                 self._after())

    def _after(self) -> str:
        return f"after page {self.pages}"

    def _pages(self) -> Iterator[Document | InputError]:
        with open_input(self.path) as stream:
            parser = etree.iterparse(stream, events=("start", "end"), **SAFE_PARSER_ARGS)
            root = None
            for event, el in parser:
                if root is None:
                    root = el
                    refuse_dtd(el, self.path, "a MediaWiki dump")
                    continue
                if event != "end":
                    continue
                name = _local(el.tag)
                if name == "siteinfo":
                    self.info = self._read_siteinfo(el, root)
                elif name == "page":
                    if self.info is None:
                        self.info = self._read_siteinfo(None, root)
                    self.pages += 1
                    yield self._page(el)
                    el.clear()
                    while el.getprevious() is not None:
                        del root[0]

    def _read_siteinfo(self, el, root) -> DumpInfo:
        find = (lambda name: el.findtext(f"{{*}}{name}") or "") if el is not None else (lambda _: "")
        dbname = find("dbname")
        lang = _lang_from(dbname, root.get("{http://www.w3.org/XML/1998/namespace}lang"), self.path)
        if not lang:
            raise UnknownLanguage(self.path, "cannot tell the dump's language: no <dbname> in "
                                  "<siteinfo>, no xml:lang and no '<lang>wiki-' file name")
        if self.languages is not None and lang not in self.languages:
            raise LanguageNotAllowed(
                self.path, f"language {lang!r} is not among the allowed languages "
                f"({' '.join(sorted(self.languages))}); pass --languages to allow it")
        namespaces = {}
        if el is not None:
            for ns in el.iterfind("{*}namespaces/{*}namespace"):
                namespaces[int(ns.get("key"))] = ns.text or ""
        base = find("base") or f"https://{lang}.wikipedia.org/wiki/"
        return DumpInfo(lang, dbname or f"{lang}wiki", base.rsplit("/", 1)[0] + "/", namespaces)

    def _page(self, el) -> Document | InputError:
        try:
            return self._document(el)
        except ValueError as e:
            return MalformedRecord(self.path, f"page with an unexpected value: {e}",
                                   f"line {el.sourceline}")

    def _document(self, el) -> Document | InputError:
        title = el.findtext("{*}title")
        ns = el.findtext("{*}ns")
        page_id = el.findtext("{*}id")
        revision = el.find("{*}revision")
        text = revision.findtext("{*}text") if revision is not None else None
        if not title or ns is None or not ns.strip().lstrip("-").isdigit() or not page_id:
            return MalformedRecord(self.path, "page without a title, namespace or id",
                                   f"line {el.sourceline}")
        redirect = el.find("{*}redirect")
        info = self.info
        return Document(
            id=f"{SOURCE}/{info.lang}/{page_id.strip()}",
            text=text or "",
            source=SOURCE,
            url=info.base_url + quote(title.replace(" ", "_")),
            lang=info.lang,
            meta={
                "title": title,
                "page_id": int(page_id),
                "ns": int(ns),
                "redirect": redirect.get("title", "") if redirect is not None else None,
                "revision_id": int(revision.findtext("{*}id") or 0) if revision is not None else 0,
                "timestamp": revision.findtext("{*}timestamp") if revision is not None else None,
                "wiki": info.dbname,
                "link_namespaces": info.link_namespaces(),
            },
        )


def read_dump_info(path: str, languages: Collection[str] | None = PAPER_LANGUAGES) -> DumpInfo:
    """The dump's header alone (reads until the first page); raises :class:`InputError`."""
    reader = DumpReader(path, languages)
    for item in reader:
        if isinstance(item, InputError) and not isinstance(item, MalformedRecord):
            raise item
        break
    if reader.info is None:
        raise MalformedXML(path, "no <siteinfo> and no <page> found")
    return reader.info


@dataclasses.dataclass(frozen=True)
class IsArticle:
    """Keep encyclopedia articles: namespace 0 and not a redirect."""

    name: str = "article"

    def filter(self, doc: Document) -> FilterResult:
        if doc.meta.get("ns") != 0:
            return False, "not_namespace_0"
        if doc.meta.get("redirect") is not None or is_redirect(doc.text):
            return False, "redirect"
        return True


@dataclasses.dataclass(frozen=True)
class CleanWikitext:
    """Wikitext -> plain text, with the file and category namespace names of the page's wiki."""

    name: str = "clean_wikitext"

    def map(self, doc: Document) -> Document:
        meta = dict(doc.meta)
        names = meta.pop("link_namespaces", None) or {}
        cleaner = _cleaner(tuple(names.get("file", ("File", "Image", "Media"))),
                           tuple(names.get("category", ("Category",))))
        return doc.replace(text=cleaner.clean(doc.text), meta=meta)


@functools.lru_cache(maxsize=64)
def _cleaner(files: tuple[str, ...], categories: tuple[str, ...]) -> WikitextCleaner:
    return WikitextCleaner(files, categories)


def wikipedia_steps(min_words: int = MinWords.min_words) -> list[Step]:
    """What turns a dump's pages into training text, in order."""
    return [IsArticle(), CleanWikitext(), MinWords(min_words)]


def cited_urls(paths: Sequence[str], languages: Collection[str] | None = None) -> Iterator[str]:
    """The external URLs cited in ``<ref>`` tags of the dumps' articles (LLaMA's reference pages);
    a page that cannot be read is logged and passed over."""
    article = IsArticle()
    for path in paths:
        for item in DumpReader(path, languages):
            if isinstance(item, InputError):
                log.warning("reading references: %s", item)
            elif article.filter(item) is True:
                yield from reference_urls(item.text)
