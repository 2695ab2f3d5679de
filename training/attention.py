"""Causal self-attention that stores no attention matrix, optionally masked to each document.

The paper's efficient attention (xformers; FlashAttention's idea) neither stores the T×T weights nor
computes the masked scores. ``scaled_dot_product_attention`` with ``is_causal=True`` does exactly
that on CUDA (FlashAttention, cuDNN or memory-efficient kernels).

A packed training sequence (data.py) holds several documents. Document masking (as LLaMA 3 does;
the LLaMA paper does not say) keeps a token from attending to the documents before it, in one of
two ways chosen by the caller (``--attention``): ``flex``, FlexAttention, whose block mask skips
fully-masked tiles so that shorter documents cost fewer FLOPs (its forward runs on the CPU too, its
backward only on CUDA); or ``mask``, a boolean (B, 1, T, T) mask given to SDPA, correct everywhere
but O(T²) in memory.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.attention.flex_attention import BlockMask, create_block_mask, flex_attention

DocumentMask = BlockMask | Tensor
"""Causal and same-document: a FlexAttention block mask (``flex``) or a boolean (B, 1, T, T)
tensor (``mask``)."""


def attention_kind(setting: str, device: torch.device) -> str:
    """``auto`` made explicit: FlexAttention on CUDA, where it is fastest and trains; the boolean
    mask elsewhere, as FlexAttention has no CPU backward."""
    if setting == "auto":
        return "flex" if device.type == "cuda" else "mask"
    return setting


@functools.cache
def _compiled_create_block_mask():
    """Compiled, the mask rule is evaluated tile by tile; eager, it is evaluated at every (query,
    key) pair at once (16 x 2048 tokens on a CPU: 0.42 s and 720 MB more per batch)."""
    return torch.compile(create_block_mask, dynamic=False)


@functools.cache
def _compiled_flex_attention():
    """FlexAttention compiled, as its documentation asks: into one fused kernel that never holds
    the scores (uncompiled, it runs a reference implementation that does). Static shapes: a batch
    of another shape recompiles rather than switching every later call to a dynamic-shape kernel,
    so evaluation pads its last batch instead (evaluate.py)."""
    return torch.compile(flex_attention, dynamic=False)


def document_mask(doc_ids: Tensor, kind: str) -> DocumentMask:
    """The ``kind`` of mask for ``doc_ids`` (B, T), to build once per batch and share between the
    layers: building a block mask evaluates the rule over every tile."""
    B, T = doc_ids.shape
    if kind == "flex":
        def causal_same_document(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
            return (q_idx >= kv_idx) & (doc_ids[b, q_idx] == doc_ids[b, kv_idx])

        return _compiled_create_block_mask()(causal_same_document, B, None, T, T,
                                             device=doc_ids.device)
    if kind != "mask":
        raise ValueError(f"unknown attention {kind!r}: flex or mask")
    causal = torch.ones(T, T, dtype=torch.bool, device=doc_ids.device).tril()
    return (causal & (doc_ids[:, :, None] == doc_ids[:, None, :]))[:, None]


def causal_attention(q: Tensor, k: Tensor, v: Tensor, mask: DocumentMask | None = None) -> Tensor:
    """softmax(q·kᵀ/√head_dim)·v over the earlier positions of each sequence, q, k, v shaped
    (B, heads, T, head_dim); with a ``document_mask``, over the earlier positions of the same
    document only."""
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    if isinstance(mask, BlockMask):
        return _compiled_flex_attention()(q, k, v, block_mask=mask)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class KVCache:
    """One layer's keys and values of the positions generated so far, allocated once for the
    whole generation so that each step writes one position instead of concatenating."""

    def __init__(self, batch: int, heads: int, max_len: int, head_dim: int,
                 device: torch.device, dtype: torch.dtype):
        self.k = torch.zeros(batch, heads, max_len, head_dim, device=device, dtype=dtype)
        self.v = torch.zeros_like(self.k)
        self.length = 0

    def attend(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Causal attention of the new positions' q, k, v (B, heads, T, head_dim), which follow
        the cached ones, over the cache and themselves."""
        start, end = self.length, self.length + q.shape[2]
        self.k[:, :, start:end], self.v[:, :, start:end] = k, v
        self.length = end
        # query i (position start + i) sees keys 0 .. start + i: SDPA's is_causal aligns the
        # diagonal top-left, wrong once start > 0
        allowed = torch.ones(end - start, end, dtype=torch.bool, device=q.device).tril(start)
        return F.scaled_dot_product_attention(q, self.k[:, :, :end], self.v[:, :, :end],
                                              attn_mask=allowed)
