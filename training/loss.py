"""Cross-entropy of the output layer, fused and in chunks on the CPU.

With a 32,000-token vocabulary the logits of a small model's batch are its largest tensor (8 x 256
tokens: 262 MB) and softmax passes over them take a third of a CPU training step. Here the logits
exist one chunk of rows at a time, and the gradients of the hidden states and the output weight
are computed in the same pass (as Liger-Kernel's fused linear cross-entropy does on GPUs), with one
exponential per logit. On CUDA the plain path is used: its kernels are fused already, and autocast
keeps the matmul in bf16 there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def chunk_rows(dim: int) -> int:
    """Rows of logits per chunk. The output weight's gradient (V x d) is read and written once
    per chunk, so wider models want fewer, larger chunks, while a chunk's logits (rows x V) should
    stay small; measured on 2 cores, 8 x 256 tokens: d = 128 fastest at 256 rows, d = 512 at
    512-1024 (23% faster than 128 rows)."""
    return min(1024, max(128, 2 * dim))


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden: Tensor, weight: Tensor, targets: Tensor) -> Tensor:
        n = hidden.shape[0]
        loss = hidden.new_zeros((), dtype=torch.float32)
        grad_hidden = torch.empty_like(hidden)
        grad_weight = torch.zeros_like(weight)
        rows = chunk_rows(hidden.shape[1])
        for start in range(0, n, rows):
            h, t = hidden[start:start + rows], targets[start:start + rows]
            logits = h @ weight.T
            target_logit = logits.gather(1, t[:, None]).squeeze(1)
            peak = logits.amax(1, keepdim=True)
            probs = logits.sub_(peak).exp_()  # in place: the chunk's logits become exp(l - max)
            total = probs.sum(1, keepdim=True)
            loss += (peak.squeeze(1) + total.squeeze(1).log() - target_logit).sum()
            probs.mul_(1.0 / (total * n))  # softmax / n: the gradient of the mean loss...
            probs[torch.arange(len(t)), t] -= 1.0 / n  # ...less one-hot / n
            grad_hidden[start:start + rows] = probs @ weight
            grad_weight.addmm_(probs.T, h)
        ctx.save_for_backward(grad_hidden, grad_weight)
        return loss / n

    @staticmethod
    def backward(ctx, grad_loss: Tensor):
        grad_hidden, grad_weight = ctx.saved_tensors
        return grad_hidden * grad_loss, grad_weight * grad_loss, None


def linear_cross_entropy(hidden: Tensor, weight: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy of ``hidden @ weight.T`` (N, V) against ``targets`` (N,)."""
    if hidden.is_cuda or not torch.is_grad_enabled():
        return F.cross_entropy(F.linear(hidden, weight).float(), targets)
    return _LinearCrossEntropy.apply(hidden, weight, targets)
