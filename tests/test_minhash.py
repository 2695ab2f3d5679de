"""MinHash near-duplicates: signatures bit-identical to datasketch's, exact containment, the LSH
banding's arithmetic, and the shared Pride and Prejudice editions against Metamorphosis."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import CORPUS, corpus_files
from datasketch import MinHash

from llama_data.dedup.minhash import (
    BANDS,
    CONTAINMENT,
    ROWS,
    MinHasher,
    band_keys,
    candidate_pairs,
    clusters,
    containment,
    jaccard,
    jaccard_floor,
    keep_of,
    lsh_parameters,
    retrieval_probability,
    shingle_bytes,
    shingle_hash,
    shingle_hashes,
    shingles,
    verify,
    words,
)
from llama_data.sources.books import decode_book, strip_gutenberg

BOOKS = CORPUS / "books"


def book_text(name: str) -> str:
    """A shared book as the books reader gives it (Gutenberg's header and footer cut)."""
    return strip_gutenberg(decode_book((BOOKS / name).read_bytes())[0])[0]


@pytest.fixture(scope="module")
def books() -> dict[str, str]:
    return {path.name: book_text(path.name) for path in corpus_files(BOOKS, "*.txt")}


def random_text(rng: np.random.Generator, n_words: int, vocabulary: int = 5000) -> str:
    return " ".join(f"w{i}" for i in rng.integers(0, vocabulary, n_words))


def edited(tokens: list[str], share: float, blocks: int, replace: bool,
           rng: np.random.Generator) -> list[str]:
    """``tokens`` with ``share`` of its words removed (or replaced by new words) in ``blocks``
    evenly spread blocks."""
    size = int(len(tokens) * share / blocks)
    out, step = [], len(tokens) // blocks
    for k in range(blocks):
        part = tokens[k * step: (k + 1) * step]
        cut = int(rng.integers(0, len(part) - size))
        new = [f"new{k}x{i}" for i in range(size)] if replace else []
        out += part[:cut] + new + part[cut + size:]
    return out + tokens[blocks * step:]


# --- shingles ---------------------------------------------------------------------------------

def test_shingles_are_the_distinct_shingle_hash_of_five_word_runs():
    text = "A b c d e a B c d e"  # runs: abcde bcdea cdeab deabc eabcd abcde (repeated)
    runs = ["a b c d e", "b c d e a", "c d e a b", "d e a b c", "e a b c d"]
    expected = sorted({shingle_hash(r.encode()) for r in runs})
    assert len(expected) == 5
    assert shingles(text).tolist() == expected
    assert shingles(text).dtype == np.uint32


def test_shingle_hashes_equal_shingle_hash_of_each_shingle_in_order():
    rng = np.random.default_rng(5)
    for text in ("Là où l’été dure, naïve Ærøskøbing: 東京 ß " * 3, random_text(rng, 3000, 200)):
        tokens = words(text)
        expected = [shingle_hash(item) for item in shingle_bytes(tokens)]
        assert shingle_hashes(tokens).tolist() == expected
        assert shingles(text).tolist() == sorted(set(expected))
    for n in (1, 3, 8):
        tokens = words(random_text(rng, 40, 10))
        assert shingle_hashes(tokens, n).tolist() == [shingle_hash(item)
                                                      for item in shingle_bytes(tokens, n)]


def test_shingle_hash_depends_on_order_and_word_boundaries_and_is_32_bit():
    variants = [b"a b c d e", b"b a c d e", b"a b c d f", b"ab c d e f", b"a bc d e f", b"a b c d"]
    values = [shingle_hash(v) for v in variants]
    assert len(set(values)) == len(values)
    assert all(0 <= v < 2**32 for v in values)


def test_shingle_hash_is_the_same_in_another_process():
    code = ("from llama_data.dedup.minhash import shingle_hash; "
            "print(shingle_hash('it is a truth universally'.encode()))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout
    assert int(other) == shingle_hash(b"it is a truth universally")


def test_shingle_hash_collisions_are_those_of_a_random_32_bit_hash():
    # 200k distinct shingles: a random 32-bit hash collides on n^2 / 2^33 = 4.7 pairs expected.
    tokens = [f"w{i}" for i in np.random.default_rng(9).integers(0, 50_000, 200_004)]
    distinct = len(set(shingle_bytes(tokens)))
    assert distinct > 199_990
    assert distinct - len(set(shingle_hashes(tokens).tolist())) <= 20


def test_words_ignore_case_punctuation_italics_markers_and_apostrophe_forms():
    assert words("_Pride_ and PREJUDICE’s, (1813)") == ["pride", "and", "prejudice", "s", "1813"]
    assert shingles("It is a truth universally acknowledged").tolist() == shingles(
        "it is a _truth_ universally, acknowledged!").tolist()


def test_short_texts_are_one_shingle_and_empty_texts_none():
    assert shingle_bytes(["to", "be"]) == [b"to be"]
    assert shingles("").size == 0 and shingles("").dtype == np.uint32
    assert shingles("Éclair au café").tolist() == [shingle_hash("éclair au café".encode())]
    assert shingles("Eclair").tolist() == [shingle_hash(b"eclair")]


# --- signatures -------------------------------------------------------------------------------

@pytest.mark.parametrize("num_perm, seed", [(128, 1), (64, 7), (256, 42), (16, 0)])
def test_signatures_identical_to_datasketch_with_the_same_hash_function(num_perm, seed):
    rng = np.random.default_rng(seed)
    # Lengths around the 4096-hash block: documents inside one block, across blocks, empty,
    # shorter than a shingle.
    texts = [random_text(rng, n) for n in (9000, 3, 0, 50, 4100, 12, 7000, 4, 1)]
    hasher = MinHasher(num_perm, seed)
    ours = hasher.signatures([shingles(t) for t in texts])
    batches = [shingle_bytes(words(t)) for t in texts]
    bulk = MinHash.bulk(batches, num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
    for items, signature, from_bulk in zip(batches, ours, bulk):
        reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
        reference.update_batch(items)
        assert np.array_equal(signature, reference.hashvalues)
        assert np.array_equal(signature, from_bulk.hashvalues)
    assert np.array_equal(hasher.signature(shingles(texts[0])), ours[0])
    assert np.all(ours[2] == 2**32 - 1)  # the empty text: datasketch's empty MinHash


def test_signature_equals_datasketch_plain_update_loop():
    text = "the quick brown fox jumps over the lazy dog and runs far away from the farm"
    reference = MinHash(hashfunc=shingle_hash)  # datasketch's defaults: 128 permutations, seed 1
    for item in shingle_bytes(words(text)):
        reference.update(item)
    assert np.array_equal(MinHasher().signature(shingles(text)), reference.hashvalues)


def test_signature_agreement_estimates_jaccard():
    rng = np.random.default_rng(3)
    base = random_text(rng, 20000).split()
    a, b = shingles(" ".join(base)), shingles(" ".join(base[:12000] + ["x"] * 8000))
    hasher = MinHasher(256)
    agree = np.mean(hasher.signature(a) == hasher.signature(b))
    assert abs(agree - jaccard(a, b)) < 0.08


# --- containment and Jaccard ------------------------------------------------------------------

def test_containment_and_jaccard_hand_counted():
    a = np.array([1, 2, 3, 4], dtype=np.uint32)
    b = np.array([2, 3, 4, 5, 6, 7, 8, 9], dtype=np.uint32)
    assert containment(a, b) == containment(b, a) == 0.75  # 3 of the smaller's 4
    assert jaccard(a, b) == 3 / 9
    assert containment(a, np.array([], dtype=np.uint32)) == 0.0
    assert jaccard(np.array([], dtype=np.uint32), np.array([], dtype=np.uint32)) == 0.0


def test_containment_of_a_prefix_is_one_while_jaccard_is_not():
    text = "one two three four five six seven eight nine ten"  # 6 shingles
    longer = text + " eleven twelve thirteen fourteen fifteen sixteen"  # 12 shingles
    assert containment(shingles(text), shingles(longer)) == 1.0
    assert jaccard(shingles(text), shingles(longer)) == 0.5


# --- LSH parameters ---------------------------------------------------------------------------

def test_jaccard_floor_arithmetic():
    assert jaccard_floor(0.9, 1.0) == pytest.approx(0.9 / 1.1)  # 0.818
    assert jaccard_floor(0.9, 0.8) == pytest.approx(0.72 / 1.08)  # 2/3
    assert jaccard_floor(1.0, 0.7) == pytest.approx(0.7)


def test_lsh_parameters_most_rows_that_reach_the_recall():
    assert (BANDS, ROWS) == lsh_parameters(128, 2 / 3) == (32, 4)
    # 1 - (1 - (2/3)^4)^32 = 0.99913 >= 0.99; 8 rows: 1 - (1 - (2/3)^8)^16 = 0.471 < 0.99
    assert retrieval_probability(2 / 3, 32, 4) == pytest.approx(0.99913, abs=1e-5)
    assert retrieval_probability(2 / 3, 16, 8) == pytest.approx(0.4710, abs=1e-4)
    # At J = 0.9: 8 rows reach 0.9999, 16 rows only 1 - (1 - 0.9^16)^8 = 0.80.
    assert lsh_parameters(128, 0.9) == (16, 8)
    with pytest.raises(ValueError):
        lsh_parameters(4, 0.1)


def test_band_keys_fold_the_band_index_in():
    constant = np.full(128, 7, dtype=np.uint32)
    assert len(set(band_keys(constant))) == BANDS  # the same values in every band, distinct keys
    other = constant.copy()
    other[:ROWS] = 8  # band 0 differs, every other band agrees
    keys, other_keys = band_keys(constant), band_keys(other)
    assert keys[0] != other_keys[0] and keys[1:] == other_keys[1:]
    assert all(0 <= k < 2**64 for k in keys)
    with pytest.raises(ValueError):
        band_keys(constant[:100])


def test_band_keys_are_the_same_in_another_process():
    code = ("import numpy as np; from llama_data.dedup.minhash import band_keys; "
            "print(band_keys(np.arange(128, dtype=np.uint32)))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout
    assert other.strip() == str(band_keys(np.arange(128, dtype=np.uint32)))


# --- clusters ---------------------------------------------------------------------------------

def test_clusters_close_transitively_and_keep_the_longest():
    a = np.arange(0, 100, dtype=np.uint32)
    b = np.arange(0, 200, dtype=np.uint32)
    c = np.arange(100, 200, dtype=np.uint32)
    d, e = np.arange(500, 600, dtype=np.uint32), np.arange(500, 600, dtype=np.uint32)
    shingles_of = {"a": a, "b": b, "c": c, "d": d, "e": e}
    pairs = [("a", "b"), ("b", "c"), ("a", "c"), ("d", "e"), ("a", "d")]
    edges = verify(pairs, shingles_of)
    assert [(x, y) for x, y, _ in edges] == [("a", "b"), ("b", "c"), ("d", "e")]  # not a~c
    groups = clusters(edges)
    assert groups == [{"a", "b", "c"}, {"d", "e"}]
    sizes = {"a": 100, "b": 200, "c": 100, "d": 100, "e": 100}
    assert keep_of(groups[0], sizes) == "b"
    assert keep_of(groups[1], sizes) == "d"  # a tie: the smallest id


# --- the shared books -------------------------------------------------------------------------

def test_pride_and_prejudice_editions_collapse_and_metamorphosis_stays(books):
    shingles_of = {name: shingles(text) for name, text in books.items()}
    hasher = MinHasher()
    keys_of = {name: band_keys(hasher.signature(s)) for name, s in shingles_of.items()}
    editions = sorted(name for name in books if "1342" in name)
    assert len(editions) == 3 and "pg5200.txt" in books
    for i, x in enumerate(editions):
        for y in editions[i + 1:]:
            assert containment(shingles_of[x], shingles_of[y]) >= CONTAINMENT
            assert containment(shingles_of[x], shingles_of["pg5200.txt"]) < 0.05
    pairs = candidate_pairs(keys_of)
    assert pairs == {(x, y) for i, x in enumerate(editions) for y in editions[i + 1:]}
    groups = clusters(verify(pairs, shingles_of))
    assert groups == [set(editions)]
    sizes = {name: len(words(text)) for name, text in books.items()}
    kept = keep_of(groups[0], sizes)
    assert sizes[kept] == max(sizes[name] for name in editions)


@pytest.mark.parametrize("share, replace, duplicate", [
    (0.10, False, True),   # 10% of the words removed in blocks: containment ~1.0
    (0.08, True, True),    # 8% replaced: ~0.92
    (0.20, False, True),   # 20% removed: the smaller is still inside the larger
    (0.12, True, False),   # 12% replaced: ~0.88
    (0.20, True, False),   # 20% replaced: ~0.80
])
def test_planted_variants_fall_on_the_right_side(books, share, replace, duplicate):
    tokens = words(books["pg5200.txt"])
    variant = edited(tokens, share, 5, replace, np.random.default_rng(0))
    original, planted = shingles(" ".join(tokens)), shingles(" ".join(variant))
    expected = 1.0 if not replace else 1 - share
    assert containment(original, planted) == pytest.approx(expected, abs=0.01)
    edges = verify([("original", "variant")], {"original": original, "variant": planted})
    assert bool(edges) == duplicate
    if duplicate and share <= 0.1:  # within the stated size ratio (0.8): retrieved by the bands
        hasher = MinHasher()
        keys = {"original": band_keys(hasher.signature(original)),
                "variant": band_keys(hasher.signature(planted))}
        assert candidate_pairs(keys) == {("original", "variant")}
