"""Cross-entropy of the output layer, fused and in chunks, on every device.

With a 32,000-token vocabulary the logits are a model's largest tensor: 262 MB for a small model's
8 x 256 tokens, 4 GB in float32 for a 400M model's 16 x 2048, and softmax passes over them take a
third of a CPU training step. Here the logits exist one chunk of rows at a time, and the gradients
of the hidden states and the output weight are computed in the same pass (as Liger-Kernel's fused
linear cross-entropy does on GPUs), with one exponential per logit. Under autocast (CUDA) the
chunk's matmuls run in its dtype (bf16), as the plain output layer's would, and the softmax in
float32.
"""

from __future__ import annotations

import torch
from torch import Tensor

IGNORE_INDEX = -100  # torch's: a target that adds no loss and no gradient (e.g. a padded row)


def chunk_rows(dim: int) -> int:
    """Rows of logits per chunk. The output weight's gradient (V x d) is read and written once
    per chunk, so wider models want fewer, larger chunks, while a chunk's logits (rows x V) should
    stay small; measured on 2 cores, 8 x 256 tokens: d = 128 fastest at 256 rows, d = 512 at
    512-1024 (23% faster than 128 rows)."""
    return min(1024, max(128, 2 * dim))


def _chunked(hidden: Tensor, weight: Tensor, targets: Tensor, dtype: torch.dtype,
             gradients: bool) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """The mean loss over the counted targets and, if ``gradients``, its gradients with respect
    to ``hidden`` and ``weight`` (float32 sums over the chunks, whatever ``dtype``)."""
    counted = targets != IGNORE_INDEX
    n = counted.sum().clamp_min(1)  # none counted: a zero loss and zero gradients, not 0/0
    safe_targets = targets.where(counted, 0)
    w = weight.to(dtype)
    loss = hidden.new_zeros((), dtype=torch.float32)
    grad_hidden = torch.empty_like(hidden) if gradients else None
    grad_weight = torch.zeros_like(weight, dtype=torch.float32) if gradients else None
    rows = chunk_rows(hidden.shape[1])
    for start in range(0, hidden.shape[0], rows):
        h = hidden[start:start + rows].to(dtype)
        t, keep = safe_targets[start:start + rows], counted[start:start + rows]
        logits = (h @ w.T).float()
        target_logit = logits.gather(1, t[:, None]).squeeze(1)
        peak = logits.amax(1, keepdim=True)
        probs = logits.sub_(peak).exp_()  # in place: the chunk's logits become exp(l - max)
        total = probs.sum(1, keepdim=True)
        loss += ((peak.squeeze(1) + total.squeeze(1).log() - target_logit) * keep).sum()
        if gradients:
            probs.mul_(keep[:, None] / (total * n))  # softmax / n: the gradient of the mean...
            probs[torch.arange(len(t)), t] -= keep / n  # ...less one-hot / n; ignored rows: 0
            probs = probs.to(dtype)
            grad_hidden[start:start + rows] = probs @ w
            if dtype == grad_weight.dtype:  # in place: no V x d temporary per chunk
                grad_weight.addmm_(probs.T, h)
            else:  # bf16 products, summed over the chunks in float32
                grad_weight += probs.T @ h
    return loss / n, grad_hidden, grad_weight


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden: Tensor, weight: Tensor, targets: Tensor,
                dtype: torch.dtype) -> Tensor:
        loss, grad_hidden, grad_weight = _chunked(hidden, weight, targets, dtype, gradients=True)
        ctx.save_for_backward(grad_hidden, grad_weight.to(weight.dtype))
        return loss

    @staticmethod
    def backward(ctx, grad_loss: Tensor):
        grad_hidden, grad_weight = ctx.saved_tensors
        return grad_hidden * grad_loss, grad_weight * grad_loss, None, None


def linear_cross_entropy(hidden: Tensor, weight: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy of ``hidden @ weight.T`` (N, V) against ``targets`` (N,), over the
    targets other than ``IGNORE_INDEX`` (none: 0)."""
    device = hidden.device.type
    dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else weight.dtype
    if torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad):
        return _LinearCrossEntropy.apply(hidden, weight, targets, dtype)
    return _chunked(hidden, weight, targets, dtype, gradients=False)[0]
