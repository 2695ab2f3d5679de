"""The LLaMA tokenizer trainer and token shards, on real text of several sources."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import corpus_texts

from llama_data import manifest
from llama_data import tokens as token_shards
from llama_data.tokenizer import encode, model, train

VOCAB = 3000


@pytest.fixture(scope="module")
def trained(corpus_release, tmp_path_factory):
    """The corpus release with a tokenizer trained on it (copied: tests below change it)."""
    release = tmp_path_factory.mktemp("trained") / "r"
    shutil.copytree(corpus_release, release)
    train.train(str(release), {"wikipedia": 0.5, "c4": 0.3, "books": 0.2}, vocab_size=VOCAB,
                sample_bytes=3_000_000)
    return release


def test_the_model_proto_carries_llamas_trainer_and_normaliser_spec(trained):
    proto = model.read_proto(trained / "tokenizer" / "tokenizer.model")
    trainer, normalizer = proto.trainer_spec, proto.normalizer_spec
    assert trainer.model_type == trainer.BPE and trainer.vocab_size == VOCAB
    normalizer_fields = {"normalization_rule_name": "name", "add_dummy_prefix": "add_dummy_prefix",
                         "remove_extra_whitespaces": "remove_extra_whitespaces"}
    for key, expected in model.LLAMA_TRAINER_SPEC.items():
        if key in normalizer_fields:
            assert getattr(normalizer, normalizer_fields[key]) == expected, key
        elif key == "model_type":
            continue
        else:
            actual = getattr(trainer, key)
            assert actual == pytest.approx(expected) if isinstance(expected, float) \
                else actual == expected, key
    assert normalizer.escape_whitespaces and not normalizer.precompiled_charsmap
    assert [p.piece for p in proto.pieces[3:259]] == [f"<0x{b:02X}>" for b in range(256)]
    assert [p.piece for p in proto.pieces[:3]] == ["<unk>", "<s>", "</s>"]
    assert not any("\n" in p.piece for p in proto.pieces[259:])


def test_numbers_split_into_digits_and_any_unicode_round_trips(trained):
    sp = model.load(trained / "tokenizer" / "tokenizer.model")
    assert sp.encode("12345", out_type=str) == ["▁", "1", "2", "3", "4", "5"]
    for text in ["naïve 東京 🤗 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "tab\tand\nnewline\x00\x07\x1b[0m", "  two  spaces ",
                 "ελληνικά עברית العربية हिन्दी", "\u200b\ufeff\U0010ffff"]:
        assert sp.decode(sp.encode(text)) == text
    assert sp.encode("\n", out_type=str) == ["▁", "<0x0A>"]


def test_the_manifest_records_the_tokenizer_and_its_weighted_sample(trained):
    record = manifest.load(str(trained)).tokenizer
    assert record["sha256"] == token_shards.sha256_file(trained / "tokenizer" / "tokenizer.model")
    assert record["spec"]["vocab_size"] == VOCAB and record["spec"]["split_digits"] is True
    per_source = record["sample"]["per_source_bytes"]
    assert per_source["wikipedia"] > per_source["c4"] > per_source["books"]
    assert per_source["c4"] / per_source["wikipedia"] == pytest.approx(0.3 / 0.5, rel=0.1)
    assert record["sample"]["bytes"] == pytest.approx(3_000_000, rel=0.05)
    assert not (trained / "tokenizer" / "sample.txt").exists()


def test_the_sample_is_seeded(corpus_release):
    def sample(seed):
        return list(train.sample_lines(str(corpus_release), {"c4": 1.0}, 200_000, seed, {}))
    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


def test_too_small_a_sample_names_the_largest_vocabulary_it_supports(corpus_release, tmp_path):
    release = tmp_path / "r"
    shutil.copytree(corpus_release, release)
    with pytest.raises(model.TokenizerError, match=r"supports at most \d+ pieces, not 50000"):
        train.train(str(release), {"c4": 1.0}, vocab_size=50_000, sample_bytes=20_000)


def test_a_file_that_is_not_a_sentencepiece_model_is_a_clear_error(tmp_path):
    (tmp_path / "x.model").write_bytes(b"\x00not a model at all" * 10)
    with pytest.raises(model.TokenizerError, match="not a SentencePiece model"):
        model.load(tmp_path / "x.model")
    with pytest.raises(model.TokenizerError, match="cannot read"):
        model.load(tmp_path / "missing.model")


EDGE_CASES = ["", " ", "   ", "\n", "\n\nx", "x\n", "  \n  x", "\t\n", "a\r\nb", " lead",
              "x \n y", "a  b  ", "trailing   ", "12\n34", "東京\n🤗\n\n", "tab\tinside word",
              "\u3000ideographic space", "nbsp\u00a0x"]


def test_word_by_word_encoding_gives_the_ids_of_one_call_per_document(trained, monkeypatch):
    model_path = trained / "tokenizer" / "tokenizer.model"
    sp, encoder = model.load(model_path), encode.Encoder(model_path)
    documents = [t for source in corpus_texts().values() for t in source] + EDGE_CASES
    expected = [sp.encode(t) for t in documents]
    assert encoder.encode(documents) == expected
    assert encoder.encode(documents) == expected  # from the cache
    monkeypatch.setattr(encode, "CACHE_WORDS", 500)  # the cache starts over many times
    small = encode.Encoder(model_path)
    assert [ids for start in range(0, len(documents), 50)
            for ids in small.encode(documents[start:start + 50])] == expected


def test_token_shards_decode_to_the_documents_and_counts_match(trained):
    encode.encode_release(str(trained), workers=2)
    saved = manifest.load(str(trained))
    sp = model.load(trained / "tokenizer" / "tokenizer.model")
    for source, entry in saved.sources.items():
        from llama_data.shards import read_shard

        folder = trained / "tokens" / source
        total = 0
        for shard in entry.shards:
            tokens, docs = token_shards.open_shard(folder, shard.name.removesuffix(".arrow"))
            texts = list(read_shard(str(trained / source / shard.name)))
            assert len(docs) == len(texts)
            starts = np.concatenate([[0], docs["end"][:-1]])
            for start, end, doc in zip(starts, docs["end"], texts):
                ids = tokens[start:end].tolist()
                assert ids[0] == sp.bos_id() and ids[-1] == sp.eos_id()
                assert sp.decode(ids[1:-1]) == doc.text
                assert docs["id_hash"][texts.index(doc)] == token_shards.id_hash(doc.id)
            total += len(tokens)
        assert entry.tokens["tokens"] == total
        assert entry.tokens["documents"] == entry.documents


def test_encoding_resumes_shard_by_shard(trained, capsys):
    encode.encode_release(str(trained), workers=1)
    capsys.readouterr()
    folder = trained / "tokens" / "c4"
    record = json.loads((folder / "part-00001-000.json").read_text())
    (folder / "part-00001-000.json").unlink()
    encode.encode_release(str(trained), workers=1)
    err = capsys.readouterr().err
    assert "1 shard(s) to encode" in err
    assert json.loads((folder / "part-00001-000.json").read_text()) == record


def test_a_corrupt_token_shard_is_a_clear_error(trained, tmp_path):
    folder = tmp_path / "tokens"
    shutil.copytree(trained / "tokens" / "books", folder)
    tokens_file = folder / "part-00000-000.tokens.npy"
    tokens_file.write_bytes(tokens_file.read_bytes()[:-100])
    with pytest.raises(token_shards.TokenShardError, match="corrupt token shard"):
        token_shards.open_shard(folder, "part-00000-000")
    with pytest.raises(token_shards.TokenShardError, match="not finished"):
        token_shards.open_shard(folder, "part-00009-000")


def test_the_hugging_face_conversion_gives_sentencepieces_ids(trained):
    from llama_data.tokenizer import hf

    model_path = trained / "tokenizer" / "tokenizer.model"
    sp, converted = model.load(model_path), hf.to_hf(model_path)
    documents = [t for source in corpus_texts().values() for t in source] + EDGE_CASES
    paragraphs = [p for t in documents for p in t.split("\n")][:5000] + EDGE_CASES
    for text in documents + paragraphs:
        ids = converted.encode(text, add_special_tokens=False).ids
        assert ids == sp.encode(text), text[:60]
    text = "naïve 東京 🤗  two spaces\tand a tab"
    assert converted.decode(sp.encode(text)) == sp.decode(sp.encode(text)) == text
