"""The chunked cross-entropy against torch's on the materialised logits."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from llama_data.training.loss import IGNORE_INDEX, chunk_rows, linear_cross_entropy

DIM, VOCAB = 32, 50
ROWS = 2 * chunk_rows(DIM) + 44  # three chunks, the last partial


def inputs(ignored: float, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    hidden = torch.randn(ROWS, DIM, generator=generator, requires_grad=True)
    # logits of about unit size, as a model's: no row's softmax is near one-hot
    weight = (torch.randn(VOCAB, DIM, generator=generator) / DIM**0.5).requires_grad_()
    targets = torch.randint(0, VOCAB, (ROWS,), generator=generator)
    targets[torch.rand(ROWS, generator=generator) < ignored] = IGNORE_INDEX
    return hidden, weight, targets


def loss_and_gradients(loss_fn, hidden, weight, targets):
    hidden.grad = weight.grad = None
    loss = loss_fn(hidden, weight, targets)
    loss.backward()
    return loss.detach(), hidden.grad, weight.grad


def reference(hidden, weight, targets):
    return F.cross_entropy(hidden @ weight.T, targets, ignore_index=IGNORE_INDEX)


def test_equals_cross_entropy_of_the_logits_with_ignored_targets():
    hidden, weight, targets = inputs(ignored=0.3)
    assert 0 < (targets == IGNORE_INDEX).sum() < ROWS
    ours = loss_and_gradients(linear_cross_entropy, hidden, weight, targets)
    theirs = loss_and_gradients(reference, hidden, weight, targets)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b)
    assert not ours[1][targets == IGNORE_INDEX].any()  # ignored rows get no gradient
    with torch.no_grad():  # the path without gradients gives the same loss
        torch.testing.assert_close(linear_cross_entropy(hidden, weight, targets), ours[0])


def test_all_targets_ignored_gives_zero_loss_and_zero_gradients():
    hidden, weight, targets = inputs(ignored=1.0)
    loss, grad_hidden, grad_weight = loss_and_gradients(linear_cross_entropy, hidden, weight,
                                                        targets)
    assert loss.item() == 0.0
    assert not grad_hidden.any() and not grad_weight.any()


def test_under_bf16_autocast_matches_the_bf16_inputs_within_bf16_rounding():
    """Under autocast the chunk's matmuls run in bf16, as the output layer's would; the reference
    multiplies the same bf16-rounded inputs in float32. The logits then differ by bf16's rounding
    of a product, δ ≤ 2^-9 |logit|: a row's loss moves by at most 2δ and its probabilities by a
    factor within e^(±2δ). The gradients add the rounding of those probabilities to bf16 and of
    each product (2^-9 each), so they stay within (2 max|logit| + 2) · 2^-9 of their norm."""
    hidden, weight, targets = inputs(ignored=0.3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, grad_hidden, grad_weight = loss_and_gradients(linear_cross_entropy, hidden, weight,
                                                            targets)
    bf16 = lambda h, w, t: reference(h.bfloat16().float(), w.bfloat16().float(), t)
    ref_loss, ref_hidden, ref_weight = loss_and_gradients(bf16, hidden, weight, targets)
    with torch.no_grad():
        largest = (hidden.bfloat16().float() @ weight.bfloat16().float().T).abs().max()
    assert abs(loss - ref_loss) <= 2 * largest * 2**-9
    for ours, theirs in ((grad_hidden, ref_hidden), (grad_weight, ref_weight)):
        assert ours.dtype == torch.float32
        off = torch.linalg.vector_norm(ours - theirs) / torch.linalg.vector_norm(theirs)
        assert off <= (2 * largest + 2) * 2**-9
