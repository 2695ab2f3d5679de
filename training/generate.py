"""Text from a run's model (``llama-data generate``): a quick look at what a run learned.

The prompt is run through the model once, filling a key/value cache per layer; each new token then
costs one position's forward pass instead of the whole sequence's.
"""

from __future__ import annotations

import torch
from torch import Tensor

from llama_data.errors import LlamaDataError

from .attention import KVCache
from .model import Llama


class GenerationError(LlamaDataError):
    """A prompt that the model cannot continue."""


def next_token(logits: Tensor, temperature: float, top_p: float, generator: torch.Generator) -> int:
    """Greedy at temperature 0; otherwise nucleus sampling (Holtzman et al., 2020): from the
    likeliest tokens whose probabilities first reach ``top_p``, renormalised."""
    if temperature == 0:
        return int(logits.argmax())
    probs, ids = (logits.float() / temperature).softmax(-1).sort(descending=True)
    before = probs.cumsum(-1) - probs  # mass of the likelier tokens: the likeliest always stays
    probs = probs.masked_fill(before >= top_p, 0.0)
    return int(ids[torch.multinomial(probs, 1, generator=generator)])


@torch.no_grad()
def generate(model: Llama, prompt: list[int], max_new_tokens: int, eos_id: int | None = None,
             temperature: float = 0.0, top_p: float = 1.0, seed: int = 0) -> list[int]:
    """The ids that follow ``prompt``: ``max_new_tokens`` at most, fewer at ``eos_id`` (included)
    or the model's context length."""
    config = model.config
    room = config.max_seq_len - len(prompt)
    if not prompt or room < 1:
        raise GenerationError(f"the prompt has {len(prompt)} tokens: the model takes 1 to "
                              f"{config.max_seq_len - 1}")
    steps = min(max_new_tokens, room)
    parameter = next(model.parameters())
    caches = [KVCache(1, config.n_heads, len(prompt) + steps, config.head_dim, parameter.device,
                      parameter.dtype) for _ in model.layers]
    generator = torch.Generator(parameter.device).manual_seed(seed)
    tokens = torch.tensor([prompt], device=parameter.device)
    new: list[int] = []
    while len(new) < steps:
        logits = model(tokens, caches=caches)[0, -1]
        new.append(next_token(logits, temperature, top_p, generator))
        if new[-1] == eos_id:
            break
        tokens = tokens.new_tensor([new[-1:]])
    return new
