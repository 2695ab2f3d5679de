"""Validation loss and bits per byte: the padded last batch changes nothing and compiles nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_model import FLEX_BATCH, FLEX_LENGTHS, TINY

from llama_data.training.data import Sequence
from llama_data.training.evaluate import evaluate
from llama_data.training.model import Llama

SEQ_LEN = sum(FLEX_LENGTHS)  # the shapes test_model's FlexAttention tests compiled for


class Validation:
    """Validation sequences of two sources, as MixtureSequences gives them."""

    sources = ("a", "b")

    def __init__(self, count: int):
        rng = np.random.default_rng(0)
        doc = np.repeat(np.arange(len(FLEX_LENGTHS)), FLEX_LENGTHS)
        doc = np.append(doc, doc[-1])  # L + 1 tokens: the last target's
        position = np.concatenate([np.arange(n) for n in FLEX_LENGTHS] + [[FLEX_LENGTHS[-1]]])
        self.sequences = {s: [Sequence(i, s, rng.integers(0, TINY.vocab_size, SEQ_LEN + 1), doc,
                                       position) for i in range(count)] for s in self.sources}

    def validation(self, source: str, max_sequences: int | None = None):
        return iter(self.sequences[source][:max_sequences])


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Llama(TINY)


TOKEN_BYTES = np.random.default_rng(1).integers(0, 4, TINY.vocab_size)


def test_a_padded_last_batch_gives_the_loss_and_bits_per_byte_of_unpadded_batches(model):
    sequences, cpu = Validation(5), torch.device("cpu")
    padded = evaluate(model, sequences, TOKEN_BYTES, None, 3, cpu)  # 3 + (2 and a copy)
    one_by_one = evaluate(model, sequences, TOKEN_BYTES, None, 1, cpu)
    for source in Validation.sources:
        for key in ("loss", "bpb"):
            assert padded[source][key] == pytest.approx(one_by_one[source][key], rel=1e-6)


def test_evaluating_a_ragged_set_with_flex_attention_compiles_nothing_more(model):
    from torch._dynamo.utils import counters

    cpu = torch.device("cpu")
    evaluate(model, Validation(FLEX_BATCH), TOKEN_BYTES, None, FLEX_BATCH, cpu, attention="flex")
    compiled = counters["stats"]["unique_graphs"]
    ragged = evaluate(model, Validation(FLEX_BATCH + 1), TOKEN_BYTES, None, FLEX_BATCH, cpu,
                      attention="flex")
    assert counters["stats"]["unique_graphs"] == compiled
    masked = evaluate(model, Validation(FLEX_BATCH + 1), TOKEN_BYTES, None, FLEX_BATCH, cpu)
    for source in Validation.sources:
        assert ragged[source]["bpb"] == pytest.approx(masked[source]["bpb"], rel=1e-5)
