"""Generation: the KV cache against recomputing the whole sequence, greedy and top-p sampling."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from test_model import TINY

from llama_data.training.attention import KVCache
from llama_data.training.generate import GenerationError, generate, next_token
from llama_data.training.model import Llama

CONFIG = dataclasses.replace(TINY, max_seq_len=40)
PROMPT = [5, 17, 3, 99, 42, 8]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Llama(CONFIG).eval()


def caches(length: int) -> list[KVCache]:
    return [KVCache(1, CONFIG.n_heads, length, CONFIG.head_dim, torch.device("cpu"),
                    torch.float32) for _ in range(CONFIG.n_layers)]


@torch.no_grad()
def test_cached_forward_continues_the_positions_of_the_whole_sequence(model):
    tokens = torch.randint(0, CONFIG.vocab_size, (1, 12))
    cache = caches(12)
    pieces = [model(tokens[:, :5], caches=cache)]  # a prompt, then one token at a time
    pieces += [model(tokens[:, i:i + 1], caches=cache) for i in range(5, 12)]
    torch.testing.assert_close(torch.cat(pieces, dim=1), model(tokens), atol=1e-5, rtol=0)


@torch.no_grad()
def test_cached_greedy_generation_equals_recomputing_every_step(model):
    sequence = list(PROMPT)
    for _ in range(20):
        sequence.append(int(model(torch.tensor([sequence]))[0, -1].argmax()))
    assert generate(model, PROMPT, 20) == sequence[len(PROMPT):]


def test_top_p_near_zero_is_greedy_and_a_seed_repeats_its_sample(model):
    greedy = generate(model, PROMPT, 12)
    assert generate(model, PROMPT, 12, temperature=1.0, top_p=1e-6, seed=3) == greedy
    sample = generate(model, PROMPT, 12, temperature=1.0, top_p=1.0, seed=3)
    assert generate(model, PROMPT, 12, temperature=1.0, top_p=1.0, seed=3) == sample
    assert generate(model, PROMPT, 12, temperature=1.0, top_p=1.0, seed=4) != sample


def test_top_p_samples_only_the_smallest_set_of_likeliest_tokens_reaching_p():
    logits = torch.tensor([0.15, 0.5, 0.05, 0.3]).log()
    generator = torch.Generator().manual_seed(0)
    drawn = {next_token(logits, 1.0, 0.7, generator) for _ in range(200)}
    assert drawn == {1, 3}  # 0.5 < 0.7 <= 0.5 + 0.3


def test_stops_at_the_end_of_text_and_at_the_context_length(model):
    first = generate(model, PROMPT, 1)[0]
    assert generate(model, PROMPT, 10, eos_id=first) == [first]
    assert len(generate(model, [1] * (CONFIG.max_seq_len - 3), 10)) == 3
    with pytest.raises(GenerationError, match="the prompt has 40 tokens: the model takes 1 to 39"):
        generate(model, [1] * CONFIG.max_seq_len, 10)
