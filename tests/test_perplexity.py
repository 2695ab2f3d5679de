"""CCNet's perplexity quality signal with real SentencePiece and KenLM models, trained here on real
English web text (the C4 sample of ../shared/corpus). The score itself is held to CCNet's own
DocLM in test_ccnet_golden.py."""

from __future__ import annotations

import gzip
import json
import logging
import pickle
import random
from pathlib import Path

import kenlm
import pytest
import sentencepiece

from llama_data.document import Document
from llama_data.filters import Rejected, run_steps
from llama_data.quality.perplexity import (
    EMPTY_TEXT_PERPLEXITY,
    Bucket,
    KeepBuckets,
    LanguageModel,
    LanguageModelNotFound,
    ScorePerplexity,
    train_language_model,
)

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
C4 = CORPUS / "c4" / "c4-sample.00000-of-00001.json.gz"
UDHR = CORPUS / "langid" / "udhr"
N_TRAIN = 800  # of the sample's 1000 documents; the rest are held out
FAST_LMPLZ = "128M"  # lmplz allocates its whole -S at start: the default 20% of RAM costs seconds


def c4_texts() -> list[str]:
    if not C4.exists():
        pytest.skip(f"real corpus sample not found at {C4} (../shared beside the checkout)")
    with gzip.open(C4, "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def udhr(code: str, first: int = 5, last: int = 40) -> str:
    path = UDHR / f"human_rights_{code}_64kb.txt"
    if not path.exists():
        pytest.skip(f"real corpus sample not found at {path} (../shared beside the checkout)")
    lines = path.read_text(encoding="utf-8").splitlines()[first:last]
    return "\n".join(line.split("\t", 1)[-1] for line in lines)


def shuffled_words(text: str, seed: int = 0) -> str:
    words = text.split()
    random.Random(seed).shuffle(words)
    return " ".join(words)


@pytest.fixture(scope="module")
def c4():
    texts = c4_texts()
    return texts[:N_TRAIN], texts[N_TRAIN:]


@pytest.fixture(scope="module")
def model_dir(c4, tmp_path_factory):
    train, _ = c4
    out = tmp_path_factory.mktemp("lm")
    assert train_language_model(train, "en", out, vocab_size=16000, memory=FAST_LMPLZ) == out
    return out


@pytest.fixture(scope="module")
def model(model_dir):
    return LanguageModel.load(model_dir, "en")


def test_training_writes_ccnets_two_files_and_nothing_else(model_dir):
    assert sorted(p.name for p in model_dir.iterdir()) == ["en.arpa.bin", "en.sp.model"]
    assert kenlm.Model(str(model_dir / "en.arpa.bin")).order == 5
    sp = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / "en.sp.model"))
    assert sp.get_piece_size() == 16000


def test_held_out_english_scores_lower_than_its_words_shuffled(model, c4):
    _, held_out = c4
    docs = [d for d in held_out if len(d.split()) >= 100][:20]
    assert len(docs) == 20
    for doc in docs:
        assert model.perplexity(doc) < model.perplexity(shuffled_words(doc))


def test_english_scores_lower_than_german(model, c4):
    _, held_out = c4
    german = model.perplexity(udhr("un_ger_robu"))
    assert model.perplexity(held_out[0]) < german
    # the same declaration in English and in German
    assert model.perplexity(udhr("03_eng_cc")) * 3 < german


def test_empty_text_gets_the_largest_perplexity(model, c4):
    assert model.perplexity("") == EMPTY_TEXT_PERPLEXITY
    assert model.perplexity(" \n\t\n") == EMPTY_TEXT_PERPLEXITY
    assert model.perplexity(shuffled_words(c4[1][0])) < EMPTY_TEXT_PERPLEXITY


def test_a_model_pickles_as_its_paths_and_loads_again(model, c4):
    copy = pickle.loads(pickle.dumps(model))
    assert copy.perplexity(c4[1][0]) == model.perplexity(c4[1][0])


def test_missing_files_are_named(tmp_path, model_dir):
    with pytest.raises(LanguageModelNotFound, match=r"en\.sp\.model"):
        LanguageModel.load(tmp_path, "en")
    (tmp_path / "en.sp.model").write_bytes((model_dir / "en.sp.model").read_bytes())
    with pytest.raises(LanguageModelNotFound, match=r"en\.arpa\.bin"):
        LanguageModel.load(tmp_path, "en")
    with pytest.raises(LanguageModelNotFound, match=r"de\.sp\.model"):
        ScorePerplexity.load(model_dir, ["en", "de"])


def test_a_vocabulary_too_large_for_the_sample_is_reduced(c4, tmp_path, caplog):
    train, _ = c4
    with caplog.at_level(logging.WARNING, logger="llama_data.quality.perplexity"):
        train_language_model(train[:40], "en", tmp_path, order=3, memory=FAST_LMPLZ)
    assert "too large" in caplog.text
    sp = sentencepiece.SentencePieceProcessor(model_file=str(tmp_path / "en.sp.model"))
    assert 100 < sp.get_piece_size() < 65536
    assert f"training with {sp.get_piece_size()} pieces" in caplog.text
    assert kenlm.Model(str(tmp_path / "en.arpa.bin")).order == 3


def test_score_perplexity_annotates_documents_in_a_modelled_language(model, c4):
    scorer = ScorePerplexity({"en": model})
    en = Document(id="c4/1", text=c4[1][0], source="c4", lang="en", meta={"k": 1})
    de = Document(id="c4/2", text=udhr("un_ger_robu"), source="c4", lang="de")
    scored = scorer.map(en)
    assert scored.meta == {"k": 1, "perplexity": model.perplexity(en.text)}
    assert scorer.map(de) == de and scorer.map(de).meta.get("perplexity") is None
    assert scorer.map(en.replace(lang=None)).meta.get("perplexity") is None


def doc(pp: float | None, lang: str | None = "en") -> Document:
    meta = {} if pp is None else {"perplexity": pp}
    return Document(id=f"d/{pp}", text="text", source="commoncrawl", lang=lang, meta=meta)


def test_bucket_labels_and_keep_buckets_drops():
    bucket = Bucket({"en": (340.0, 520.0)})
    labels = [bucket.map(d).meta["bucket"]
              for d in (doc(12.5), doc(339.9), doc(340.0), doc(519.9), doc(520.0), doc(4000.0),
                        doc(None), doc(100.0, lang="de"), doc(100.0, lang=None))]
    assert labels == ["head", "head", "middle", "middle", "tail", "tail", None, None, None]

    steps = [bucket, KeepBuckets()]
    assert not isinstance(run_steps(doc(100.0), steps), Rejected)
    assert not isinstance(run_steps(doc(400.0), steps), Rejected)
    tail = run_steps(doc(600.0), steps)
    assert isinstance(tail, Rejected) and tail.reason == "perplexity_bucket:bucket_tail"
    assert tail.doc.meta["bucket"] == "tail"
    assert KeepBuckets().filter(bucket.map(doc(None))) == (False, "no_bucket")
    assert KeepBuckets(keep_unscored=True).filter(bucket.map(doc(None))) is True
    middle = bucket.map(doc(400.0))
    assert KeepBuckets(buckets=("head",)).filter(middle) == (False, "bucket_middle")
