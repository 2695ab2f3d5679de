"""The one record that flows through every stage, and its versioned Arrow schema."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = "1"

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float64()),
        # Source-specific fields differ per source; JSON keeps one schema for all shards.
        pa.field("meta", pa.string(), nullable=False),
    ],
    metadata={"llama_data.schema": "document", "llama_data.schema_version": SCHEMA_VERSION},
)


@dataclasses.dataclass(frozen=True, slots=True)
class Document:
    """A text with where it came from; ``id`` is stable across reruns (source + original id)."""

    id: str
    text: str
    source: str
    url: str | None = None
    lang: str | None = None
    lang_score: float | None = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def replace(self, **changes: Any) -> Document:
        return dataclasses.replace(self, **changes)

    def to_row(self) -> dict[str, Any]:
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        row["meta"] = json.dumps(self.meta, ensure_ascii=False, sort_keys=True)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Document:
        return cls(**{**row, "meta": json.loads(row["meta"])})


def to_record_batch(docs: list[Document]) -> pa.RecordBatch:
    rows = [d.to_row() for d in docs]
    return pa.RecordBatch.from_pylist(rows, schema=SCHEMA)
