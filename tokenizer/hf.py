"""The release's SentencePiece model as a Hugging Face ``tokenizers`` tokenizer with the same ids.

The default conversion (``transformers``' ``LlamaConverter``) ranks merges by piece id and splits
on a Metaspace pre-tokenizer, which gives other ids where a text has leading or repeated spaces.
Here, as SentencePiece does: "▁" is put before the text and replaces every space, the whole text
is one word (no pre-tokenizer), and a merge ranks by the score of the piece it makes.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers

from . import model

NORMAL = 1  # sentencepiece.ModelProto.SentencePiece.Type.NORMAL


def _merges(proto) -> list[tuple[str, str]]:
    """Every (left, right) pair of pieces whose concatenation is a normal piece, best score first."""
    vocab = {p.piece: i for i, p in enumerate(proto.pieces)}
    ranked = []
    for merged_id, piece in enumerate(proto.pieces):
        if piece.type != NORMAL or len(piece.piece) < 2:
            continue
        for cut in range(1, len(piece.piece)):
            left, right = piece.piece[:cut], piece.piece[cut:]
            if left in vocab and right in vocab:
                ranked.append((-piece.score, vocab[left], vocab[right], merged_id, left, right))
    ranked.sort()
    return [(left, right) for *_, left, right in ranked]


def to_hf(model_path: str | Path) -> Tokenizer:
    proto = model.read_proto(model_path)
    vocab = {p.piece: i for i, p in enumerate(proto.pieces)}
    unk = proto.pieces[proto.trainer_spec.unk_id].piece
    tokenizer = Tokenizer(models.BPE(vocab, _merges(proto), unk_token=unk, fuse_unk=True,
                                     byte_fallback=proto.trainer_spec.byte_fallback))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokenizer.pre_tokenizer = None
    tokenizer.decoder = decoders.Sequence([
        decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
        decoders.Strip(" ", 1, 0)])
    specials = [p.piece for p in proto.pieces if p.type in (2, 3)]  # UNKNOWN, CONTROL
    tokenizer.add_special_tokens(specials)
    return tokenizer
