"""Book near-duplicates: our MinHash signatures and LSH banding against datasketch's, and the
recall of planted near-duplicates.

1. Documents: the shared books (../shared/corpus/books: three Pride and Prejudice editions and
   Metamorphosis, Gutenberg header/footer cut at the START/END lines) and book-length documents
   cut and varied from them: a window of 20k-100k words of the two texts in a ring, with about
   half of its vocabulary re-mapped to other words of the vocabulary by a substitution of its own
   (so no two documents share many 5-word shingles, while word frequencies and lengths stay
   those of books); and planted near-duplicates of some of them: truncated to 80-98%, 2-10% of
   the words dropped or replaced in 5 blocks, truncated and replaced, and negatives with 15-25%
   replaced. Ground truth: each planted pair's exact containment.
2. Signatures per CPU-second (one core) for book-length documents, datasketch 2 against
   ``llama_data.dedup.minhash`` with the same hash function, ``shingle_hash`` (datasketch given
   it as ``hashfunc``, called once per shingle's UTF-8 bytes; ours computes it in numpy for a
   whole book, each distinct word hashed once) and the same permutations, every signature checked
   identical in the run: datasketch's plain ``MinHash.update`` loop and ``MinHash.bulk`` from
   ready shingle byte strings (not charged for tokenising and joining) against ours from the
   book's text (tokenising included; ours also keeps the sorted distinct shingles that
   verification needs); both from the text; for reference, datasketch's bulk with its default
   ``sha1_hash32`` (a different hash: signatures not compared); and the permute-and-minimum stage
   alone on the same uint32 hashes (datasketch given them through an identity ``hashfunc``).
   Runs are interleaved in pairs; median ratio and its spread (min-max) over the repeats;
   shingles/cpu-s counts every shingle position (repeats included).
3. LSH candidate search over all documents with the chosen banding (BANDS x ROWS):
   datasketch's ``MinHashLSH(params=(BANDS, ROWS))`` insert + query of every document against
   our ``band_keys`` + grouping; the candidate sets are checked equal.
4. Recall of planted pairs with containment >= 0.9 among the candidates (target >= 0.99),
   precision after exact verification (target 1.0), clusters.

5. The whole ``llama-data prepare books`` job on ``--job-docs`` documents (base documents of
   8k-30k words, planted near-duplicates in the same share) as Books3 JSON lines, at 1x and 4x.

    .venv/bin/python bench/dedup.py [--docs 2000] [--planted 300] [--timed 6] [--repeats 5]
                                    [--job-docs 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from llama_data.dedup.minhash import (
    BANDS,
    CONTAINMENT,
    ROWS,
    SHINGLE_WORDS,
    MinHasher,
    band_keys,
    candidate_pairs,
    clusters,
    containment,
    keep_of,
    shingle_bytes,
    shingle_hash,
    shingle_hashes,
    shingles,
    verify,
    words,
)
from llama_data.sources.books import decode_book, strip_gutenberg

BOOKS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "books"
NUM_PERM = 128


def book_text(path: Path) -> str:
    """A shared book as the books reader gives it (Gutenberg's header and footer cut)."""
    return strip_gutenberg(decode_book(path.read_bytes())[0])[0]


def in_blocks(ids: np.ndarray, share: float, replace: bool, vocabulary: int,
              rng: np.random.Generator) -> np.ndarray:
    """``ids`` with ``share`` of its words dropped (or replaced at random) in 5 blocks."""
    size, step = int(len(ids) * share / 5), len(ids) // 5
    keep = np.ones(len(ids), dtype=bool)
    out = ids.copy()
    for k in range(5):
        cut = k * step + int(rng.integers(0, step - size))
        if replace:
            out[cut: cut + size] = rng.integers(0, vocabulary, size)
        else:
            keep[cut: cut + size] = False
    return out[keep]


def variant(ids: np.ndarray, kind: str, vocabulary: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "truncate":
        return ids[: int(len(ids) * rng.uniform(0.80, 0.98))]
    if kind == "drop":
        return in_blocks(ids, rng.uniform(0.02, 0.10), False, vocabulary, rng)
    if kind == "replace":
        return in_blocks(ids, rng.uniform(0.02, 0.10), True, vocabulary, rng)
    if kind == "truncate+replace":
        cut = ids[: int(len(ids) * rng.uniform(0.85, 1.0))]
        return in_blocks(cut, rng.uniform(0.02, 0.08), True, vocabulary, rng)
    return in_blocks(ids, rng.uniform(0.15, 0.25), True, vocabulary, rng)  # "negative"


KINDS = ("truncate", "drop", "replace", "truncate+replace", "negative")


def corpus(n_docs: int, n_planted: int, seed: int, lengths: tuple[int, int] = (20_000, 100_000)):
    """(texts by id, planted pairs (base id, variant id, kind)); base documents of ``lengths``
    words."""
    rng = np.random.default_rng(seed)
    real = {f"real/{p.name}": book_text(p) for p in sorted(BOOKS.glob("*.txt"))}
    ring_words = words(real["real/1342-0.KArcherSutherland.txt"]) + words(real["real/pg5200.txt"])
    vocab, ring = np.unique(np.array(ring_words, dtype=object), return_inverse=True)
    n_base = n_docs - len(real) - n_planted
    texts, ids_of = dict(real), {}
    for i in range(n_base):
        length = int(rng.integers(*lengths))
        window = ring[(int(rng.integers(0, len(ring))) + np.arange(length)) % len(ring)]
        substitution = np.arange(len(vocab))
        moved = rng.random(len(vocab)) < 0.5
        substitution[moved] = rng.integers(0, len(vocab), int(moved.sum()))
        ids_of[f"doc/{i:05d}"] = substitution[window]
    planted = []
    for j in range(n_planted):
        base, kind = f"doc/{j:05d}", KINDS[j % len(KINDS)]
        ids_of[f"near/{j:05d}"] = variant(ids_of[base], kind, len(vocab), rng)
        planted.append((base, f"near/{j:05d}", kind))
    texts.update((doc_id, " ".join(vocab[ids].tolist())) for doc_id, ids in ids_of.items())
    return texts, planted


def cpu(fn):
    start = time.process_time()
    result = fn()
    return time.process_time() - start, result


def same(ours: np.ndarray, theirs: list[MinHash]) -> None:
    assert all(np.array_equal(o, t.hashvalues) for o, t in zip(ours, theirs)), "signatures differ"


def update_loop(batch: list[list[bytes]]) -> list[MinHash]:
    out = []
    for items in batch:
        m = MinHash(num_perm=NUM_PERM, hashfunc=shingle_hash)
        for item in items:
            m.update(item)
        out.append(m)
    return out


def bulk(batch: list, **hashfunc) -> list[MinHash]:
    return MinHash.bulk(batch, num_perm=NUM_PERM, **hashfunc)


def speed(texts: list[str], repeats: int) -> list[tuple]:
    """(stage, peer, peer docs/cpu-s, ours docs/cpu-s, peer shingles/cpu-s, ours shingles/cpu-s,
    ours/peer median, min, max) rows; signatures compared unless the stage's hash differs."""
    hasher = MinHasher(NUM_PERM)
    byte_lists = [shingle_bytes(words(t)) for t in texts]
    hash_lists = [shingle_hashes(words(t)).tolist() for t in texts]
    counts = np.cumsum([0] + [len(b) for b in byte_lists])  # shingles of the first k documents

    def ours_from_text() -> np.ndarray:
        return hasher.signatures([shingles(t) for t in texts])

    same_hash = {"hashfunc": shingle_hash}
    stages = [  # (stage, peer, peer fn, ours fn, signatures comparable)
        ("shingle_hash; datasketch from shingle bytes, ours from text", "datasketch update loop",
         lambda: update_loop(byte_lists[:2]), ours_from_text, True),
        ("shingle_hash; datasketch from shingle bytes, ours from text", "datasketch bulk",
         lambda: bulk(byte_lists, **same_hash), ours_from_text, True),
        ("shingle_hash; both from text", "datasketch bulk",
         lambda: bulk([shingle_bytes(words(t)) for t in texts], **same_hash), ours_from_text,
         True),
        ("from text, datasketch's default sha1_hash32 (not comparable)", "datasketch bulk",
         lambda: bulk([shingle_bytes(words(t)) for t in texts]), ours_from_text, False),
        ("permute + minimum only (same uint32 hashes)", "datasketch bulk",
         lambda: bulk(hash_lists, hashfunc=lambda h: h),
         lambda: hasher.signatures([np.array(h, dtype=np.uint32) for h in hash_lists]), True),
    ]
    rows = []
    for stage, peer, peer_fn, ours_fn, comparable in stages:
        rates, ours_rates = [], []
        for r in range(repeats):
            pair = [("peer", peer_fn), ("ours", ours_fn)]
            timings = {}
            for name, fn in pair if r % 2 == 0 else pair[::-1]:
                timings[name] = cpu(fn)
            peer_s, peer_out = timings["peer"]
            ours_s, ours_out = timings["ours"]
            if comparable:
                same(ours_out, peer_out)
            rates.append(len(peer_out) / peer_s)
            ours_rates.append(len(ours_out) / ours_s)
        ratios = [o / p for o, p in zip(ours_rates, rates)]
        per_doc = counts[-1] / len(texts)
        peer_per_doc = counts[len(peer_out)] / len(peer_out)
        rows.append((stage, peer, statistics.median(rates), statistics.median(ours_rates),
                     statistics.median(rates) * peer_per_doc,
                     statistics.median(ours_rates) * per_doc,
                     statistics.median(ratios), min(ratios), max(ratios)))
    return rows


def lsh(signatures: dict[str, np.ndarray], repeats: int):
    """(datasketch docs/s, ours docs/s, ratios, candidates): insert + query every document."""
    minhashes = {k: MinHash(num_perm=NUM_PERM, hashvalues=s, scheme="affine32")
                 for k, s in signatures.items()}

    def theirs():
        index = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
        for key, m in minhashes.items():
            index.insert(key, m)
        return {(min(a, b), max(a, b)) for a, m in minhashes.items()
                for b in index.query(m) if a != b}

    def ours():
        return candidate_pairs({k: band_keys(s) for k, s in signatures.items()})

    ds_rates, our_rates = [], []
    for r in range(repeats):
        runs = [("ds", theirs), ("ours", ours)]
        out = {name: cpu(fn) for name, fn in (runs if r % 2 == 0 else runs[::-1])}
        assert out["ds"][1] == out["ours"][1], "candidate sets differ"
        ds_rates.append(len(signatures) / out["ds"][0])
        our_rates.append(len(signatures) / out["ours"][0])
    ratios = [o / d for o, d in zip(our_rates, ds_rates)]
    return statistics.median(ds_rates), statistics.median(our_rates), ratios, out["ours"][1]


def whole_job(docs: int, planted: int, seed: int, workers: int) -> None:
    """``llama-data prepare books`` as users run it on the documents of ``corpus`` (base
    documents of 8k-30k words) as Books3-style JSON lines, at 1x and 4x: books per CPU-second of
    every process of the job, peak memory of its process tree (bench/commoncrawl.py's
    measurement), and the near-duplicates it removed against the planted ones."""
    import json
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from commoncrawl import prepare_job

    print(f"\n## The whole job: llama-data prepare books, {workers} worker(s)\n")
    print("| input | books | MB | kept | near_dup:duplicate | planted >= 0.9 | CPU s | wall s | "
          "books/s per core | peak MB |\n|---|---|---|---|---|---|---|---|---|---|")
    peaks = {}
    for factor in (1, 4):
        texts, pairs = corpus(docs * factor, planted * factor, seed + factor, (8_000, 30_000))
        positives = sum(containment(shingles(texts[a]), shingles(texts[b])) >= CONTAINMENT
                        for a, b, _ in pairs)
        with tempfile.TemporaryDirectory() as work:
            paths, keys = [], sorted(texts)
            for start in range(0, len(keys), 100):
                path = Path(work) / f"books3-{start // 100:05d}.jsonl"
                with path.open("w", encoding="utf-8") as f:
                    for key in keys[start:start + 100]:
                        f.write(json.dumps({"text": texts[key],
                                            "meta": {"pile_set_name": "Books3"}}) + "\n")
                paths.append(path)
            size = sum(p.stat().st_size for p in paths) / 2**20
            del texts
            release = Path(work) / "release"
            result, entry = prepare_job("books", paths, release, workers, "--shard-size",
                                        "16MiB")
            funnel = entry.funnel
        peaks[factor] = result["peak_mb"]
        print(f"| {factor}x | {funnel.read:,} | {size:,.0f} | {funnel.kept:,} | "
              f"{funnel.dropped.get('near_dup:duplicate', 0)} | {positives} | "
              f"{result['cpu']:.1f} | {result['wall']:.1f} | {funnel.read / result['cpu']:.1f} | "
              f"{result['peak_mb']:.0f} |")
    print(f"peak memory 4x / 1x: {peaks[4] / peaks[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--planted", type=int, default=300)
    parser.add_argument("--timed", type=int, default=6, help="documents per timed run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--job-docs", type=int, default=2000,
                        help="documents of the whole job's 1x input; 0: no whole job")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not BOOKS.is_dir():
        sys.exit(f"shared books not found at {BOOKS}")

    build_s, (texts, planted) = cpu(lambda: corpus(args.docs, args.planted, args.seed))
    n_words = {k: len(words(t)) for k, t in texts.items()}
    print(f"{len(texts)} documents, {np.mean(list(n_words.values())):,.0f} words on average "
          f"(min {min(n_words.values()):,}, max {max(n_words.values()):,}), {len(planted)} planted "
          f"near-duplicates; built in {build_s:.0f} cpu-s")

    timed = [texts[k] for k in texts if k.startswith("doc/")][: args.timed]
    print(f"\n## Signatures per CPU-second ({args.timed} documents of "
          f"{np.mean([len(words(t)) for t in timed]):,.0f} words, {NUM_PERM} permutations, "
          f"{args.repeats} interleaved paired runs; identical signatures checked)\n")
    print("| stage | peer | peer docs/cpu-s | ours docs/cpu-s | peer shingles/cpu-s | "
          "ours shingles/cpu-s | ours/peer median | min-max |\n|---|---|---|---|---|---|---|---|")
    for stage, peer, p, o, ps, os_, med, lo, hi in speed(timed, args.repeats):
        print(f"| {stage} | {peer} | {p:.2f} | {o:.2f} | {ps:,.0f} | {os_:,.0f} | "
              f"**{med:.2f}x** | {lo:.2f}-{hi:.2f} |")

    shingle_s, shingles_of = cpu(lambda: {k: shingles(t) for k, t in texts.items()})
    positions = sum(max(n - SHINGLE_WORDS + 1, min(n, 1)) for n in n_words.values())
    keys = list(shingles_of)
    hasher = MinHasher(NUM_PERM)
    sig_s, matrix = cpu(lambda: hasher.signatures([shingles_of[k] for k in keys]))
    signatures = dict(zip(keys, matrix))
    print(f"\nAll {len(texts)} documents: shingles (from text) {len(texts) / shingle_s:.1f} "
          f"docs/cpu-s = {positions / shingle_s:,.0f} shingles/cpu-s; signatures from shingles "
          f"{len(texts) / sig_s:.0f} docs/cpu-s")

    ds_rate, our_rate, ratios, candidates = lsh(signatures, 3)
    print(f"\n## LSH candidate search ({BANDS} bands x {ROWS} rows, insert + query every "
          f"document, 3 interleaved runs, candidate sets checked equal)\n")
    print("| tool | docs/cpu-s | ours/datasketch median | min-max |\n|---|---|---|---|")
    print(f"| datasketch MinHashLSH | {ds_rate:,.0f} | | |")
    print(f"| band_keys + grouping | {our_rate:,.0f} | **{statistics.median(ratios):.2f}x** | "
          f"{min(ratios):.2f}-{max(ratios):.2f} |")

    truth = {(min(a, b), max(a, b)): (kind, containment(shingles_of[a], shingles_of[b]))
             for a, b, kind in planted}
    real = sorted(k for k in texts if k.startswith("real/") and "1342" in k)
    truth.update(((a, b), ("real editions", containment(shingles_of[a], shingles_of[b])))
                 for i, a in enumerate(real) for b in real[i + 1:])
    verify_s, edges = cpu(lambda: verify(sorted(candidates), shingles_of))
    edge_pairs = {(a, b) for a, b, _ in edges}
    positives = {p for p, (_, c) in truth.items() if c >= CONTAINMENT}
    print(f"\n## Recall and precision ({len(candidates)} candidate pairs verified in "
          f"{verify_s:.2f} cpu-s)\n")
    print("| planted kind | pairs | containment >= 0.9 | retrieved | recall | edges | "
          "containment min-max |\n|---|---|---|---|---|---|---|")
    for kind in (*KINDS, "real editions"):
        pairs = [p for p, (k, _) in truth.items() if k == kind]
        pos = [p for p in pairs if p in positives]
        got = [p for p in pos if p in candidates]
        values = [truth[p][1] for p in pairs]
        recall = f"{len(got) / len(pos):.3f}" if pos else "-"
        print(f"| {kind} | {len(pairs)} | {len(pos)} | {len(got)} | {recall} | "
              f"{sum(p in edge_pairs for p in pairs)} | {min(values):.3f}-{max(values):.3f} |")
    retrieved = len(positives & candidates)
    true_edges = len(edge_pairs & positives)
    print(f"\nRecall at containment >= {CONTAINMENT}: {retrieved}/{len(positives)} = "
          f"**{retrieved / len(positives):.4f}**; candidates that were true pairs: "
          f"{len(candidates & positives)}/{len(candidates)}; precision after verification: "
          f"{true_edges}/{len(edges)} = **{true_edges / max(len(edges), 1):.4f}** "
          f"(edges outside the planted and real pairs: {len(edge_pairs - set(truth))})")
    groups = clusters(edges)
    kept = keep_of(next(g for g in groups if real[0] in g), n_words)
    print(f"Clusters: {len(groups)} ({sum(len(g) for g in groups)} documents, "
          f"{sum(len(g) - 1 for g in groups)} removed); the Pride and Prejudice cluster keeps "
          f"{kept}")
    if args.job_docs:
        whole_job(args.job_docs, args.job_docs * args.planted // args.docs, args.seed,
                  args.workers)


if __name__ == "__main__":
    main()
