"""Order statistics of regression slots that share no order, from counts taken during the summary pass.

The pinball loss, Barron's loss below alpha = 1 and the count likelihoods are not functions of
|x - y| that rise with it (``kernels.rises_with_abs_residual``), so each needs its own order
statistics: three loss quantiles and the top-1% gradient threshold. Writing their per-sample
rows and selecting on them costs a row write and a numpy pass per slot. Here the kernel run on
a strided sample of the rows draws each statistic's span (``selection``'s brackets), the
summary pass itself counts where every element falls around those spans and marks the few
inside them, and only the marked elements are evaluated again, sorted out and partitioned.

What it saves, measured, is in ``summary``'s docstring.

A span that missed its rank (a sample that was not representative) gives None for that slot,
which then takes the ordinary path, as does a slot whose reductions are not finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advisor.evaluation import diagnostics, kernels, selection

Span = tuple[float, float, list[int]]

#: Samples of the strided sample that draws the spans. A smaller one sorts faster and marks more
#: elements (the spans widen as one over its square root). The pinball pair at N=1e6 took 24.3,
#: 22.4, 21.8, 21.0 and 23.4 ms with 2^12 to 2^16; the eight losses at 1e7, 245 ms with 2^15,
#: 266 with 2^16 and 247 with 2^17.
PLAN_SAMPLE = 1 << 15


@dataclass
class SlotSpans:
    """One bracketed slot's spans: up to ``kernels.LOSS_SPANS`` for its loss quantiles, one for its gradient threshold."""

    n: int
    loss: list[Span]
    grad: Span

    @property
    def top_rank(self) -> int:
        return self.grad[2][0]

    def edges(self) -> list[list[float]]:
        """The kernel's (LOSS_SPANS + 1, 2) ends, unused loss spans as NaN (nothing compares with them)."""
        rows = [[lo, hi] for lo, hi, _ in self.loss]
        rows += [[math.nan, math.nan]] * (kernels.LOSS_SPANS - len(rows))
        return [*rows, [self.grad[0], self.grad[1]]]


def plan(sample_losses: np.ndarray, sample_grads: np.ndarray, n: int) -> SlotSpans:
    """Spans for a slot of ``n`` samples from its losses and gradient magnitudes on a strided sample."""
    top_rank = n - diagnostics.top_count(n)
    loss = selection.brackets(np.sort(sample_losses), n, diagnostics.quantile_ranks(n))
    (grad,) = selection.brackets(np.sort(sample_grads), n, [top_rank])
    return SlotSpans(n, loss, grad)


def _resolve(span: Span, counts: list[int], inner: np.ndarray) -> dict[int, float] | None:
    """The value at each of the span's ranks from the pass's counts (below it, at each end) and
    the entries inside it (all of them where no end was counted, else strictly inside)."""
    lo, hi, ks = span
    below, at_lo, at_hi = counts
    if lo == hi:  # both ends are the same tied value: its entries were counted once, as at_lo
        at_hi = 0
    want = sorted({k - below - at_lo for k in ks if 0 <= k - below - at_lo < inner.size})
    if want:
        inner.partition(want)
    found: dict[int, float] = {}
    for k in ks:
        j = k - below
        if j < 0:
            return None
        if j < at_lo:
            found[k] = lo
        elif j - at_lo < inner.size:
            found[k] = float(inner[j - at_lo])
        elif j - at_lo - inner.size < at_hi:
            found[k] = hi
        else:
            return None
    return found


def stats(
    spans: SlotSpans,
    counts: np.ndarray,
    above_sum: float,
    codes: np.ndarray,
    losses: np.ndarray,
    grads: np.ndarray,
    *,
    grad_sum: float,
    grad_max: float,
    zero_grads: int,
    loss_max: float,
) -> dict[str, Any] | None:
    """``diagnostics.sample_stats``' fields of one slot, or None where a span missed its rank.

    ``counts``: the kernel's ``SPAN_COUNTS`` of the slot; ``codes``, ``losses``,
    ``grads``: the slot's codes, losses and gradient magnitudes at the marked elements (the
    codes say which span each lies in, as the pass saw it); the rest are the pass's reductions.
    """
    n = spans.n
    found: dict[int, float] = {}
    span_of = codes & 3
    for b, span in enumerate(spans.loss):
        got = _resolve(span, [int(counts[b]), 0, 0], losses[span_of == b + 1])
        if got is None:
            return None
        found.update(got)
    g_counts = [int(c) for c in counts[kernels.LOSS_SPANS :]]
    inside = grads[(codes & 4) != 0]
    got = _resolve(spans.grad, g_counts[:3], inside)
    if got is None:
        return None
    threshold = got[spans.top_rank]
    lo, hi, _ = spans.grad
    higher = inside[inside > threshold]
    count = higher.size + g_counts[3]
    summed = float(higher.sum(dtype=np.float64)) + above_sum
    if hi > threshold and lo != hi:  # the entries tied at the high end lie above the threshold too
        count += g_counts[2]
        summed += g_counts[2] * hi
    top = summed + (n - spans.top_rank - count) * threshold
    return diagnostics.finite_stats(
        n, [found[k] for k in diagnostics.quantile_ranks(n)], loss_max=loss_max,
        grad_sum=grad_sum, grad_max=grad_max, zero_grads=zero_grads,
        top_share=top / grad_sum if grad_sum > 0 else None,
    )


def edges(plans: list[SlotSpans], like: torch.Tensor) -> torch.Tensor:
    """The kernel's ``E`` for these slots, in the inputs' dtype (an infinite end stays infinite)."""
    return torch.tensor([p.edges() for p in plans], dtype=like.dtype, device=like.device)
