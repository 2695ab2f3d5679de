"""Validation loss and bits per byte per source: the numbers a data ablation compares.

Bits per byte divide the summed loss (in bits) by the UTF-8 bytes of the predicted text, so runs
with different tokenizers (a new release retrains its tokenizer) stay comparable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from llama_data.tokenizer import model as sp_model

from .data import MixtureSequences, Sequence
from .loader import batch_tensors, to_device


def bytes_per_token(tokenizer_model: str | Path) -> np.ndarray:
    """UTF-8 bytes of the text each id stands for: "▁" is a space, ``<0xNN>`` one byte, and
    control pieces (``<s>``, ``</s>``) none."""
    proto = sp_model.read_proto(tokenizer_model)
    sizes = np.zeros(len(proto.pieces), dtype=np.int64)
    for i, piece in enumerate(proto.pieces):
        if piece.type == 6:  # BYTE
            sizes[i] = 1
        elif piece.type == 1:  # NORMAL
            sizes[i] = len(piece.piece.replace("▁", " ").encode("utf-8"))
    return sizes


def _batches(items: Iterable[Sequence], size: int) -> Iterable[list[Sequence]]:
    batch: list[Sequence] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@torch.no_grad()
def evaluate(model: torch.nn.Module, sequences: MixtureSequences, token_bytes: np.ndarray,
             max_sequences: int, batch_size: int, device: torch.device,
             doc_mask: bool = True) -> dict[str, dict[str, float]]:
    """Per source: mean loss (nats per token) and bits per byte on its validation sequences."""
    was_training = model.training
    model.eval()
    sizes = torch.from_numpy(token_bytes).to(device)
    results = {}
    for source in sequences.sources:
        nats, tokens, nbytes = 0.0, 0, 0
        for batch in _batches(sequences.validation(source, max_sequences), batch_size):
            t = to_device(batch_tensors(batch), device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = model(t["inputs"], t["positions"], t["doc_ids"] if doc_mask else None)
            loss = F.cross_entropy(logits.float().flatten(0, 1), t["targets"].flatten(),
                                   reduction="sum")
            nats += loss.item()
            tokens += t["targets"].numel()
            nbytes += int(sizes[t["targets"]].sum().item())
        if tokens:
            results[source] = {"loss": nats / tokens, "bpb": nats / math.log(2) / max(nbytes, 1)}
    model.train(was_training)
    return results
