"""SentencePiece model files: LLaMA's trainer spec, loading with a clear error, the model proto.

``sentencepiece``'s generated ``sentencepiece_model_pb2`` refuses to import under the protobuf 6
runtime that Apache Beam pins (it was generated for protobuf 7), so the proto's message classes are
built here from the descriptor that module embeds, which any protobuf runtime can read.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

import sentencepiece as spm
from google.protobuf import descriptor_pool, message_factory

from llama_data.errors import LlamaDataError

# The original LLaMA tokenizer's trainer and normaliser spec (../shared/reference/
# llama_tokenizer_spec.txt), less what depends on the data and the machine: input,
# model_prefix, input_sentence_size, num_threads, and vocab_size, which is an option.
LLAMA_TRAINER_SPEC = {
    "model_type": "bpe",
    "character_coverage": 0.99995,
    "split_digits": True,
    "byte_fallback": True,
    "allow_whitespace_only_pieces": True,
    "max_sentencepiece_length": 16,
    "max_sentence_length": 4192,
    "split_by_unicode_script": True,
    "split_by_whitespace": True,
    "split_by_number": True,
    "treat_whitespace_as_suffix": False,
    "vocabulary_output_piece_score": True,
    "hard_vocab_limit": True,
    "use_all_vocab": False,
    "shuffle_input_sentence": True,
    "input_format": "text",
    "unk_id": 0,
    "bos_id": 1,
    "eos_id": 2,
    "pad_id": -1,
    "unk_piece": "<unk>",
    "bos_piece": "<s>",
    "eos_piece": "</s>",
    "pad_piece": "<pad>",
    "unk_surface": " \u2047 ",
    "normalization_rule_name": "identity",
    "add_dummy_prefix": True,
    "remove_extra_whitespaces": False,
}
LLAMA_VOCAB_SIZE = 32_000


class TokenizerError(LlamaDataError):
    """A tokenizer that cannot be trained or loaded as asked."""


@functools.cache
def model_proto_class():
    """``sentencepiece.ModelProto``, from the serialized descriptor in sentencepiece's pb2 module."""
    source = Path(importlib.util.find_spec("sentencepiece.sentencepiece_model_pb2").origin)
    serialized = next(
        node.args[0].value for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "AddSerializedFile")
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(serialized)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("sentencepiece.ModelProto"))


def read_proto(path: str | Path):
    proto = model_proto_class()()
    try:
        proto.ParseFromString(Path(path).read_bytes())
    except OSError as e:
        raise TokenizerError(f"{path}: cannot read the tokenizer ({e.strerror})") from e
    except Exception as e:  # protobuf's DecodeError, which is not exported under one name
        raise TokenizerError(f"{path}: not a SentencePiece model ({e})") from e
    if not proto.pieces:
        raise TokenizerError(f"{path}: not a SentencePiece model (no pieces)")
    return proto


def load(path: str | Path, add_dummy_prefix: bool = True) -> spm.SentencePieceProcessor:
    """A processor for ``path``; ``add_dummy_prefix=False`` gives the same model without the "▁"
    it puts before a text, to encode the lines after the first of a document on their own."""
    proto = read_proto(path)
    proto.normalizer_spec.add_dummy_prefix = add_dummy_prefix
    processor = spm.SentencePieceProcessor()
    try:
        processor.LoadFromSerializedProto(proto.SerializeToString())
    except RuntimeError as e:
        raise TokenizerError(f"{path}: not a usable SentencePiece model ({e})") from e
    return processor
