"""Per-candidate diagnostics from per-sample losses and gradient magnitudes.

Quantiles use ``kthvalue`` (linear-time selection) instead of a sort, and the top-1% share
uses one more selection for the threshold, so diagnostics stay O(N) per candidate.
"""

from __future__ import annotations

import math

import torch

from advisor.schema.evaluation import Quantiles

QUANTILES = (0.5, 0.9, 0.99)


def _kth(v: torch.Tensor, k: int) -> float:
    """k-th smallest (1-based); ``kthvalue`` is not implemented for every dtype/device, so sort as a fallback."""
    try:
        return float(torch.kthvalue(v, k).values)
    except RuntimeError:
        return float(torch.sort(v).values[k - 1])


def lower_quantile(v: torch.Tensor, q: float) -> float:
    """numpy's method='lower': the order statistic at floor(q · (n - 1))."""
    n = v.numel()
    return _kth(v, math.floor(q * (n - 1)) + 1)


def loss_quantiles(losses: torch.Tensor) -> tuple[Quantiles | None, int]:
    """Quantiles of the finite per-sample losses, and the count of non-finite ones."""
    finite = torch.isfinite(losses)
    n_bad = int((~finite).sum())
    v = losses if n_bad == 0 else losses[finite]
    if v.numel() == 0:
        return None, n_bad
    p50, p90, p99 = (lower_quantile(v, q) for q in QUANTILES)
    return Quantiles(p50=p50, p90=p90, p99=p99, max=float(v.max())), n_bad


def top_share(g: torch.Tensor, fraction: float = 0.01) -> float | None:
    """Share of sum(g) carried by the ceil(fraction · n) largest entries (ties at the threshold counted once each)."""
    n = g.numel()
    total = float(g.sum(dtype=torch.float64))
    if n == 0 or total <= 0:
        return None
    m = max(1, math.ceil(fraction * n))
    threshold = _kth(g, n - m + 1)
    above = g > threshold
    count = int(above.sum())
    top = float(g[above].sum(dtype=torch.float64)) + (m - count) * threshold
    return top / total


def gradient_stats(grads: torch.Tensor) -> dict[str, float | int | None]:
    finite = torch.isfinite(grads)
    n_bad = int((~finite).sum())
    g = grads if n_bad == 0 else grads[finite]
    if g.numel() == 0:
        return {"nonfinite_grads": n_bad}
    return {
        "grad_mean": float(g.mean(dtype=torch.float64)),
        "grad_max": float(g.max()),
        "top1pct_grad_share": top_share(g),
        "zero_grad_fraction": float((g == 0).sum()) / g.numel(),
        "nonfinite_grads": n_bad,
    }


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
