"""Export to Hugging Face: transformers loads the folder and gives our logits and our token ids."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
import sentencepiece as spm
import torch

from llama_data.tokenizer.model import LLAMA_TRAINER_SPEC
from llama_data.training.export import export_hf, hf_config
from llama_data.training.model import Llama, ModelConfig, model_config

C4_SAMPLE = (Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "c4"
             / "c4-sample.00000-of-00001.json.gz")

TRAINING_TEXT = [
    "The quick brown fox jumps over the lazy dog near the river bank in 1999.",
    "Language models are trained on trillions of tokens of text from the web.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Le renard brun rapide saute par-dessus le chien paresseux à 12 h 30.",
    "El zorro marrón rápido salta sobre el perro perezoso.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "def main():\n    return sum(x * x for x in range(10))",
]
STRINGS = [
    "Hello world", " leading space", "double  space", "  two leading", "trailing ",
    "digits 1234567890 and 3.14", "emoji 🤗🦙 and 東京", "line one\nline two\n\nthree",
    "tabs\tand\r\nreturns", "Ünïcödé naïve café", "Привет, мир!", "", " ", "\n",
]


@pytest.fixture(scope="module")
def tokenizer_model(tmp_path_factory) -> Path:
    """A LLaMA-spec SentencePiece BPE model (byte fallback, split digits) with 400 pieces."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAINING_TEXT * 20), model_writer=model, minloglevel=2,
        **{**LLAMA_TRAINER_SPEC, "vocab_size": 400})
    path = tmp_path_factory.mktemp("tokenizer") / "tokenizer.model"
    path.write_bytes(model.getvalue())
    return path


@pytest.fixture(scope="module")
def exported(tokenizer_model, tmp_path_factory):
    torch.manual_seed(0)
    vocab_size = spm.SentencePieceProcessor(model_file=str(tokenizer_model)).vocab_size()
    config = ModelConfig(dim=64, n_layers=2, n_heads=4, vocab_size=vocab_size, max_seq_len=128,
                         multiple_of=32, rope_theta=5000.0)
    model = Llama(config).eval()
    with torch.no_grad():  # not the initial ones: a misnamed norm or a swapped w1/w3 must show
        for p in model.parameters():
            p.copy_(1 + 0.3 * torch.randn_like(p) if p.dim() == 1 else 0.2 * torch.randn_like(p))
    out = tmp_path_factory.mktemp("export") / "hf"
    export_hf(model, config, tokenizer_model, out)
    return model, out


def test_transformers_computes_the_same_logits(exported):
    from transformers import LlamaForCausalLM

    model, out = exported
    hf, info = LlamaForCausalLM.from_pretrained(out, dtype=torch.float32, output_loading_info=True,
                                               attn_implementation="eager")
    assert not any(info.values()), info  # no missing, unexpected or mismatched weights
    hf.eval()
    tokens = torch.randint(0, model.config.vocab_size, (2, 24),
                           generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = model(tokens)
        theirs = hf(tokens).logits
        explicit = model(tokens, positions=torch.arange(24).expand(2, -1))
    assert ours.abs().max() > 1  # logits far from uniform: the comparison means something
    torch.testing.assert_close(theirs, ours, atol=1e-4, rtol=0)
    torch.testing.assert_close(explicit, ours, atol=1e-4, rtol=0)


def test_the_folder_holds_a_complete_llama_config(exported):
    model, out = exported
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"] and config["model_type"] == "llama"
    assert config["intermediate_size"] == model.config.hidden_dim
    assert (config["rope_theta"], config["rms_norm_eps"]) == (5000.0, 1e-5)
    assert (config["bos_token_id"], config["eos_token_id"]) == (1, 2)
    assert not config["tie_word_embeddings"]
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json",
        "tokenizer.model", "tokenizer_config.json"]


def test_a_7b_export_carries_llama_1s_config():
    """The released LLaMA-7B's params.json: dim 4096, 32 layers, 32 heads, multiple_of 256,
    norm_eps 1e-06; and its Hugging Face conversion's intermediate size, 11008."""
    config = hf_config(model_config("7B", vocab_size=32_000), bos_id=1, eos_id=2)
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"],
            config["intermediate_size"], config["vocab_size"]) == (4096, 32, 32, 11008, 32_000)
    assert config["rms_norm_eps"] == 1e-06
    assert json.loads(json.dumps(config))["rms_norm_eps"] == 1e-06


@pytest.fixture(scope="module")
def tokenizers(exported, tokenizer_model):
    from transformers import AutoTokenizer

    return (spm.SentencePieceProcessor(model_file=str(tokenizer_model)),
            AutoTokenizer.from_pretrained(exported[1]))


def test_the_hf_tokenizer_gives_sentencepieces_ids(tokenizers):
    from transformers import PreTrainedTokenizerFast

    sp, hf = tokenizers
    assert isinstance(hf, PreTrainedTokenizerFast)
    assert (hf.bos_token, hf.eos_token, hf.unk_token) == ("<s>", "</s>", "<unk>")
    for text in STRINGS:
        ids = sp.encode(text)
        assert hf.encode(text, add_special_tokens=False) == ids, text
        assert hf.encode(text) == [sp.bos_id()] + ids, text  # <s> first, no </s>
        assert hf.decode(ids) == sp.decode(ids), text


def test_the_hf_tokenizer_gives_sentencepieces_ids_on_real_text(tokenizers):
    if not C4_SAMPLE.exists():
        pytest.skip(f"real corpus sample not found at {C4_SAMPLE} (../shared beside the checkout)")
    sp, hf = tokenizers
    with gzip.open(C4_SAMPLE, "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line, _ in zip(f, range(300))]
    paragraphs = [p for text in texts for p in text.split("\n")] + texts[:50]
    assert hf(paragraphs, add_special_tokens=False)["input_ids"] == sp.encode(paragraphs)
