"""Per-candidate diagnostics from per-sample losses and gradient magnitudes.

Order statistics are exact (numpy's 'lower' method: an observed value at rank
floor(q · (n - 1))). On the CPU they come from ``selection.select`` (numpy partitions of
sample-bracketed slices, several times faster than ``torch.kthvalue`` there, and exact on
tied data); the top-1% gradient share is the sum of the entries above one order statistic.
On other devices ``torch.kthvalue`` selects where the data live. Either way each statistic is
O(N) per candidate.

Losses that are nondecreasing functions of one shared key, with gradient magnitudes that are
too (the regression losses of |x - y| but the pinball and the redescending ones), have their
order statistics at the key's: ``shared_order`` selects once on the key and
``ordered_sample_stats`` reads each such candidate at those positions, so K candidates cost one
selection and K gathers instead of K selections. Ties in the key are ties in every candidate,
so the values are the same order statistics, to the rounding of the losses themselves: a
candidate whose values at the key's positions come out of order is selected on its own
(``follows_order``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from advisor.evaluation import selection
from advisor.schema.evaluation import Quantiles

QUANTILES = (0.5, 0.9, 0.99)


def rank(q: float, n: int) -> int:
    """0-based position of the 'lower' q-quantile among n sorted values."""
    return math.floor(q * (n - 1))


def quantile_ranks(n: int) -> list[int]:
    """The positions of ``QUANTILES`` among n sorted values."""
    return [rank(q, n) for q in QUANTILES]


def top_count(n: int, fraction: float = 0.01) -> int:
    """How many of n entries the top share holds: ceil(fraction · n), at least one."""
    return max(1, math.ceil(fraction * n))


def _host(v: torch.Tensor) -> np.ndarray | None:
    """A flat float numpy view of a CPU tensor (``selection`` never reorders it); None elsewhere."""
    if v.device.type != "cpu":
        return None
    t = v.detach().reshape(-1)
    if t.dtype not in (torch.float32, torch.float64):
        t = t.float()
    return t.numpy()


def _kth(v: torch.Tensor, k: int) -> float:
    """k-th smallest (1-based); ``kthvalue`` is not implemented for every dtype/device, so sort as a fallback."""
    try:
        return float(torch.kthvalue(v, k).values)
    except RuntimeError:
        return float(torch.sort(v).values[k - 1])


def lower_quantile(v: torch.Tensor, q: float) -> float:
    """numpy's method='lower': the order statistic at floor(q · (n - 1))."""
    return lower_quantiles(v, [q])[0]


def lower_quantiles(v: torch.Tensor, qs: list[float]) -> list[float]:
    """``lower_quantile`` at each of ``qs`` from one selection (one sample, one pass)."""
    n = v.numel()
    a = _host(v)
    ranks = [rank(q, n) for q in qs]
    if a is None:
        return [_kth(v.reshape(-1), k + 1) for k in ranks]
    ordered = sorted(set(ranks))
    at = dict(zip(ordered, selection.select(a, ordered), strict=True))
    return [at[k] for k in ranks]


def _finite(v: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The finite entries (the tensor itself when all are) and the count of the others."""
    finite = torch.isfinite(v)
    n_bad = v.numel() - int(finite.sum())
    return (v if n_bad == 0 else v[finite]), n_bad


def _finite_host(a: np.ndarray) -> tuple[np.ndarray, int]:
    """numpy's ``_finite``: min and max reveal any NaN or infinity, so the common case is two reductions."""
    if a.size and np.isfinite(a.min()) and np.isfinite(a.max()):
        return a, 0
    keep = np.isfinite(a)
    return a[keep], int(a.size - np.count_nonzero(keep))


def loss_quantiles(losses: torch.Tensor, finite: bool = False) -> tuple[Quantiles | None, int]:
    """Quantiles of the finite per-sample losses, and the count of non-finite ones.

    ``finite``: the caller knows every loss is finite (their float64 sum is), so no pass checks.
    """
    a = _host(losses)
    if a is None:
        v, n_bad = _finite(losses.reshape(-1))
        if v.numel() == 0:
            return None, n_bad
        p50, p90, p99 = (_kth(v, k + 1) for k in quantile_ranks(v.numel()))
        return Quantiles(p50=p50, p90=p90, p99=p99, max=float(v.max())), n_bad
    a, n_bad = (a, 0) if finite else _finite_host(a)
    if a.size == 0:
        return None, n_bad
    loss_max = float(a.max())
    p50, p90, p99 = selection.select(a, quantile_ranks(a.size))
    return Quantiles(p50=p50, p90=p90, p99=p99, max=loss_max), n_bad


def _top_share_host(a: np.ndarray, total: float, fraction: float) -> float | None:
    n = a.size
    if n == 0 or total <= 0:
        return None
    m = top_count(n, fraction)
    if m == n:
        return float(a.sum(dtype=np.float64)) / total
    t = selection.tally(a, [n - m], top_rank=n - m)
    if t is not None:  # one pass: the threshold's bracket and the sum above it together
        return t.top_share(total)
    threshold = selection.select_whole(a, [n - m])[0]  # the tally's pass, if any, already missed
    above = a[a > threshold]  # the top m are these and copies of the threshold
    return (float(above.sum(dtype=np.float64)) + (m - above.size) * threshold) / total


def top_share(g: torch.Tensor, fraction: float = 0.01) -> float | None:
    """Share of sum(g) carried by the ceil(fraction · n) largest entries (ties at the threshold counted once each)."""
    a = _host(g)
    if a is not None:
        return _top_share_host(a, float(a.sum(dtype=np.float64)), fraction)
    n = g.numel()
    total = float(g.sum(dtype=torch.float64))
    if n == 0 or total <= 0:
        return None
    m = top_count(n, fraction)
    threshold = _kth(g.reshape(-1), n - m + 1)
    above = g > threshold
    count = int(above.sum())
    top = float(g[above].sum(dtype=torch.float64)) + (m - count) * threshold
    return top / total


def gradient_stats(grads: torch.Tensor) -> dict[str, float | int | None]:
    a = _host(grads)
    if a is None:
        g, n_bad = _finite(grads.reshape(-1))
        if g.numel() == 0:
            return {"nonfinite_grads": n_bad}
        return {
            "grad_mean": float(g.mean(dtype=torch.float64)),
            "grad_max": float(g.max()),
            "top1pct_grad_share": top_share(g),
            "zero_grad_fraction": float((g == 0).sum()) / g.numel(),
            "nonfinite_grads": n_bad,
        }
    total = float(a.sum(dtype=np.float64))
    if not math.isfinite(total):  # a float64 sum of float32 values overflows never: something is NaN or inf
        a, n_bad = _finite_host(a)
        if a.size == 0:
            return {"nonfinite_grads": n_bad}
        total = float(a.sum(dtype=np.float64))
    else:
        n_bad = 0
    return {
        "grad_mean": total / a.size,
        "grad_max": float(a.max()),
        "zero_grad_fraction": float(np.count_nonzero(a == 0)) / a.size,
        "top1pct_grad_share": _top_share_host(a, total, 0.01),
        "nonfinite_grads": n_bad,
    }


@dataclass(frozen=True)
class SharedOrder:
    """Where a key's order statistics sit, by index into the key itself."""

    quantile_at: tuple[int, ...]  # an index of each of QUANTILES' 'lower' order statistics
    above: np.ndarray  # indices of the entries strictly above the top-share threshold
    threshold_at: int  # an index of the threshold entry itself
    threshold_repeats: int  # how many entries equal to the threshold complete the top share

    def positions(self) -> np.ndarray:
        """The indices a candidate is read at: the quantiles', the threshold's, then those above it."""
        return np.concatenate([np.asarray((*self.quantile_at, self.threshold_at), dtype=np.int64), self.above])


def shared_order(key: selection.Key, fraction: float = 0.01) -> SharedOrder | None:
    """One selection on ``key`` (not empty) for every candidate monotone in it; None if it is not finite."""
    n = key.size
    positions = quantile_ranks(n)
    m = top_count(n, fraction)
    ranks = sorted({*positions, n - m})
    got = selection.select_indexed(key, ranks, above_rank=n - m)
    if got is None:
        return None
    _, where, above = got
    at = dict(zip(ranks, where, strict=True))
    return SharedOrder(tuple(at[p] for p in positions), above, at[n - m], m - above.size)


def stats_at_order(
    order: SharedOrder,
    losses_at: np.ndarray,
    grads_at: np.ndarray,
    *,
    n: int,
    grad_sum: float,
    grad_max: float,
    zero_grads: int,
    loss_max: float,
) -> dict[str, Any] | None:
    """``sample_stats`` of a candidate whose losses and gradient magnitudes rise with ``order``'s key.

    ``losses_at``/``grads_at``: its values at ``order.positions()``; the rest are its
    reductions over all n finite samples. None where those values are not ordered as the key
    is (``follows_order``): the candidate then selects on its own.
    """
    if not (follows_order(losses_at) and follows_order(grads_at)):
        return None
    lead = len(QUANTILES) + 1
    top = float(grads_at[lead:].sum(dtype=np.float64)) + order.threshold_repeats * float(grads_at[lead - 1])
    return finite_stats(
        n, [float(v) for v in losses_at[: len(QUANTILES)]], loss_max=loss_max, grad_sum=grad_sum,
        grad_max=grad_max, zero_grads=zero_grads, top_share=top / grad_sum if grad_sum > 0 else None,
    )


def follows_order(values_at: np.ndarray) -> bool:
    """Whether a candidate's values at a ``SharedOrder``'s positions rise as its key does there.

    Rising with |x - y| holds of a loss's formula, not always of its float evaluation: log-cosh
    and Barron's loss round to values a few ulps out of order (data whose residuals are
    almost all equal have shown a p50 above the p90, and the gradient of Barron's loss at
    |x - y| ~ 1e15, float32, wanders by 1e-5 around its limit). Values that do not rise from
    the quantiles' positions to the threshold's, and from there to every entry above it, send
    the candidate to a selection of its own, which is exact. Values that pass may still be a
    neighbour's, off by no more than that rounding, but the report is in order: no p50 above
    its p90, no entry above the threshold that the top share would have left out.
    """
    lead = len(QUANTILES) + 1
    head, rest = values_at[:lead], values_at[lead:]
    return bool(np.all(head[1:] >= head[:-1])) and (rest.size == 0 or bool(rest.min() >= head[-1]))


def finite_stats(
    n: int, quantiles: list[float], *, loss_max: float, grad_sum: float, grad_max: float, zero_grads: int,
    top_share: float | None,
) -> dict[str, Any]:
    """``sample_stats``' fields of n samples known to be finite, from their order statistics and reductions."""
    p50, p90, p99 = quantiles
    return {
        "n_samples": n,
        "loss_quantiles": Quantiles(p50=p50, p90=p90, p99=p99, max=loss_max),
        "nonfinite_losses": 0,
        "grad_mean": grad_sum / n,
        "grad_max": grad_max,
        "zero_grad_fraction": zero_grads / n,
        "top1pct_grad_share": top_share,
        "nonfinite_grads": 0,
    }


def ordered_sample_stats(losses: torch.Tensor, grads: torch.Tensor, order: SharedOrder) -> dict[str, Any]:
    """``stats_at_order`` from full per-sample rows; anything not finite, or not in the key's order, falls back to ``sample_stats``."""
    a, g = _host(losses), _host(grads)
    loss_max = float(a.max())
    total = float(g.sum(dtype=np.float64))
    if not (math.isfinite(loss_max) and math.isfinite(total)):
        return sample_stats(losses, grads)
    at = order.positions()
    got = stats_at_order(
        order, a[at], g[at], n=a.size, grad_sum=total, grad_max=float(g.max()),
        zero_grads=int(np.count_nonzero(g == 0)), loss_max=loss_max,
    )
    return sample_stats(losses, grads) if got is None else got


def sample_stats(losses: torch.Tensor | None, grads: torch.Tensor | None, losses_finite: bool = False) -> dict[str, Any]:
    """The ``Diagnostics`` fields that come from per-sample losses and gradient magnitudes."""
    fields: dict[str, Any] = {"n_samples": 0}
    if losses is not None:
        q, bad = loss_quantiles(losses, losses_finite)
        fields.update(n_samples=losses.numel(), loss_quantiles=q, nonfinite_losses=bad)
    if grads is not None:
        fields.update(gradient_stats(grads))
    return fields


def saturation(x: torch.Tensor, link: str | None) -> float | None:
    """Share of samples whose implied probability is within machine epsilon of 0 or 1.

    ``link``: 'sigmoid' (binary logits, per element), 'softmax' (rows of logits: the top class
    takes all the mass), 'probability' (already probabilities), 'log_probability' (rows of
    log-probabilities). None where the predictions imply no probability (regression, hinge).
    """
    if link is None or not x.is_floating_point() or x.numel() == 0:
        return None
    eps = torch.finfo(x.dtype).eps
    with torch.no_grad():
        if link == "sigmoid":
            p = torch.sigmoid(x)
            hit = (p <= eps) | (p >= 1.0 - eps)
        elif link == "probability":
            hit = (x <= eps) | (x >= 1.0 - eps)
        else:
            rows = x.movedim(1, -1) if x.dim() > 2 else x
            rows = rows.reshape(-1, rows.shape[-1] if rows.dim() else 1)  # a scalar: one row of one class
            lp = rows if link == "log_probability" else rows - rows.logsumexp(-1, keepdim=True)
            hit = lp.max(-1).values >= math.log1p(-eps)
    return float(hit.sum()) / hit.numel()
