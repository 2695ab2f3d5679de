"""StackExchange data dump (the Internet Archive's ``stackexchange`` collection) -> one Document per
post, and the pure pieces of thread assembly: join a question with its answers, render the thread.

Inputs are per-site ``.7z`` archives (``beer.stackexchange.com.7z``, holding every table of the
site, or ``stackoverflow.com-Posts.7z``, one table each) and extracted ``Posts.xml`` files, plain or
compressed. Only the ``Posts.xml`` entry of an archive is read, streamed block by block through
libarchive into lxml's pull parser, with each row freed once read, so memory does not grow with
the dump (stackoverflow's ``Posts.xml`` is ~100 GB).

Every post becomes a Document carrying its raw Body HTML; which posts make a thread (questions
with their answers), and the HTML-to-text step, come after, so each drop is counted with a reason.
The join itself is keyed by (site, question id) in the pipeline; :func:`join_thread` is what one
key's posts become.
"""

from __future__ import annotations

import dataclasses
import itertools
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import fsspec
import libarchive
from libarchive.exception import ArchiveError
from lxml import etree

from llama_data.document import Document
from llama_data.errors import (
    DecompressionBomb,
    InputError,
    MalformedRecord,
    NotPostsDump,
    TruncatedInput,
)
from llama_data.filters import FilterResult
from llama_data.io import COMPRESSION_ERRORS, open_input
from llama_data.sources.xml_safety import SAFE_PARSER_ARGS, guarded, refuse_dtd
from llama_data.text.html import html_to_text

SOURCE = "stackexchange"

# The PostTypes table of the dump (its schema as published with the dump, and SEDE's PostTypes).
POST_TYPES = {
    1: "question", 2: "answer", 3: "orphaned_tag_wiki", 4: "tag_wiki_excerpt", 5: "tag_wiki",
    6: "moderator_nomination", 7: "wiki_placeholder", 8: "privilege_wiki", 9: "article",
    10: "help_article", 12: "collection", 13: "moderator_questionnaire_response",
    14: "announcement", 15: "collective_discussion", 17: "collective_collection",
}
QUESTION, ANSWER = 1, 2
# The dump's tables; a stackoverflow.com archive holds one each, named "<site>-<Table>.7z".
TABLES = ("Badges", "Comments", "PostHistory", "PostLinks", "Posts", "Tags", "Users", "Votes")
POSTS_ENTRY = "posts.xml"
_ARCHIVE = re.compile(rf"^(?P<site>.+?)(?:-(?P<table>{'|'.join(TABLES)}))?\.7z$")
_EXTRACTED = re.compile(r"^(?:(?P<site>.+)\.)?Posts\.xml(?:\.(?:bz2|gz))?$")
# Top-level domains of the network's sites (stackexchange.com, stackoverflow.com, mathoverflow.net).
_DOMAINS = ("com", "net")
CHUNK = 1 << 16


def site_of(path: str) -> str:
    """The site a dump file belongs to, from its name: ``beer.stackexchange.com.7z`` and
    ``stackoverflow.com-Posts.7z`` as the Internet Archive names them, an extracted
    ``<site>/Posts.xml`` (the folder) or a ``<site>.Posts.xml`` (the name's prefix, as in the
    shared corpus: ``beer.stackexchange.Posts.xml`` -> "beer.stackexchange"); raises ValueError
    for another name."""
    parent, name = posixpath.split(path.replace("\\", "/").rstrip("/"))
    archive = _ARCHIVE.match(name)
    if archive:
        return archive.group("site")
    extracted = _EXTRACTED.match(name)
    if extracted and (extracted.group("site") or posixpath.basename(parent)):
        return extracted.group("site") or posixpath.basename(parent)
    raise ValueError(f"{path}: not a StackExchange dump file name ('<site>.7z', "
                     "'<site>-Posts.7z', '<site>/Posts.xml' or '<site>.Posts.xml')")


def carries_posts(path: str) -> bool:
    """Whether a dump file can hold the site's ``Posts.xml``: not another table's archive (such as
    ``stackoverflow.com-Comments.7z``) and a name :func:`site_of` knows."""
    name = posixpath.basename(path.replace("\\", "/"))
    archive = _ARCHIVE.match(name)
    if archive:
        return archive.group("table") in (None, "Posts")
    return _EXTRACTED.match(name) is not None and _site_or_none(path) is not None


def _site_or_none(path: str) -> str | None:
    try:
        return site_of(path)
    except ValueError:
        return None


def _file_size(path: str) -> int:
    fs, fs_path = fsspec.core.url_to_fs(path)
    return int(fs.size(fs_path))


def largest_sites(paths: Sequence[str], n: int = 28,
                  sizes: Callable[[str], int] | None = None) -> list[str]:
    """The ``n`` sites whose dump files are largest in total, largest first, ties by name.

    Every file of a site counts, whichever table it holds: a per-site archive holds all tables, so
    adding up stackoverflow's one-table archives compares like with like. (Counting only the
    posts would need the archives opened; the Internet Archive's sizes are what a user sees.)
    Files whose names name no site are left out. ``sizes`` gives a file's size in bytes
    (default: the file system's, through fsspec)."""
    size_of = sizes or _file_size
    totals: dict[str, int] = {}
    for path in paths:
        site = _site_or_none(path)
        if site is not None:
            totals[site] = totals.get(site, 0) + size_of(path)
    return sorted(totals, key=lambda site: (-totals[site], site))[:n]


def parse_tags(value: str | None) -> list[str]:
    """Both tag formats of the dumps: ``<a><b>`` (older) and ``|a|b|`` (from 2023)."""
    if not value:
        return []
    if value.startswith("<"):
        return re.findall(r"<([^<>]+)>", value)
    return [tag for tag in value.split("|") if tag]


def post_url(site: str, post_id: int, post_type: str) -> str | None:
    """The post's short link when ``site`` is a domain of the network (``.com``/``.net``); None
    for a renamed file's site such as "beer.stackexchange", where guessing a domain could be
    wrong ("datascience-meta" is datascience.meta.stackexchange.com)."""
    if "." not in site or site.rsplit(".", 1)[1] not in _DOMAINS:
        return None
    return f"https://{site}/{'a' if post_type == 'answer' else 'q'}/{post_id}"


def _int(row: Any, name: str, required: bool = False) -> int | None:
    value = row.get(name)
    if value is None:
        if required:
            raise ValueError(f"no {name}")
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number") from None


class PostsReader:
    """Iterate one dump file: a Document per ``<row>`` of its ``Posts.xml``, or an
    :class:`InputError` for what cannot be read.

    A file-level error (truncated or corrupt archive or stream, malformed XML, bad encoding, a DTD,
    an archive whose ``Posts.xml`` expands beyond ``max_expansion`` times the archive's size) is
    yielded once and ends the file; rows read before it are kept. A row with a missing or
    non-numeric field is yielded as :class:`MalformedRecord` and reading goes on.
    """

    def __init__(self, path: str, max_expansion: float = 100.0):
        self.path = path
        self.max_expansion = max_expansion
        self.rows = 0

    def __iter__(self) -> Iterator[Document | InputError]:
        try:
            site = site_of(self.path)
        except ValueError as e:
            yield NotPostsDump(self.path, str(e))
            return
        try:
            yield from guarded(self.path, self._rows(site), self._after)
        except ArchiveError as e:
            yield TruncatedInput(self.path, f"archive is truncated or corrupt ({e})",
                                 self._after())
        except COMPRESSION_ERRORS as e:
            yield TruncatedInput(self.path, f"compressed stream is truncated or corrupt ({e})",
                                 self._after())

    def _after(self) -> str:
        return f"after row {self.rows}"

    def _rows(self, site: str) -> Iterator[Document | InputError]:
        parser = etree.XMLPullParser(events=("start", "end"), **SAFE_PARSER_ARGS)
        root = None
        for chunk in itertools.chain(self._chunks(), [None]):  # None: the end, close()
            try:
                parser.feed(chunk) if chunk is not None else parser.close()
            except etree.XMLSyntaxError as e:
                error = e
            else:
                error = None
            # The rows parsed before an error in this chunk are kept.
            for event, el in parser.read_events():
                if root is None:
                    root = el
                    refuse_dtd(el, self.path, "a StackExchange dump")
                elif event == "end" and el.tag == "row":
                    self.rows += 1
                    yield self._post(el.attrib, site, el.sourceline)
                    el.clear()
                    while el.getprevious() is not None:
                        del root[0]
            if error is not None:
                raise error

    def _chunks(self) -> Iterator[bytes]:
        if not self.path.lower().endswith(".7z"):
            with open_input(self.path) as stream:
                # read1: what one step of decompression gives, so a truncated stream loses
                # little of what precedes the damage
                read = getattr(stream, "read1", stream.read)
                while chunk := read(CHUNK):
                    yield chunk
            return
        limit = self.max_expansion * _file_size(self.path)
        with fsspec.open(self.path, "rb") as raw, libarchive.stream_reader(
                raw, format_name="7zip") as archive:
            for entry in archive:
                if posixpath.basename(entry.pathname or "").lower() != POSTS_ENTRY:
                    continue
                expanded = 0
                for block in entry.get_blocks(CHUNK):
                    expanded += len(block)
                    if expanded > limit:
                        raise DecompressionBomb(
                            self.path, f"Posts.xml expands beyond {self.max_expansion:g} times "
                            f"the archive's size ({expanded:,} bytes read)", self._after())
                    yield block
                return
        raise NotPostsDump(self.path, "the archive has no Posts.xml")

    def _post(self, row: Any, site: str, line: int | None) -> Document | InputError:
        try:
            return _document(row, site)
        except ValueError as e:
            return MalformedRecord(self.path, f"row with a bad attribute: {e}", f"line {line}")


def _document(row: Any, site: str) -> Document:
    post_id = _int(row, "Id", required=True)
    type_id = _int(row, "PostTypeId", required=True)
    post_type = POST_TYPES.get(type_id, f"type_{type_id}")
    parent_id = _int(row, "ParentId")
    if type_id == ANSWER and parent_id is None:
        raise ValueError("an answer without a ParentId")
    return Document(
        id=f"{SOURCE}/{site}/{post_id}",
        text=row.get("Body") or "",
        source=SOURCE,
        url=post_url(site, post_id, post_type),
        meta={
            "site": site,
            "post_id": post_id,
            "post_type": post_type,
            "parent_id": parent_id,
            "title": row.get("Title"),
            "tags": parse_tags(row.get("Tags")),
            "score": _int(row, "Score", required=True),
            "answer_count": _int(row, "AnswerCount"),
            "accepted_answer_id": _int(row, "AcceptedAnswerId"),
            "license": row.get("ContentLicense"),
            "created": row.get("CreationDate"),
        },
    )


# ---------------------------------------------------------------------------------------------
# Threads: the pipeline groups posts by (site, question id), then these pure pieces run.


def thread_key(doc: Document) -> tuple[str, int]:
    """The key that puts an answer with its question: (site, the question's post id); any other
    post is keyed by its own id, so it stays alone (post ids are unique within a site)."""
    meta = doc.meta
    question = meta["parent_id"] if meta["post_type"] == "answer" else meta["post_id"]
    return meta["site"], question


def join_thread(posts: Iterable[Document]) -> tuple[list[Document], int]:
    """One key's posts -> (documents, answers merged). With a question: the question alone, its
    answers (raw HTML) in ``meta["answers"]`` as ``{"post_id", "score", "body"}``, in post id
    order. Without one: the answers unchanged (orphans, whose question is not in the dump or was
    dropped), 0 merged. Other post types are returned unchanged."""
    questions, answers, others = [], [], []
    for post in posts:
        kind = post.meta.get("post_type")
        (questions if kind == "question" else answers if kind == "answer" else others).append(post)
    if len(questions) != 1:
        return [*questions, *answers, *others], 0
    merged = [{"post_id": a.meta["post_id"], "score": a.meta["score"], "body": a.text}
              for a in sorted(answers, key=lambda a: a.meta["post_id"])]
    question = questions[0]
    return [question.replace(meta={**question.meta, "answers": merged}), *others], len(merged)


@dataclasses.dataclass(frozen=True)
class IsQuestion:
    """Keep questions (the joined threads); drop unjoined answers and the other post types."""

    name: str = "post"

    def filter(self, doc: Document) -> FilterResult:
        kind = doc.meta.get("post_type")
        if kind == "question":
            return True
        return False, "orphan_answer" if kind == "answer" else str(kind)


def answer_order(answer: dict[str, Any]) -> tuple[int, int]:
    """Highest score first, compared as numbers (RedPajama compared the score strings, so "9"
    came before "10"), ties by the older answer (lower post id) first."""
    return -int(answer["score"]), int(answer["post_id"])


@dataclasses.dataclass(frozen=True)
class RenderThread:
    """A joined thread -> its training text and the fields a release keeps.

    The text is ``Q: <title>``, a blank line, the question as text, then each answer as
    ``A: <answer as text>`` in :func:`answer_order`, blocks separated by blank lines. RedPajama v1
    (togethercomputer/RedPajama-Data, branch rp_v1, commit 45b37c2a1d1e,
    ``data_prep/stack_exchange/post_processing.py``) wrote ``Q: <title> <body>\\nA: ...\\nA: ...``
    with answers sorted on their ``Score`` attribute strings (``filter.py`` keeps
    ``root.attrib["Score"]`` unconverted); ours keeps the "Q:"/"A:" markers, so a model still sees
    where each answer starts, and sorts numbers.
    """

    name: str = "thread"

    def map(self, doc: Document) -> Document:
        meta = dict(doc.meta)
        answers = sorted(meta.pop("answers", None) or [], key=answer_order)
        blocks = [f"Q: {meta.get('title') or ''}".rstrip(), html_to_text(doc.text)]
        blocks += [f"A: {html_to_text(answer['body'])}" for answer in answers]
        kept = {
            "site": meta["site"], "question_id": meta["post_id"], "score": meta["score"],
            "tags": meta.get("tags", []), "license": meta.get("license"),
            "answer_count": len(answers),
        }
        return doc.replace(text="\n\n".join(block for block in blocks if block), meta=kept)
