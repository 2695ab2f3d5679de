"""What the JSON-lines sources share (released C4, GitHub's BigQuery export): one record per
line, streamed, a bad line named and passed over, a truncated stream ending its file."""

from __future__ import annotations

import abc
import json
from collections.abc import Iterator
from typing import Any

from llama_data.document import Document
from llama_data.errors import InputError, InvalidEncoding, MalformedRecord, TruncatedInput
from llama_data.io import COMPRESSION_ERRORS, open_input


class JsonLinesReader(abc.ABC):
    """Iterate one JSON-lines file (gzipped or plain, local or fsspec): a Document per line, or
    an :class:`InputError` naming the line. A subclass says what a record becomes
    (:meth:`from_record`)."""

    def __init__(self, path: str):
        self.path = path
        self.lines = 0

    def __iter__(self) -> Iterator[Document | InputError]:
        try:
            with open_input(self.path) as stream:
                for raw in stream:
                    self.lines += 1
                    if raw.strip():
                        yield self._document(raw)
        except InputError as e:
            yield e
        except COMPRESSION_ERRORS as e:
            yield TruncatedInput(self.path, f"compressed stream is truncated or corrupt ({e})",
                                 f"after line {self.lines}")

    def _document(self, raw: bytes) -> Document | InputError:
        where = f"line {self.lines}"
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            return InvalidEncoding(self.path, f"not UTF-8 ({e.reason} at byte {e.start})", where)
        except json.JSONDecodeError as e:
            return MalformedRecord(self.path, f"not JSON ({e.msg} at column {e.colno})", where)
        return self.from_record(record, where)

    @abc.abstractmethod
    def from_record(self, record: Any, where: str) -> Document | InputError:
        """One parsed line -> its Document, or the InputError that names what is wrong."""
