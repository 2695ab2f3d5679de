"""Book-level near-duplicates: MinHash over 5-word shingles, LSH banding for candidates, exact
containment to decide.

"More than 90% content overlap" (LLaMA §2.1, Books) is defined as *containment*: the share of the
smaller book's distinct 5-word shingles found in the other, at least ``CONTAINMENT`` (0.9).
Jaccard similarity is not that: a truncated or re-edited edition has a lower Jaccard than its
containment (the shared Pride and Prejudice editions: Jaccard 0.71, 0.82, 0.88 at containment
0.90, 0.96, 1.00). MinHash estimates Jaccard, so LSH must retrieve at the lowest Jaccard that a
qualifying pair can have, and exact containment on the shingle sets decides.

The Jaccard floor: with ``|A| = rho * |B|`` (A the smaller) and ``|A ∩ B| >= c * |A|``,
``J = |A ∩ B| / (|A| + |B| - |A ∩ B|) >= c * rho / (rho + 1 - c * rho)``. Assuming the smaller
book has at least ``SIZE_RATIO`` (0.8) of the larger's shingles, c = 0.9 gives J >= 2/3; with
128 permutations that makes 32 bands of 4 rows, which retrieve a pair at J = 2/3 with
probability 0.9991 (1 - (1 - J^4)^32). Pairs whose smaller book is under 0.8x the larger can
still be retrieved (c = 1 at 0.7x: J = 0.7, probability 0.9998; c = 0.9 at 0.7x: J = 0.59,
probability 0.98), but the 0.99 guarantee holds only above 0.8x.

Shingles are hashed by ``shingle_hash`` (64-bit BLAKE2b of each word, folded over the shingle's
words, 32 bits kept), which numpy computes for a whole book hashing each distinct word once;
signatures are datasketch 2's (``MinHash(num_perm, seed, hashfunc=shingle_hash)``, scheme
"affine32") bit for bit, computed for whole batches in numpy.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
from datasketch import MinHash

SHINGLE_WORDS = 5
CONTAINMENT = 0.9
SIZE_RATIO = 0.8
RECALL = 0.99

# Words: maximal runs of Unicode letters and digits, lower-cased. Underscores (Gutenberg's
# _italics_ markers) and punctuation separate words, so editions that differ in markup, quotes or
# apostrophes ("Elizabeth’s" / "Elizabeth's") give the same words.
WORD = re.compile(r"[^\W_]+")

_MAX32 = np.uint32(0xFFFFFFFF)
# Shingle hashes per numpy block: a (128 perms x 4096) uint32 buffer, 2 MiB, stays in cache
# (measured: 3-4x faster than permuting a whole book at once as datasketch does).
_BLOCK = 4096
_GOLDEN64 = np.uint64(0x9E3779B97F4A7C15)
# The shingle hash's fold multiplier (odd, so each fold is a bijection of the 64-bit state).
_FOLD = 0xD6E8FEB86659FD93
_MASK64 = 2**64 - 1


def words(text: str) -> list[str]:
    """The words of ``text`` (see ``WORD``)."""
    return WORD.findall(text.lower())


def shingle_bytes(tokens: Sequence[str], n: int = SHINGLE_WORDS) -> list[bytes]:
    """Each run of ``n`` consecutive words, space-joined, UTF-8: what datasketch users feed
    ``MinHash.update``. A text of 1 to n-1 words is one shingle (so short texts still compare)."""
    if len(tokens) < n:
        return [" ".join(tokens).encode("utf-8")] if tokens else []
    return list(map(str.encode, map(" ".join, zip(*(tokens[i:] for i in range(n))))))


def shingle_hash(shingle: bytes) -> int:
    """The 32-bit hash of one shingle (its words space-joined, UTF-8, as ``shingle_bytes`` gives):
    each word's 64-bit BLAKE2b digest (little-endian) folded in as ``h = (h ^ w) * K mod 2**64``
    from ``h = 0``, the high 32 bits of the result (a product's best-mixed bits). A stand-in for
    datasketch's ``sha1_hash32`` that ``shingle_hashes`` computes for a whole book in numpy,
    hashing each distinct word once; ``MinHash(..., hashfunc=shingle_hash)`` fed
    ``shingle_bytes`` gives the same signatures as ``MinHasher`` fed ``shingles``."""
    h = 0
    for word in shingle.split(b" "):
        digest = hashlib.blake2b(word, digest_size=8).digest()
        h = ((h ^ int.from_bytes(digest, "little")) * _FOLD) & _MASK64
    return h >> 32


def shingle_hashes(tokens: Sequence[str], n: int = SHINGLE_WORDS) -> np.ndarray:
    """``shingle_hash`` of each of ``shingle_bytes(tokens, n)`` as uint32, in order: each
    distinct word hashed once, then ``n`` wrapping uint64 folds over shifted views."""
    if not tokens:
        return np.empty(0, dtype=np.uint32)
    position = {word: i for i, word in enumerate(dict.fromkeys(tokens))}
    ids = np.fromiter(map(position.__getitem__, tokens), dtype=np.intp, count=len(tokens))
    blake2b = hashlib.blake2b
    digests = b"".join([blake2b(word.encode(), digest_size=8).digest() for word in position])
    word_hashes = np.frombuffer(digests, dtype="<u8").astype(np.uint64)
    per_token = word_hashes[ids]
    count = max(len(tokens) - n + 1, 1)
    h = np.zeros(count, dtype=np.uint64)
    for offset in range(min(n, len(tokens))):
        h ^= per_token[offset: offset + count]
        h *= np.uint64(_FOLD)
    return (h >> np.uint64(32)).astype(np.uint32)


def shingles(text: str, n: int = SHINGLE_WORDS) -> np.ndarray:
    """The distinct hashed ``n``-word shingles of ``text``: sorted unique uint32 ``shingle_hash``
    values of ``shingle_bytes(words(text), n)``. Sorted, then adjacent repeats dropped: numpy
    2.4's ``np.unique`` took 35x as long on a book's 125k hashes (12 ms against 0.35 ms)."""
    hashes = np.sort(shingle_hashes(words(text), n))
    first = np.ones(len(hashes), dtype=bool)
    np.not_equal(hashes[1:], hashes[:-1], out=first[1:])
    return hashes[first]


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer: datasketch's affine schemes pre-mix every input hash with
    it (uint32 arrays wrap on overflow, which is the intended arithmetic)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


class MinHasher:
    """datasketch's ``MinHash(num_perm, seed)`` signatures (scheme "affine32") of already hashed
    shingles, for many documents at once: the permutations are datasketch's own, each block of
    shingle hashes of the whole batch is permuted in one cache-sized array and reduced per
    document with ``np.minimum.reduceat``."""

    def __init__(self, num_perm: int = 128, seed: int = 1):
        reference = MinHash(num_perm=num_perm, seed=seed)
        if reference.scheme != "affine32":
            raise ValueError(f"datasketch's default scheme is {reference.scheme!r}, not affine32")
        self.num_perm = num_perm
        self.seed = seed
        self._a, self._b = (np.ascontiguousarray(p, dtype=np.uint32)
                            for p in reference.permutations)

    def signature(self, shingle_hashes: np.ndarray) -> np.ndarray:
        """The uint32[num_perm] signature of one document (all 0xFFFFFFFF when it has none)."""
        return self.signatures([shingle_hashes])[0]

    def signatures(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        """uint32[len(batch), num_perm]: row i is ``signature(batch[i])``."""
        out = np.full((len(batch), self.num_perm), _MAX32, dtype=np.uint32)
        lengths = np.array([len(h) for h in batch], dtype=np.int64)
        if not lengths.sum():
            return out
        mixed = _fmix32(np.concatenate([np.asarray(h, dtype=np.uint32) for h in batch]))
        docs = np.flatnonzero(lengths)
        starts = (np.cumsum(lengths) - lengths)[docs]
        # Permutations x shingles, so that each document's minimum runs along contiguous memory.
        buf = np.empty((self.num_perm, _BLOCK), dtype=np.uint32)
        a, b = self._a[:, None], self._b[:, None]
        for lo in range(0, len(mixed), _BLOCK):
            hi = min(lo + _BLOCK, len(mixed))
            block = buf[:, : hi - lo]
            np.multiply(a, mixed[lo:hi], out=block)
            np.add(block, b, out=block)
            first = np.searchsorted(starts, lo, side="right") - 1
            last = np.searchsorted(starts, hi - 1, side="right")
            segment_starts = np.maximum(starts[first:last], lo) - lo
            here = docs[first:last]
            minima = np.minimum.reduceat(block, segment_starts, axis=1).T
            out[here] = np.minimum(out[here], minima)
        return out


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """The share of the smaller set's shingles found in the other (0.0 when either is empty);
    ``a`` and ``b`` are sorted unique arrays, as ``shingles`` returns."""
    smaller = min(len(a), len(b))
    if not smaller:
        return 0.0
    return np.intersect1d(a, b, assume_unique=True).size / smaller


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|A ∩ B| / |A ∪ B| of two sorted unique shingle arrays (0.0 when both are empty)."""
    common = np.intersect1d(a, b, assume_unique=True).size
    union = len(a) + len(b) - common
    return common / union if union else 0.0


def jaccard_floor(containment_min: float = CONTAINMENT, size_ratio: float = SIZE_RATIO) -> float:
    """The lowest Jaccard of two sets with containment ``containment_min`` when the smaller has
    ``size_ratio`` times the larger's size: ``c * rho / (rho + 1 - c * rho)``."""
    shared = containment_min * size_ratio
    return shared / (size_ratio + 1 - shared)


def retrieval_probability(jaccard_value: float, bands: int, rows: int) -> float:
    """The LSH S-curve: the chance that a pair of Jaccard ``jaccard_value`` agrees on all
    ``rows`` of at least one of ``bands`` bands."""
    return 1 - (1 - jaccard_value**rows) ** bands


def lsh_parameters(num_perm: int, jaccard_value: float, recall: float = RECALL) -> tuple[int, int]:
    """(bands, rows) with ``bands * rows == num_perm`` that retrieve a pair of Jaccard
    ``jaccard_value`` with probability >= ``recall`` and have the most rows per band (the fewest
    chance candidates at lower Jaccard)."""
    fitting = [r for r in range(1, num_perm + 1) if num_perm % r == 0
               and retrieval_probability(jaccard_value, num_perm // r, r) >= recall]
    if not fitting:
        raise ValueError(f"no banding of {num_perm} permutations retrieves Jaccard "
                         f"{jaccard_value} with probability {recall}")
    rows = max(fitting)
    return num_perm // rows, rows


BANDS, ROWS = lsh_parameters(128, jaccard_floor())


def band_keys(signature: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> list[int]:
    """One 64-bit key per band: band ``i``'s ``rows`` values hashed together with ``i`` folded
    in first, so equal values in different bands never share a key. Stable across processes and
    machines (no salted ``hash()``), for keyed grouping."""
    if len(signature) != bands * rows:
        raise ValueError(f"a signature of {len(signature)} values is not {bands} x {rows}")
    values = np.asarray(signature, dtype=np.uint64).reshape(bands, rows)
    key = _fmix64(np.arange(1, bands + 1, dtype=np.uint64) * _GOLDEN64)
    for column in values.T:
        key = _fmix64((key ^ column) * _GOLDEN64)
    return key.tolist()


def candidate_pairs(keys_of: Mapping[Hashable, Iterable[int]]) -> set[tuple]:
    """Pairs (smaller id first) of documents sharing a band key: in one process's memory, for
    tests and benchmarks (the pipeline groups by key instead)."""
    buckets: dict[int, list] = defaultdict(list)
    for doc_id, keys in keys_of.items():
        for key in set(keys):
            buckets[key].append(doc_id)
    return {(a, b) if a < b else (b, a)
            for members in buckets.values() for i, a in enumerate(members)
            for b in members[i + 1:]}


def verify(pairs: Iterable[tuple], shingles_of: Mapping[Hashable, np.ndarray],
           threshold: float = CONTAINMENT) -> list[tuple]:
    """The candidate pairs whose exact containment is at least ``threshold``, as
    ``(a, b, containment)`` edges."""
    edges = []
    for a, b in pairs:
        value = containment(shingles_of[a], shingles_of[b])
        if value >= threshold:
            edges.append((a, b, value))
    return edges


def clusters(edges: Iterable[Sequence]) -> list[set]:
    """The connected components (A~B and B~C put A, B, C together) of the edges' first two
    items, by union-find; ordered by their smallest id."""
    parent: dict = {}

    def root(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for edge in edges:
        ra, rb = root(edge[0]), root(edge[1])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict = defaultdict(set)
    for x in parent:
        groups[root(x)].add(x)
    return [groups[r] for r in sorted(groups)]


def keep_of(cluster: Iterable, sizes: Mapping[Hashable, int]):
    """The one book of a cluster that stays: the longest (most words), ties to the smallest id."""
    return min(cluster, key=lambda doc_id: (-sizes[doc_id], doc_id))
