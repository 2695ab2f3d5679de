"""Books end to end on Beam's real local runner: the shared Pride and Prejudice editions collapse
into one, Metamorphosis stays, planted variants fall on the right side of 90% containment, the
clusters are in the manifest, Gutenberg and Books3 ids never collide."""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path

from conftest import CORPUS, IN_PROCESS, TWO_WORKERS, corpus_files

from llama_data.dedup.minhash import containment, shingles
from llama_data.pipelines import books
from llama_data.pipelines.config import BooksConfig
from llama_data.shards import read_shard
from llama_data.sources.books import strip_gutenberg

BOOKS = CORPUS / "books"


def kept(release: Path) -> dict[str, object]:
    return {d.id: d for shard in sorted((release / "books").glob("*.arrow"))
            for d in read_shard(str(shard))}


def test_the_shared_editions_collapse_into_one_and_metamorphosis_stays(tmp_path):
    files = corpus_files(BOOKS, "*.txt")
    entry = books.run(BooksConfig(input=[str(f) for f in files], output=str(tmp_path / "R")),
                      TWO_WORKERS)
    assert (entry.funnel.read, entry.funnel.kept) == (4, 2)
    assert entry.funnel.dropped == {"near_dup:duplicate": 2}
    docs = kept(tmp_path / "R")
    [pride] = [d for d in docs.values() if d.meta["ebook_id"] == 1342 or "1342" in d.id]
    assert "pg5200" in " ".join(docs)  # Metamorphosis
    [cluster] = entry.config["near_dup"]["clusters"]
    assert len(cluster["books"]) == 3 and cluster["kept"] == pride.id
    # the keeper is the longest edition, by words
    words = {f.name: len(strip_gutenberg(f.read_text(encoding="utf-8", errors="replace"))[0]
                         .split()) for f in files if "1342" in f.name}
    assert pride.meta["path"].endswith(max(words, key=words.get))
    assert all(share >= 0.9 for *_, share in cluster["pairs"])


def variant(words: list[str], share: float, seed: int, how: str) -> list[str]:
    """``words`` with ``share`` of them removed or replaced, in blocks of 50 words."""
    rng = random.Random(seed)
    blocks = [words[i:i + 50] for i in range(0, len(words), 50)]
    chosen = set(rng.sample(range(len(blocks)), round(len(blocks) * share)))
    out = []
    for i, block in enumerate(blocks):
        if i not in chosen:
            out += block
        elif how == "replace":
            out += [f"zq{rng.randrange(10**9)}" for _ in block]
    return out


def test_planted_variants_fall_on_the_right_side_of_ninety_percent(tmp_path):
    [source] = corpus_files(BOOKS, "pg5200.txt")
    words = source.read_text(encoding="utf-8").split()
    planted = {"cut10": variant(words, 0.10, 1, "remove"),     # 90% of the book: a duplicate
               "swap20": variant(words, 0.20, 2, "replace")}   # 80%: another book
    inputs = [source]
    for name, text in planted.items():
        path = tmp_path / f"{name}.txt"
        path.write_text(" ".join(text), encoding="utf-8")
        inputs.append(path)
    shares = {name: containment(shingles(" ".join(text)), shingles(" ".join(words)))
              for name, text in planted.items()}
    assert shares["cut10"] >= 0.9 > shares["swap20"]  # what the planting made (hand-checked)
    entry = books.run(BooksConfig(input=[str(p) for p in inputs], output=str(tmp_path / "R")),
                      IN_PROCESS)
    paths = {Path(d.meta["path"]).name for d in kept(tmp_path / "R").values()}
    assert paths == {"pg5200.txt", "swap20.txt"}
    assert entry.funnel.dropped == {"near_dup:duplicate": 1}


def test_a_gutenberg_book_and_its_books3_copy_have_distinct_ids_and_one_survives(tmp_path):
    [source] = corpus_files(BOOKS, "pg5200.txt")
    data = source.read_bytes()
    collection = tmp_path / "books3.tar.gz"
    with tarfile.open(collection, "w:gz") as tar:
        info = tarfile.TarInfo("books3/the-metamorphosis.epub.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    config = BooksConfig(input=[str(source), str(collection)], output=str(tmp_path / "R"))
    entry = books.run(config, IN_PROCESS)
    [cluster] = entry.config["near_dup"]["clusters"]
    assert sorted(book.split("/")[1] for book in cluster["books"]) == ["books3", "gutenberg"]
    assert len(kept(tmp_path / "R")) == 1


def test_a_short_text_is_not_a_book(tmp_path):
    short = tmp_path / "notes.txt"
    short.write_text("A few lines of notes, not a book at all.\n" * 10)
    [source] = corpus_files(BOOKS, "pg5200.txt")
    entry = books.run(BooksConfig(input=[str(short), str(source)], output=str(tmp_path / "R")),
                      IN_PROCESS)
    assert entry.funnel.dropped == {"min_words:too_short": 1}
    assert entry.config["near_dup"]["clusters"] == []


def test_the_same_shards_for_one_worker_or_two(tmp_path):
    files = [str(f) for f in corpus_files(BOOKS, "*.txt")]
    one, two = (books.run(BooksConfig(input=files, output=str(tmp_path / name)), args)
                for name, args in (("one", IN_PROCESS), ("two", TWO_WORKERS)))
    assert [s.sha256 for s in one.shards] == [s.sha256 for s in two.shards]
    assert one.config["near_dup"] == two.config["near_dup"]
