"""Token shards: what the trainer reads, memory-mapped, one per text shard.

For a text shard ``<source>/part-B-K.arrow`` the release holds, under ``tokens/<source>/``:

- ``part-B-K.tokens.npy``  every document's ids, concatenated: ``<s> ids... </s>`` per document
  (LLaMA's convention: BOS opens and EOS closes each document), ``uint16`` (vocabularies up to 65,536);
- ``part-B-K.docs.npy``    one row per document: ``end`` (exclusive offset into the tokens) and
  ``id_hash`` (first 8 bytes of SHA-1 of the document id, which decides the validation split);
- ``part-B-K.json``        written last: counts and the sha256 of the text shard, the tokenizer and
  both arrays. A shard is done when this file exists and matches; encoding resumes from there.

Both arrays are NumPy ``.npy`` files, so ``np.load(path, mmap_mode="r")`` maps them without reading.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from llama_data.errors import LlamaDataError
from llama_data.hashing import sha1_int, sha256_file
from llama_data.io import atomic_open, atomic_path

TOKEN_DTYPE = np.uint16
DOCS_DTYPE = np.dtype([("end", "<i8"), ("id_hash", "<u8")])
FORMAT = "llama-data-tokens"
FORMAT_VERSION = 1


class TokenShardError(LlamaDataError):
    """A token shard that is missing, truncated or does not match its record."""


def id_hash(doc_id: str) -> int:
    return sha1_int(doc_id)


@dataclasses.dataclass(frozen=True)
class TokenShard:
    """The record of one token shard (its ``.json``); ``stem`` is ``part-B-K``."""

    stem: str
    documents: int
    tokens: int
    text_sha256: str
    tokenizer_sha256: str
    tokens_sha256: str
    docs_sha256: str

    def to_json(self) -> dict:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **dataclasses.asdict(self)}


def paths(folder: Path, stem: str) -> tuple[Path, Path, Path]:
    return folder / f"{stem}.tokens.npy", folder / f"{stem}.docs.npy", folder / f"{stem}.json"


def _save_atomic(path: Path, array: np.ndarray) -> None:
    with atomic_open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)


def write(folder: Path, stem: str, tokens: np.ndarray, docs: np.ndarray, text_sha256: str,
          tokenizer_sha256: str) -> TokenShard:
    folder.mkdir(parents=True, exist_ok=True)
    tokens_path, docs_path, record_path = paths(folder, stem)
    _save_atomic(tokens_path, tokens.astype(TOKEN_DTYPE, copy=False))
    _save_atomic(docs_path, docs.astype(DOCS_DTYPE, copy=False))
    shard = TokenShard(stem, len(docs), len(tokens), text_sha256, tokenizer_sha256,
                       sha256_file(tokens_path), sha256_file(docs_path))
    with atomic_path(record_path) as tmp:
        tmp.write_text(json.dumps(shard.to_json(), indent=2, sort_keys=True) + "\n")
    return shard


def read_record(folder: Path, stem: str) -> TokenShard | None:
    """The shard's record, or None when it was never finished."""
    record_path = paths(folder, stem)[2]
    if not record_path.exists():
        return None
    try:
        data = json.loads(record_path.read_text())
        if data.pop("format", None) != FORMAT:
            raise ValueError("not a token shard record")
        data.pop("format_version", None)
        return TokenShard(**data)
    except (ValueError, TypeError) as e:
        raise TokenShardError(f"{record_path}: corrupt token shard record ({e})") from e


def open_shard(folder: Path, stem: str) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, docs) of a finished shard, memory-mapped and checked against its record's counts."""
    record = read_record(folder, stem)
    tokens_path, docs_path, _ = paths(folder, stem)
    if record is None:
        raise TokenShardError(f"{folder / stem}: token shard not finished "
                              "(run: llama-data tokenizer encode --release R)")
    try:
        tokens = np.load(tokens_path, mmap_mode="r", allow_pickle=False)
        docs = np.load(docs_path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise TokenShardError(f"{tokens_path.parent / stem}: corrupt token shard ({e})") from e
    if tokens.dtype != TOKEN_DTYPE or docs.dtype != DOCS_DTYPE or len(tokens) != record.tokens \
            or len(docs) != record.documents or (len(docs) and docs["end"][-1] != len(tokens)):
        raise TokenShardError(f"{tokens_path.parent / stem}: corrupt token shard (its arrays do "
                              f"not match {stem}.json)")
    return tokens, docs
