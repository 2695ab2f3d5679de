"""Causal self-attention that stores no attention matrix, optionally masked to each document.

The paper's efficient attention (xformers; FlashAttention's idea) neither stores the T×T weights nor
computes the masked scores. ``scaled_dot_product_attention`` with ``is_causal=True`` does exactly
that on CUDA (FlashAttention, cuDNN or memory-efficient kernels).

A packed training sequence (data.py) holds several documents. Document masking (as LLaMA 3 does;
the LLaMA paper does not say) keeps a token from attending to the documents before it. On CUDA
that runs in FlexAttention, whose block mask skips fully-masked tiles, so shorter documents cost
fewer FLOPs; elsewhere, as a correct but O(T²)-memory boolean mask.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.attention.flex_attention import BlockMask, create_block_mask, flex_attention

DocumentMask = BlockMask | Tensor
"""Causal and same-document: a FlexAttention block mask on CUDA, a boolean (B, 1, T, T) tensor
elsewhere."""


def document_mask(doc_ids: Tensor) -> DocumentMask:
    """The mask for ``doc_ids`` (B, T), to build once per batch and share between the layers:
    building a block mask evaluates the rule at every (query, key) pair."""
    B, T = doc_ids.shape
    if doc_ids.is_cuda:
        def causal_same_document(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
            return (q_idx >= kv_idx) & (doc_ids[b, q_idx] == doc_ids[b, kv_idx])

        return create_block_mask(causal_same_document, B, None, T, T, device=doc_ids.device)
    causal = torch.ones(T, T, dtype=torch.bool, device=doc_ids.device).tril()
    return (causal & (doc_ids[:, :, None] == doc_ids[:, None, :]))[:, None]


@functools.cache
def _compiled_flex_attention():
    """FlexAttention compiled, as its documentation asks: into one fused kernel that never holds
    the scores (uncompiled, it runs a reference implementation that does)."""
    return torch.compile(flex_attention)


def causal_attention(q: Tensor, k: Tensor, v: Tensor, doc_ids: Tensor | None = None, *,
                     mask: DocumentMask | None = None) -> Tensor:
    """softmax(q·kᵀ/√head_dim)·v over the earlier positions of each sequence, q, k, v shaped
    (B, heads, T, head_dim); with ``doc_ids`` (B, T), or their ``document_mask``, over the earlier
    positions of the same document only."""
    if mask is None and doc_ids is not None:
        mask = document_mask(doc_ids)
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    if isinstance(mask, BlockMask):
        return _compiled_flex_attention()(q, k, v, block_mask=mask)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
