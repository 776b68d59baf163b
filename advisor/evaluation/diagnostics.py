"""Per-candidate diagnostics from per-sample losses and gradient magnitudes.

Order statistics are exact (numpy's 'lower' method: an observed value at rank
floor(q · (n - 1))). On the CPU they come from numpy's in-place ``partition``, a vectorised
selection several times faster than ``torch.kthvalue`` there; the three loss quantiles are
nested partitions, each of the part above the previous one, and the top-1% gradient share is
the sum of the part above one partition point. On other devices ``torch.kthvalue`` selects
where the data live. Either way each statistic is O(N) per candidate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from advisor.schema.evaluation import Quantiles

QUANTILES = (0.5, 0.9, 0.99)


def _rank(q: float, n: int) -> int:
    """0-based position of the 'lower' q-quantile among n sorted values."""
    return math.floor(q * (n - 1))


def _host(v: torch.Tensor) -> np.ndarray | None:
    """A private float numpy copy of a CPU tensor (selection reorders it); None elsewhere."""
    if v.device.type != "cpu":
        return None
    t = v.detach().reshape(-1)
    if t.dtype not in (torch.float32, torch.float64):
        t = t.float()
    return t.numpy().copy()


def _select(a: np.ndarray, positions: list[int]) -> list[float]:
    """Values at ascending 0-based sorted ``positions`` of ``a``, partitioning ``a`` in place."""
    out = []
    start = 0
    for k in positions:
        if k >= start:
            a[start:].partition(k - start)
            start = k + 1
        out.append(float(a[k]))
    return out


def _kth(v: torch.Tensor, k: int) -> float:
    """k-th smallest (1-based); ``kthvalue`` is not implemented for every dtype/device, so sort as a fallback."""
    try:
        return float(torch.kthvalue(v, k).values)
    except RuntimeError:
        return float(torch.sort(v).values[k - 1])


def lower_quantile(v: torch.Tensor, q: float) -> float:
    """numpy's method='lower': the order statistic at floor(q · (n - 1))."""
    n = v.numel()
    a = _host(v)
    if a is not None:
        return _select(a, [_rank(q, n)])[0]
    return _kth(v.reshape(-1), _rank(q, n) + 1)


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
        p50, p90, p99 = (_kth(v, _rank(q, v.numel()) + 1) for q in QUANTILES)
        return Quantiles(p50=p50, p90=p90, p99=p99, max=float(v.max())), n_bad
    a, n_bad = (a, 0) if finite else _finite_host(a)
    if a.size == 0:
        return None, n_bad
    positions = [_rank(q, a.size) for q in QUANTILES]
    p50, p90, p99 = _select(a, positions)
    return Quantiles(p50=p50, p90=p90, p99=p99, max=float(a[positions[-1] :].max())), n_bad


def _top_share_host(a: np.ndarray, total: float, fraction: float) -> float | None:
    n = a.size
    if n == 0 or total <= 0:
        return None
    m = max(1, math.ceil(fraction * n))
    if m < n:
        a.partition(n - m)
    return float(a[n - m :].sum(dtype=np.float64)) / total


def top_share(g: torch.Tensor, fraction: float = 0.01) -> float | None:
    """Share of sum(g) carried by the ceil(fraction · n) largest entries (ties at the threshold counted once each)."""
    a = _host(g)
    if a is not None:
        return _top_share_host(a, float(a.sum(dtype=np.float64)), fraction)
    n = g.numel()
    total = float(g.sum(dtype=torch.float64))
    if n == 0 or total <= 0:
        return None
    m = max(1, math.ceil(fraction * n))
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
            rows = rows.reshape(-1, rows.shape[-1])
            lp = rows if link == "log_probability" else rows - rows.logsumexp(-1, keepdim=True)
            hit = lp.max(-1).values >= math.log1p(-eps)
    return float(hit.sum()) / hit.numel()
