"""Text shards -> token shards, in parallel across processes, resumable shard by shard.

SentencePiece's cost per byte grows with the length of what it is given, and natural text repeats
its words. For a LLaMA-style model a text's ids are exactly the concatenation of its *words'* ids,
a word being a run of spaces with the non-space characters after it, up to the next run of spaces
or newline: that is how SentencePiece's trainer cut the text, so no piece spans two words (and no
piece contains a newline, which is byte ``<0x0A>``). The dummy prefix "▁" it puts before a text is
the same as a leading space. So each distinct word is encoded once, with a copy of the model whose
``add_dummy_prefix`` is off, and cached; tests/test_tokenizer.py checks the ids equal one
``SentencePieceProcessor.encode`` call per document on the shared corpora.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path

import fsspec
import numpy as np
import pyarrow as pa

from llama_data import manifest as manifest_lib
from llama_data import progress
from llama_data import tokens as token_shards
from llama_data.errors import ReleaseError

from . import model

_WORD = re.compile(r"\n| *[^ \n]+| +")
CACHE_WORDS = 2_000_000  # distinct words kept; the cache starts over when full


class Encoder:
    """Ids of whole documents, identical to ``SentencePieceProcessor.encode(doc)``, computed word by
    word with a cache of each distinct word's ids."""

    def __init__(self, model_path: str | Path):
        self.whole = model.load(model_path)
        self._words = model.load(model_path, add_dummy_prefix=False)
        self.bos, self.eos = self.whole.bos_id(), self.whole.eos_id()
        self._cache: dict[str, list[int]] = {}

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        split = [_WORD.findall(" " + text) if text else [] for text in texts]
        new = list({w for words in split for w in words if w not in self._cache})
        if len(self._cache) + len(new) > CACHE_WORDS:
            self._cache.clear()
            new = list({w for words in split for w in words})
        self._cache.update(zip(new, self._words.encode(new)))
        lookup = self._cache.__getitem__
        return [list(chain.from_iterable(map(lookup, words))) for words in split]

    def encode_documents(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Concatenated ``<s> ids </s>`` per text, and the end offset of each."""
        flat: list[int] = []
        ends = np.empty(len(texts), dtype=np.int64)
        for i, ids in enumerate(self.encode(texts)):
            flat.append(self.bos)
            flat.extend(ids)
            flat.append(self.eos)
            ends[i] = len(flat)
        return np.array(flat, dtype=token_shards.TOKEN_DTYPE), ends


_worker: Encoder | None = None


def _init_worker(model_path: str) -> None:
    global _worker
    _worker = Encoder(model_path)


def encode_shard(text_path: str, out_folder: str, stem: str, tokenizer_sha256: str,
                 text_sha256: str, batch: int = 256) -> token_shards.TokenShard:
    """Encode one text shard, refused unless its bytes have the sha256 the manifest lists."""
    with fsspec.open(text_path, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != text_sha256:
        raise ReleaseError(f"{text_path}: sha256 differs from the manifest's (the shard changed "
                           "after its source was prepared: run prepare for it again)")
    table = pa.ipc.open_stream(data).read_all()
    texts, ids = table.column("text").to_pylist(), table.column("id").to_pylist()
    flat_parts, end_parts, offset = [], [], 0
    for start in range(0, len(texts), batch):
        flat, ends = _worker.encode_documents(texts[start:start + batch])
        flat_parts.append(flat)
        end_parts.append(ends + offset)
        offset += len(flat)
    tokens = np.concatenate(flat_parts) if flat_parts else np.zeros(0, token_shards.TOKEN_DTYPE)
    docs = np.empty(len(texts), dtype=token_shards.DOCS_DTYPE)
    docs["end"] = np.concatenate(end_parts) if end_parts else []
    docs["id_hash"] = [token_shards.id_hash(i) for i in ids]
    return token_shards.write(Path(out_folder), stem, tokens, docs, text_sha256, tokenizer_sha256)


def _encode_task(task: tuple[str, tuple]) -> tuple[str, token_shards.TokenShard]:
    source, args = task
    return source, encode_shard(*args)


def _record_tokens(done: dict[str, list[token_shards.TokenShard]], tokenizer_sha256: str,
                   manifest: manifest_lib.Manifest) -> None:
    """Token counts into the manifest as it is now, for each source whose shards are still the
    ones encoded (a source prepared again meanwhile has new shards: its tokens are stale)."""
    for source, records in done.items():
        entry = manifest.sources.get(source)
        if entry is None or [r.text_sha256 for r in records] != [s.sha256 for s in entry.shards]:
            continue
        entry.tokens = {
            "tokens": sum(r.tokens for r in records),
            "documents": sum(r.documents for r in records),
            "tokenizer_sha256": tokenizer_sha256,
            "shards": [r.stem for r in records],
        }


def encode_release(release: str, workers: int | None = None, sources: Iterable[str] | None = None):
    """Encode every text shard of ``release`` with its tokenizer; skip shards already done with the
    same text and tokenizer. Records per-source token counts in the manifest."""
    root = Path(release)
    manifest = manifest_lib.load(release)
    if manifest.tokenizer is None:
        raise ReleaseError(f"{release}: no tokenizer (run: llama-data tokenizer train --release {release})")
    model_path = root / manifest.tokenizer["path"]
    tokenizer_sha256 = token_shards.sha256_file(model_path)
    if tokenizer_sha256 != manifest.tokenizer["sha256"]:
        raise ReleaseError(f"{model_path}: does not match the sha256 in the manifest (retrain it)")
    vocab = model.load(model_path).vocab_size()
    if vocab > np.iinfo(token_shards.TOKEN_DTYPE).max + 1:
        raise ReleaseError(f"{model_path}: {vocab} pieces do not fit uint16 token shards")

    wanted = set(sources) if sources else set(manifest.sources)
    tasks, done, documents = [], {}, 0
    for source in sorted(wanted & set(manifest.sources)):
        out = root / "tokens" / source
        done[source] = []
        for shard in manifest.sources[source].shards:
            stem = shard.name.removesuffix(".arrow")
            record = token_shards.read_record(out, stem)
            if record and record.text_sha256 == shard.sha256 \
                    and record.tokenizer_sha256 == tokenizer_sha256:
                done[source].append(record)
            else:
                entry = manifest.sources[source]
                tasks.append((source, (entry.shard_path(release, source, shard), str(out), stem,
                                       tokenizer_sha256, shard.sha256)))
            documents += shard.documents
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks) or 1))
    skipped = sum(len(v) for v in done.values())
    print(f"tokens: {len(tasks)} shard(s) to encode with {workers} process(es)"
          f"{f', {skipped} already done' if skipped else ''}", file=sys.stderr)
    started = time.monotonic()
    context = multiprocessing.get_context("spawn")
    # The shards already done count as done: the bar ends at the sources' documents and tokens.
    already = [r for records in done.values() for r in records]
    tokens = sum(r.tokens for r in already)
    with context.Pool(workers, initializer=_init_worker, initargs=(str(model_path),)) as pool, \
            progress.bar(documents, "tokens: encode", "doc", postfix=f"{tokens} tokens",
                         initial=sum(r.documents for r in already)) as shown:
        for source, record in pool.imap_unordered(_encode_task, tasks):
            done[source].append(record)
            tokens += record.tokens
            shown.set_postfix_str(f"{tokens} tokens", refresh=False)
            shown.update(record.documents)
    for records in done.values():
        records.sort(key=lambda r: r.stem)
    manifest = manifest_lib.update(release, functools.partial(_record_tokens, done,
                                                              tokenizer_sha256))
    print(f"tokens: done in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return manifest
