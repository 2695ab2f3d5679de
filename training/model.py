"""The LLaMA model (Touvron et al., 2023, section 2.2), top to bottom as the paper describes it.

A decoder-only Transformer with three changes to the original: pre-normalisation with RMSNorm,
SwiGLU feed-forward layers of hidden size 2/3·4d, and rotary position embeddings. This file is the
architecture only; parallelism, activation checkpointing, mixed precision and compilation are
applied from outside (train.py).

Parameter names are Meta's (``tok_embeddings``, ``layers.N.attention.wq``, ...), but the rotary
embedding rotates first half against second half of each head (``rotate_half``, the convention of
Hugging Face's ``LlamaRotaryEmbedding``) rather than Meta's interleaved pairs, so that export to
Hugging Face (export.py) renames weights and permutes none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributed.tensor import DTensor, distribute_tensor

from .attention import DocumentMask, KVCache, causal_attention, document_mask
from .loss import linear_cross_entropy


@dataclass(frozen=True)
class ModelConfig:
    """A LLaMA model's shape; ``dim``, ``n_heads`` and ``n_layers`` are the paper's d, h, L."""

    dim: int
    n_layers: int
    n_heads: int
    vocab_size: int
    max_seq_len: int = 2048
    multiple_of: int = 256
    # A floor under mean(x²). The paper's models use LLaMA 1's released 1e-6 (their presets say
    # so); the smaller ones LLaMA 2's and TinyLlama's 1e-5, which is as negligible for ordinary rows
    # and keeps near-zero rows of small bf16 models from blowing up.
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0

    def __post_init__(self):
        if self.dim % self.n_heads or self.head_dim % 2:
            raise ValueError(f"dim {self.dim} must split into {self.n_heads} heads of even size")

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    @property
    def hidden_dim(self) -> int:
        """SwiGLU's hidden size: 2/3·4d, which keeps the parameters of a 4d two-matrix MLP in
        three matrices, rounded up to a multiple of ``multiple_of`` as in Meta's code (11008 for
        d = 4096)."""
        hidden = 2 * 4 * self.dim // 3
        return -(-hidden // self.multiple_of) * self.multiple_of

    def num_params(self, include_embeddings: bool = True) -> int:
        """Parameters by formula. Without embeddings: less the input embedding and the (untied)
        output projection, V×d each — the non-embedding count of scaling-law papers."""
        d = self.dim
        per_layer = 4 * d * d + 3 * d * self.hidden_dim + 2 * d  # wq wk wv wo, w1 w2 w3, 2 norms
        total = self.n_layers * per_layer + d  # + the final norm
        return total + (2 * self.vocab_size * d if include_embeddings else 0)


@dataclass(frozen=True)
class Preset:
    """A model shape (with the paper's 32k vocabulary) and the peak learning rate and batch size
    (in tokens) it trains with."""

    config: ModelConfig
    lr: float
    batch_tokens: int


PAPER_VOCAB_SIZE = 32_000
_M = 2**20  # a "4M tokens" batch is 2,048 sequences of 2,048 tokens


def _preset(dim: int, n_heads: int, n_layers: int, lr: float, batch_tokens: int,
            multiple_of: int = 256, norm_eps: float = 1e-5) -> Preset:
    return Preset(ModelConfig(dim, n_layers, n_heads, PAPER_VOCAB_SIZE, multiple_of=multiple_of,
                              norm_eps=norm_eps), lr, batch_tokens)


PRESETS: dict[str, Preset] = {
    # A model small enough to train in a minute on two CPU cores: the demo's and the tests'.
    "tiny": _preset(64, 4, 2, 3.0e-3, _M // 64, multiple_of=32),
    # Ablation sizes, named by total parameters with the 32k vocabulary (of which embeddings are
    # 2·32,000·d: most of the smallest). Learning rate and batch follow GPT-3's Table 2.1 at the
    # nearest size (125M: 6e-4, 0.5M; 350M: 3e-4, 0.5M; 1.3B: 2e-4, 1M tokens); below its range,
    # higher rates and smaller batches, so that short ablation runs still take many steps. The 10M
    # model rounds SwiGLU to 32, as 256 would make its hidden layer 4d rather than 2/3·4d.
    "10M": _preset(128, 4, 6, 1.0e-3, _M // 8, multiple_of=32),
    "60M": _preset(512, 8, 8, 8.0e-4, _M // 4),
    "150M": _preset(768, 12, 14, 6.0e-4, _M // 2),
    "400M": _preset(1024, 16, 24, 3.0e-4, _M // 2),
    "1.1B": _preset(2048, 32, 22, 2.0e-4, _M),  # TinyLlama's shape, without its grouped KV heads
    # The paper's Table 2: dimension, heads, layers, learning rate, batch size; the RMSNorm
    # epsilon of the released models' params.json.
    "7B": _preset(4096, 32, 32, 3.0e-4, 4 * _M, norm_eps=1e-6),
    "13B": _preset(5120, 40, 40, 3.0e-4, 4 * _M, norm_eps=1e-6),
    "33B": _preset(6656, 52, 60, 1.5e-4, 4 * _M, norm_eps=1e-6),
    "65B": _preset(8192, 64, 80, 1.5e-4, 4 * _M, norm_eps=1e-6),
}


def model_config(preset: str, vocab_size: int, max_seq_len: int | None = None) -> ModelConfig:
    """The preset's shape with the release's vocabulary (and, if given, another context length)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; presets: {', '.join(PRESETS)}")
    config = dataclasses.replace(PRESETS[preset].config, vocab_size=vocab_size)
    return config if max_seq_len is None else dataclasses.replace(config, max_seq_len=max_seq_len)


class RMSNorm(nn.Module):
    """x / rms(x) · g (Zhang & Sennrich, 2019): LayerNorm without centring or bias, cheaper and as
    stable; computed in float32, as bf16's 8-bit mantissa is too coarse for a mean of d squares."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        x32 = x.float()
        normed = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * normed.type_as(x)


def rotary(positions: Tensor, head_dim: int, theta: float) -> tuple[Tensor, Tensor]:
    """cos and sin (B, T, head_dim) of the angles position·θ^(-2i/head_dim), each frequency i
    repeated in both halves of a head. Per-token ``positions`` let them restart at every document
    of a packed sequence. Float32: in bf16 an angle near 2,000 radians is off by several."""
    exponents = torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float) / head_dim
    angles = positions[..., None].float() * (1.0 / theta**exponents)
    angles = torch.cat((angles, angles), dim=-1)
    return angles.cos(), angles.sin()


def rotate_half(x: Tensor) -> Tensor:
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate each pair (x_i, x_{i + head_dim/2}) of every head of x (B, T, heads, head_dim) by
    its angle, so that q·k depends on positions only through their difference."""
    cos, sin = cos[:, :, None, :], sin[:, :, None, :]
    return (x * cos + rotate_half(x) * sin).type_as(x)


class Attention(nn.Module):
    """Multi-head causal self-attention with rotary q and k; no biases, as in the paper."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.n_heads, self.head_dim = config.n_heads, config.head_dim
        self.wq = nn.Linear(config.dim, config.dim, bias=False)
        self.wk = nn.Linear(config.dim, config.dim, bias=False)
        self.wv = nn.Linear(config.dim, config.dim, bias=False)
        self.wo = nn.Linear(config.dim, config.dim, bias=False)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, mask: DocumentMask | None = None,
                cache: KVCache | None = None) -> Tensor:
        B, T, _ = x.shape
        q, k, v = (w(x).view(B, T, self.n_heads, self.head_dim)
                   for w in (self.wq, self.wk, self.wv))
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        out = causal_attention(q, k, v, mask) if cache is None else cache.attend(q, k, v)
        return self.wo(out.transpose(1, 2).reshape(B, T, -1))


class FeedForward(nn.Module):
    """SwiGLU (Shazeer, 2020): w2(silu(w1·x) ⊙ w3·x), a gated MLP that trains better than ReLU."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.w1 = nn.Linear(config.dim, config.hidden_dim, bias=False)  # gate
        self.w2 = nn.Linear(config.hidden_dim, config.dim, bias=False)  # down
        self.w3 = nn.Linear(config.dim, config.hidden_dim, bias=False)  # up

    def forward(self, x: Tensor) -> Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    """Pre-normalisation (as GPT-3): each sub-layer normalises its input, not its output, which
    keeps the residual stream an identity path and training stable at depth."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.attention_norm = RMSNorm(config.dim, config.norm_eps)
        self.attention = Attention(config)
        self.ffn_norm = RMSNorm(config.dim, config.norm_eps)
        self.feed_forward = FeedForward(config)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, mask: DocumentMask | None = None,
                cache: KVCache | None = None) -> Tensor:
        h = x + self.attention(self.attention_norm(x), cos, sin, mask, cache)
        return h + self.feed_forward(self.ffn_norm(h))


class Llama(nn.Module):
    def __init__(self, config: ModelConfig, seed: int = 0):
        super().__init__()
        self.config = config
        self.tok_embeddings = nn.Embedding(config.vocab_size, config.dim)
        self.layers = nn.ModuleList(TransformerBlock(config) for _ in range(config.n_layers))
        self.norm = RMSNorm(config.dim, config.norm_eps)
        self.output = nn.Linear(config.dim, config.vocab_size, bias=False)  # untied from the input
        if not self.output.weight.is_meta:  # else initialised once allocated (train.py)
            self.init_weights(seed)

    def initial_value(self, name: str, seed: int) -> Tensor:
        """Parameter ``name``'s initial value, whole and on the CPU, from a generator seeded by
        ``seed`` and the name: the same however the model is sharded, built or ordered.

        N(0, 0.02) for every matrix; the projections that write into the residual stream (wo,
        w2) scaled by 1/√(2·n_layers) (GPT-2), so that the stream's variance stays about the same
        whatever the depth; norms start as the identity."""
        shape = self.get_parameter(name).shape
        if len(shape) == 1:
            return torch.ones(shape)
        key = hashlib.sha256(f"{seed}:{name}".encode()).digest()
        generator = torch.Generator().manual_seed(int.from_bytes(key[:8], "little") >> 1)
        is_residual = name.endswith(("attention.wo.weight", "feed_forward.w2.weight"))
        std = 0.02 / math.sqrt(2 * self.config.n_layers) if is_residual else 0.02
        return torch.empty(shape).normal_(0.0, std, generator=generator)

    @torch.no_grad()
    def init_weights(self, seed: int = 0) -> None:
        """Set every parameter to its :meth:`initial_value`, one at a time, so that a sharded
        model (FSDP2's DTensors, allocated from the meta device) never holds more than one
        parameter whole: each rank keeps its shard of it."""
        for name, param in self.named_parameters():
            value = self.initial_value(name, seed).to(param.device)
            if isinstance(param, DTensor):
                value = distribute_tensor(value, param.device_mesh, param.placements,
                                          src_data_rank=None)
            param.copy_(value)

    def forward(self, tokens: Tensor, positions: Tensor | None = None,
                doc_ids: Tensor | None = None, targets: Tensor | None = None, *,
                attention: str = "mask", caches: list[KVCache] | None = None) -> Tensor:
        """Logits (B, T, V) for ``tokens`` (B, T), or with ``targets`` (B, T) the mean cross-entropy
        loss over the targets other than -100 (without materialising the logits, see loss.py).
        With ``doc_ids`` (B, T), a token attends only to earlier tokens of its own document,
        through the ``attention`` kind of mask (attention.py); give ``positions`` that restart with
        each document too (data.Sequence's ``doc`` and ``position``), and each document is
        computed as if alone. With ``caches`` (one per layer, generate.py), ``tokens`` continue
        the cached positions."""
        B, T = tokens.shape
        if positions is None:
            start = caches[0].length if caches else 0
            positions = torch.arange(start, start + T, device=tokens.device).expand(B, T)
        cos, sin = rotary(positions, self.config.head_dim, self.config.rope_theta)
        # built once, for all layers
        mask = None if doc_ids is None else document_mask(doc_ids, attention)
        h = self.tok_embeddings(tokens)
        for i, layer in enumerate(self.layers):
            h = layer(h, cos, sin, mask, caches[i] if caches else None)
        h = self.norm(h)
        if targets is not None:
            return linear_cross_entropy(h.flatten(0, 1), self.output.weight, targets.flatten())
        return self.output(h)
