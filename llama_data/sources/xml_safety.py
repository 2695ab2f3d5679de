"""What every XML dump reader shares: lxml parser settings that never expand entities, load a DTD
or touch the network, the refusal of a DTD, and the mapping of lxml's errors to InputErrors.

Dumps (MediaWiki exports, StackExchange ``Posts.xml``) never carry a DTD; one in a download is a
corruption or an attack (entity expansion, external entities), so it ends the file as UnsafeXML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lxml import etree

from llama_data.document import Document
from llama_data.errors import InputError, InvalidEncoding, MalformedXML, UnsafeXML

# Keyword arguments for ``etree.iterparse`` and ``etree.XMLPullParser``.
SAFE_PARSER_ARGS = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": True,
    "remove_comments": True,
}


def refuse_dtd(root: etree._Element, path: str, what: str) -> None:
    """Raise UnsafeXML when the document of ``root`` (its first element) declares a DTD."""
    if root.getroottree().docinfo.internalDTD is not None:
        raise UnsafeXML(path, f"a DTD is not allowed in {what} "
                        "(it can declare expanding or external entities)", "line 1")


def xml_error(path: str, error: etree.XMLSyntaxError) -> InputError:
    """The InputError naming what lxml refused: entity expansion, encoding, or syntax."""
    line, column = error.position if error.position else (None, None)
    position = f"line {line}, column {column}" if line else None
    message = error.msg or str(error)
    lowered = message.lower()
    if "amplification" in lowered or "entity" in lowered:
        return UnsafeXML(path, f"entity expansion refused: {message}", position)
    if "encoding" in lowered or "utf-8" in lowered or "char" in lowered and "invalid" in lowered:
        return InvalidEncoding(path, message, position)
    return MalformedXML(path, message, position)


def guarded(path: str, items: Iterator[Document | InputError],
            after: Callable[[], str]) -> Iterator[Document | InputError]:
    """``items`` of an XML dump, with what ends the file early (an InputError raised, lxml's
    refusal, undecodable bytes) yielded as its InputError; ``after`` says where (read lazily).
    Errors of the stream beneath (compression, archive) pass through to the reader."""
    try:
        yield from items
    except InputError as e:
        yield e
    except etree.XMLSyntaxError as e:
        yield xml_error(path, e)
    except UnicodeError as e:
        yield InvalidEncoding(path, str(e), after())
