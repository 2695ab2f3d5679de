"""The weighted mixture sampler: fixed-length sequences drawn from the token shards by the plan.

Modelled on Megatron-LM's blended datasets:

- per source, the training documents are shuffled once per epoch (each epoch on its own, so a short
  final epoch is a shuffled subset too) and concatenated for as many epochs as the source needs;
  sequence j of a source is tokens ``[j*L, j*L + L + 1)`` of that stream (inputs and shifted targets);
- the sources are interleaved by Tijdeman's chairman-assignment rule, the exact form of "pick the
  source furthest behind its weight": among the sources at least δ = 1/(2m-2) sequences behind, the
  one whose next sequence falls due first. Every source's count then stays within 1 - δ < 1
  sequence (L tokens) of its share at every prefix; the plain "largest deficit" greedy can overshoot 1.
- a document belongs to the validation split of its source when a hash of its id says so
  (``val_fraction``); those documents never enter the training stream.

All indices are computed once, saved under ``<release>/tokens/.index/<hash of the config>/`` and
memory-mapped, so sequence k is always the same tokens and resuming needs only k.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from llama_data import manifest as manifest_lib
from llama_data import mixture
from llama_data import tokens as token_shards
from llama_data.errors import ReleaseError
from llama_data.io import atomic_path

INDEX_VERSION = 1
_VAL_BUCKETS = 1_000_000


@dataclasses.dataclass(frozen=True)
class Sequence:
    """``tokens`` holds L + 1 ids (inputs are ``[:-1]``, targets ``[1:]``); ``doc`` numbers the
    documents inside the sequence (0, 1, ...) and ``position`` restarts at 0 with each of them."""

    index: int
    source: str
    tokens: np.ndarray
    doc: np.ndarray
    position: np.ndarray


def interleave(weights: np.ndarray, count: int) -> np.ndarray:
    """Which source (an index into ``weights``) gives each of ``count`` sequences."""
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    active = [s for s in range(len(weights)) if weights[s] > 0]
    delta = 1 / (2 * (len(active) - 1)) if len(active) > 1 else 0.0
    taken = {s: 0 for s in active}
    # A source's next sequence is released at step (c + δ)/w and due at step (c + 1 - δ)/w.
    pending = [((taken[s] + delta) / weights[s], s) for s in active]
    heapq.heapify(pending)
    ready: list[tuple[float, int]] = []
    order = np.empty(count, dtype=np.uint8 if len(weights) < 256 else np.int32)
    for step in range(1, count + 1):
        while pending and pending[0][0] <= step + 1e-9:
            _, s = heapq.heappop(pending)
            heapq.heappush(ready, ((taken[s] + 1 - delta) / weights[s], s))
        if not ready:  # cannot happen under the rule's guarantee; keeps the loop total anyway
            _, s = heapq.heappop(pending)
        else:
            _, s = heapq.heappop(ready)
        order[step - 1] = s
        taken[s] += 1
        heapq.heappush(pending, ((taken[s] + delta) / weights[s], s))
    return order


def is_validation(id_hashes: np.ndarray, val_fraction: float) -> np.ndarray:
    return (id_hashes % _VAL_BUCKETS) < round(val_fraction * _VAL_BUCKETS)


class _SourceDocs:
    """A source's documents across its token shards: where each one's tokens are."""

    def __init__(self, folder: Path, stems: list[str]):
        self.shards = [token_shards.open_shard(folder, stem) for stem in stems]
        ends = [docs["end"] for _, docs in self.shards]
        self.shard = np.concatenate([np.full(len(e), i, np.int32) for i, e in enumerate(ends)]) \
            if ends else np.zeros(0, np.int32)
        self.end = np.concatenate(ends) if ends else np.zeros(0, np.int64)
        self.start = np.concatenate([np.concatenate([[0], e[:-1]]) for e in ends]) \
            if ends else np.zeros(0, np.int64)
        self.id_hash = np.concatenate([docs["id_hash"] for _, docs in self.shards]) \
            if ends else np.zeros(0, np.uint64)

    def tokens(self, doc: int, lo: int, hi: int) -> np.ndarray:
        start = self.start[doc]
        return self.shards[self.shard[doc]][0][start + lo:start + hi]

    def length(self, doc: int) -> int:
        return int(self.end[doc] - self.start[doc])


class MixtureSequences:
    """Sequences of ``seq_len + 1`` tokens from ``release``'s token shards, weighted by its
    ``mixture.json``; ``num_sequences`` of them (the run's tokens / seq_len)."""

    def __init__(self, release: str, seq_len: int, num_sequences: int, *, seed: int = 0,
                 val_fraction: float = 0.01):
        if seq_len < 1 or num_sequences < 1:
            raise ValueError("seq_len and num_sequences must be positive")
        self.release, self.seq_len, self.seed = Path(release), seq_len, seed
        self.val_fraction = val_fraction
        plan = mixture.load_plan(release)
        entries = manifest_lib.load(release).sources
        self.sources = [s.source for s in plan.sources if s.weight > 0]
        weights = np.array([s.weight for s in plan.sources if s.weight > 0])
        absent = [s for s in self.sources if s not in entries or not entries[s].tokens]
        if absent:
            raise ReleaseError(f"{release}: mixture.json names sources without token shards: "
                               f"{', '.join(absent)} (run: llama-data tokenizer encode --release "
                               f"{release})")
        self.docs = {s: _SourceDocs(self.release / "tokens" / s, entries[s].tokens["shards"])
                     for s in self.sources}
        config = {"version": INDEX_VERSION, "seq_len": seq_len, "num_sequences": num_sequences,
                  "seed": seed, "val_fraction": val_fraction, "weights": weights.tolist(),
                  "sources": self.sources,
                  "tokens": {s: entries[s].tokens for s in self.sources}}
        key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
        self.cache = self.release / "tokens" / ".index" / key
        if not (self.cache / "config.json").exists():
            self._build(weights, num_sequences, config)
        load = lambda name: np.load(self.cache / f"{name}.npy", mmap_mode="r")
        self.order, self.within = load("order"), load("within")
        self.doc_order = {s: load(f"{s}.doc_order") for s in self.sources}
        self.starts = {s: load(f"{s}.starts") for s in self.sources}

    def _build(self, weights: np.ndarray, num_sequences: int, config: dict) -> None:
        order = interleave(weights, num_sequences)
        within = np.empty(num_sequences, dtype=np.int64)
        for s in range(len(self.sources)):
            picked = order == s
            within[picked] = np.arange(picked.sum())
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_path(self.cache) as tmp:
                tmp.mkdir()
                np.save(tmp / "order.npy", order)
                np.save(tmp / "within.npy", within)
                for s, source in enumerate(self.sources):
                    doc_order, starts = self._source_index(source, s, int((order == s).sum()))
                    np.save(tmp / f"{source}.doc_order.npy", doc_order)
                    np.save(tmp / f"{source}.starts.npy", starts)
                (tmp / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
        except OSError:
            if not (self.cache / "config.json").exists():
                raise
            # else another process built the same index first

    def _source_index(self, source: str, s: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The source's document order over its epochs, and where each of its sequences starts:
        ``starts[j] = (position in doc_order, token offset in that document)``."""
        docs = self.docs[source]
        train = np.flatnonzero(~is_validation(docs.id_hash, self.val_fraction))
        lengths = (docs.end - docs.start)[train]
        total = int(lengths.sum())
        needed = count * self.seq_len + 1
        if total == 0:
            raise ReleaseError(f"{self.release}: {source} has no training tokens")
        epochs = -(-needed // total)
        rng = np.random.default_rng([self.seed, s])
        doc_order = np.concatenate([train[rng.permutation(len(train))] for _ in range(epochs)])
        return doc_order, self._starts(docs, doc_order, count)

    def _starts(self, docs: _SourceDocs, doc_order: np.ndarray, count: int) -> np.ndarray:
        """For sequences 0..count of the stream of ``doc_order``: (position, offset) of its start."""
        ends = np.cumsum((docs.end - docs.start)[doc_order])
        offsets = np.arange(count + 1, dtype=np.int64) * self.seq_len
        position = np.searchsorted(ends, offsets, side="right")
        before = np.where(position > 0, ends[np.maximum(position - 1, 0)], 0)
        return np.stack([position, offsets - before], axis=1)

    def _assemble(self, k: int, source: str, doc_order: np.ndarray, start: np.ndarray) -> Sequence:
        """The L + 1 tokens from ``start`` on in the stream of ``doc_order``, with boundaries."""
        docs, (pos, offset) = self.docs[source], start
        need = self.seq_len + 1
        pieces, doc_ids, positions, n = [], [], [], 0
        while n < need:
            doc = int(doc_order[pos])
            take = min(docs.length(doc) - offset, need - n)
            pieces.append(docs.tokens(doc, offset, offset + take))
            doc_ids.append(np.full(take, len(pieces) - 1, np.int32))
            positions.append(np.arange(take, dtype=np.int32))
            n += take
            pos, offset = pos + 1, 0
        return Sequence(k, source, np.concatenate(pieces).astype(np.int64),
                        np.concatenate(doc_ids), np.concatenate(positions))

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, k: int) -> Sequence:
        if not 0 <= k < len(self):
            raise IndexError(f"sequence {k} of {len(self)}")
        source = self.sources[self.order[k]]
        j = int(self.within[k])
        return self._assemble(k, source, self.doc_order[source], self.starts[source][j])

    def validation(self, source: str, max_sequences: int | None = None) -> Iterator[Sequence]:
        """The source's validation documents, in order, packed into sequences; never trained on."""
        docs = self.docs[source]
        held_out = np.flatnonzero(is_validation(docs.id_hash, self.val_fraction))
        count = max(0, int((docs.end - docs.start)[held_out].sum()) - 1) // self.seq_len
        count = count if max_sequences is None else min(count, max_sequences)
        if count == 0:  # a small source may hold out too little for one sequence
            return
        starts = self._starts(docs, held_out, count)
        for j in range(count):
            yield self._assemble(j, source, held_out, starts[j])
