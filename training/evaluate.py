"""Validation loss and bits per byte per source: the numbers a data ablation compares.

Bits per byte divide the summed loss (in bits) by the UTF-8 bytes of the predicted text, so runs
with different tokenizers (a new release retrains its tokenizer) stay comparable. Every batch has
the training micro-batch's shape, the last one padded with rows whose targets are ignored, so that
a compiled model (or FlexAttention, compiled for static shapes) does not compile again for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from llama_data.tokenizer import model as sp_model

from .data import MixtureSequences, Sequence
from .loader import batch_tensors, to_device
from .loss import IGNORE_INDEX


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


def _batches(items: Iterable[Sequence], size: int) -> Iterable[tuple[list[Sequence], int]]:
    """Batches of ``size`` sequences and how many of them count: the last one is filled up with
    copies of its first sequence."""
    batch: list[Sequence] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch, size
            batch = []
    if batch:
        yield batch + batch[:1] * (size - len(batch)), len(batch)


@torch.no_grad()
def evaluate(model: torch.nn.Module, sequences: MixtureSequences, token_bytes: np.ndarray,
             max_sequences: int, batch_size: int, device: torch.device,
             doc_mask: bool = True, attention: str = "mask") -> dict[str, dict[str, float]]:
    """Per source: mean loss (nats per token) and bits per byte on its validation sequences;
    ``attention`` is the kind of document mask (attention.py)."""
    was_training = model.training
    model.eval()
    sizes = torch.from_numpy(token_bytes).to(device)
    results = {}
    for source in sequences.sources:
        nats, tokens, nbytes = 0.0, 0, 0
        for batch, counted in _batches(sequences.validation(source, max_sequences), batch_size):
            t = to_device(batch_tensors(batch), device)
            targets = t["targets"].clone()  # on the CPU, a view of the inputs' memory
            targets[counted:] = IGNORE_INDEX
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                mean = model(t["inputs"], t["positions"], t["doc_ids"] if doc_mask else None,
                             targets, attention=attention)
            n = targets[:counted].numel()
            nats += mean.item() * n
            tokens += n
            nbytes += int(sizes[targets[:counted]].sum().item())
        if tokens:
            results[source] = {"loss": nats / tokens, "bpb": nats / math.log(2) / max(nbytes, 1)}
    model.train(was_training)
    return results
