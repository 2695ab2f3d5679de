"""Released C4 (``c4/en``, ``realnewslike``, ``en.noblocklist``): JSON lines
``{"text", "timestamp", "url"}`` (AllenAI's copies, as OLMo's test sample, name the timestamp
``date``), gzipped or plain, local or fsspec -> one Document per line.

Streams line by line, so memory does not grow with the file. A bad line (not JSON, not UTF-8, no
text) is yielded as an :class:`InputError` naming its line and reading goes on with the next one;
a truncated gzip member ends the file, the lines before it kept.
"""

from __future__ import annotations

import hashlib
from typing import Any

from llama_data.document import Document
from llama_data.errors import InputError, MalformedRecord
from llama_data.sources.jsonl import JsonLinesReader

SOURCE = "c4"


def document_id(url: str, timestamp: str, path: str, line: int) -> str:
    """Stable across reruns and mirrors: the page's URL and crawl time (a URL may be crawled more
    than once); for a record without a URL, the file's name and the line."""
    key = f"{url}\n{timestamp}" if url else f"{path.rsplit('/', 1)[-1]}\n{line}"
    return f"{SOURCE}/{hashlib.sha1(key.encode()).hexdigest()[:20]}"


class C4Reader(JsonLinesReader):
    """Iterate one released C4 file: a Document per line, or an :class:`InputError`."""

    def from_record(self, record: Any, where: str) -> Document | InputError:
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            return MalformedRecord(self.path, "not a C4 record (an object with a string 'text')",
                                   where)
        url = str(record.get("url") or "")
        timestamp = str(record.get("timestamp") or record.get("date") or "")
        return Document(id=document_id(url, timestamp, self.path, self.lines),
                        text=record["text"], source=SOURCE, url=url or None,
                        meta={"timestamp": timestamp or None})
