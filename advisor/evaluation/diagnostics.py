"""The diagnostics state: exact reductions merged across chunks, order statistics from one sample.

The split is torchmetrics': ``column_stats`` is one chunk's update of one candidate (traced
inside the family kernels, and run on the catalog path's rows), ``merge`` combines two states
under the rules ``FIELDS`` declares, and ``finish`` computes the ``Diagnostics`` fields once.
Every field but the quantiles is exact whatever the data's size: sums, maxima and counts.

Order statistics (the loss quantiles, and the threshold t of the top-1% gradient share) come
from one seeded uniform sample of rows (``draw``), drawn with replacement once per request
and shared by every candidate. By the Dvoretzky-Kiefer-Wolfowitz inequality, with
probability 1 - ``CONFIDENCE_DELTA`` the sample's empirical distribution is within

    ε = sqrt(ln(2 / δ) / (2 m))

of the data's at every point at once, so each reported quantile's rank in the full data is
within ±ε of its nominal level: ±0.53 percentage points at m = 65,536 and δ = 0.05
(``rank_error``). Where the data have no more rows than the sample would, the sample is
every row and the statistics are exact; ``quantile_sample=None`` asks for that at any size
(every per-sample row is then written: memory linear in N, and slower).

The top-1% share uses t, the sample's smallest entry of its own top 1%: the state sums and
counts the gradient magnitudes strictly above t over every sample, and with M = ceil(0.01 N)
the share is (sum above t + (M - count above t) · t) / total. When t is the exact order
statistic this is the exact share (the top M are those above t and copies of t). When t is
sampled, its rank is within ε N of M's, and the share differs from the exact one by at most
ε N · (g_hi - g_lo) / total, where g_hi and g_lo are the magnitudes at ranks M ∓ ε N from the
top: each of the at most ε N entries between t and the exact threshold is counted at t
instead of at its own value.

Order statistics of the sample are taken on the host with numpy whatever the device: the
sample is small (K · m values), and one code path serves every device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from advisor.evaluation.plans import class_last
from advisor.schema.evaluation import DEFAULT_QUANTILE_SAMPLE, Quantiles
from advisor.vocabulary import Family

QUANTILES = (0.5, 0.9, 0.99)
TOP_FRACTION = 0.01
#: Default rows in the quantile sample, and the seed it is drawn with (a request's results
#: depend on its inputs alone).
QUANTILE_SAMPLE = DEFAULT_QUANTILE_SAMPLE
SAMPLE_SEED = 0
CONFIDENCE_DELTA = 0.05

#: The state of one candidate, in order, with each field's merge rule. Maxima are over finite
#: entries (-inf where none is), sums and counts over finite entries, and the counts of the
#: others kept apart.
FIELDS = (
    ("loss_max", "max"),
    ("grad_sum", "sum"),
    ("grad_max", "max"),
    ("zero_grads", "sum"),
    ("nonfinite_losses", "sum"),
    ("nonfinite_grads", "sum"),
    ("above_sum", "sum"),
    ("above_count", "sum"),
)
_IS_MAX = torch.tensor([rule == "max" for _, rule in FIELDS])


def rank(q: float, n: int) -> int:
    """0-based position of the 'lower' q-quantile among n sorted values (numpy's method='lower')."""
    return math.floor(q * (n - 1))


def top_count(n: int, fraction: float = TOP_FRACTION) -> int:
    """How many of n entries the top share holds: ceil(fraction · n), at least one."""
    return max(1, math.ceil(fraction * n))


def rank_error(m: int | None, delta: float = CONFIDENCE_DELTA) -> float:
    """ε of the DKW bound for a sample of m rows; 0 for an exact (every-row) sample."""
    if m is None:
        return 0.0
    return math.sqrt(math.log(2.0 / delta) / (2.0 * m))


def column_stats(loss: torch.Tensor, grad: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """One candidate's state over one chunk: (len(FIELDS),) float64.

    ``loss`` and ``grad`` are its per-sample losses and gradient magnitudes (any shape, the
    same number of entries), ``threshold`` the top share's t (a 0-d tensor, so that new
    values reuse a compiled kernel). Pure tensor code: the kernels trace it with their own.
    """
    f64 = torch.float64
    ok_l, ok_g = torch.isfinite(loss), torch.isfinite(grad)
    g = torch.where(ok_g, grad, torch.zeros_like(grad))
    above = ok_g & (grad > threshold)
    return torch.stack([
        torch.where(ok_l, loss, torch.full_like(loss, -math.inf)).amax().to(f64),
        g.sum(dtype=f64),
        torch.where(ok_g, grad, torch.full_like(grad, -math.inf)).amax().to(f64),
        _count(ok_g & (grad == 0)),
        _count(~ok_l),
        _count(~ok_g),
        torch.where(above, grad, torch.zeros_like(grad)).sum(dtype=f64),
        _count(above),
    ])


def _count(mask: torch.Tensor) -> torch.Tensor:
    """A count as float64, summed in int32: inductor vectorises that, not an int64 sum of bools
    (a chunk has fewer than 2^31 entries: ``chunking`` bounds it far below)."""
    return mask.to(torch.int32).sum(dtype=torch.int32).to(torch.float64)


def empty_state(k: int, device: torch.device) -> torch.Tensor:
    """The merge identity for K candidates: maxima at -inf, sums at 0."""
    state = torch.zeros(k, len(FIELDS), dtype=torch.float64, device=device)
    state[:, _IS_MAX.to(device)] = -math.inf
    return state


def merge(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Two (K, len(FIELDS)) states of disjoint chunks combined, as ``FIELDS`` declares."""
    return torch.where(_IS_MAX.to(a.device), torch.maximum(a, b), a + b)


def rows_stats(losses: torch.Tensor, grads: torch.Tensor | None, thresholds: torch.Tensor) -> torch.Tensor:
    """(K, len(FIELDS)) states of K >= 1 written rows; rows without gradients (None) count none."""
    g = grads if grads is not None else torch.zeros_like(losses)
    return torch.stack([column_stats(losses[j], g[j], thresholds[j]) for j in range(losses.shape[0])])


def draw(n: int, m: int | None, device: torch.device, generator: torch.Generator | None = None) -> torch.Tensor | None:
    """Indices of the quantile sample among n rows, sorted; None where it is every row.

    m rows uniformly at random with replacement (the DKW bound's independent draws), from
    ``generator`` or a fresh one with the fixed seed; every row when n <= m or m is None (exact).
    """
    if m is None or n <= m:
        return None
    g = generator if generator is not None else torch.Generator().manual_seed(SAMPLE_SEED)
    return torch.randint(n, (m,), generator=g).sort().values.to(device)


def refresh(m: int, seen: int, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(The slots of m that take a row of a batch of n after ``seen``, the rows), sorted by row:
    each takes a uniform row with probability n / (seen + n), so that the slots stay
    independent uniform draws over every row seen (``runner.Block``, a stream's raw rows)."""
    picked = torch.nonzero(torch.rand(m, generator=generator) < n / (seen + n)).reshape(-1)
    rows, order = torch.randint(n, (picked.numel(),), generator=generator).sort()
    return picked[order], rows


def sample_rows(m: int | None, row_elements: int) -> int | None:
    """Rows to draw so that the sample holds about m per-sample entries (rows of R elements)."""
    return None if m is None else max(1, math.ceil(m / max(1, row_elements)))


def _finite_host(v: torch.Tensor) -> np.ndarray:
    """The finite entries of ``v`` as a flat numpy array on the host (float32, or float64 for float64)."""
    a = v.detach().reshape(-1).to("cpu", torch.float64 if v.dtype == torch.float64 else torch.float32).numpy()
    if a.size and np.isfinite(a.min()) and np.isfinite(a.max()):  # NaN and infinities show in either
        return a
    return a[np.isfinite(a)]


def order_statistics(a: np.ndarray, ranks: list[int]) -> list[float]:
    """The values at 0-based ``ranks`` of sorted ``a``.

    One rank: a single partition (numpy's SIMD selection, 0.1 ms for 65,536 float32 on a
    2-core CPU, ties or not). Several: one sort, then the ranks read off it. Partitioning once
    per rank costs about the same on distinct values (0.63 against 0.52 to 0.66 ms for eight
    ranks of 65,536 float32) but degrades where values tie: with 60% of them zero it took
    4.2 ms against the sort's 0.28, which made the loss quantiles of data with many exact fits
    the dearest step of a diagnostics call (47 against 28 ms for eight regression losses at
    N = 1e6).
    """
    if len(set(ranks)) == 1:
        part = a.copy()
        part.partition(ranks[0])
        return [float(part[ranks[0]])] * len(ranks)
    ordered = np.sort(a)
    return [float(ordered[r]) for r in ranks]


def lower_quantiles(v: torch.Tensor, qs: list[float]) -> list[float]:
    """numpy's method='lower' quantiles of all of ``v`` (finite or not), exactly."""
    a = v.detach().reshape(-1).to("cpu", torch.float64).numpy()
    return order_statistics(a, [rank(q, a.size) for q in qs])


def thresholds(sample_grads: torch.Tensor | None, k: int, like: torch.Tensor) -> torch.Tensor:
    """(K,) top-share thresholds t: each row's smallest entry of its own top 1% of finite values."""
    if sample_grads is None:
        return torch.full((k,), math.inf, dtype=like.dtype, device=like.device)

    def one(j: int) -> float:
        a = _finite_host(sample_grads[j])
        return order_statistics(a, [a.size - top_count(a.size)])[0] if a.size else math.inf

    return torch.tensor([one(j) for j in range(k)], dtype=like.dtype).to(like.device)


def finish_all(
    states: torch.Tensor,
    sample_losses: torch.Tensor,
    sample_grads: torch.Tensor | None,
    thresholds: torch.Tensor,
    n: int,
    m: int | None,
) -> list[dict[str, Any]]:
    """``finish`` of K candidates: (K, len(FIELDS)) states, (K, m) sample rows, (K,) thresholds."""
    states_h, t_h = states.cpu(), thresholds.tolist()
    grads = [None] * len(t_h) if sample_grads is None else sample_grads
    return [finish(states_h[j], sample_losses[j], grads[j], t_h[j], n, m) for j in range(len(t_h))]


def finish(
    state: torch.Tensor,
    sample_losses: torch.Tensor,
    sample_grads: torch.Tensor | None,
    threshold: float,
    n: int,
    m: int | None,
) -> dict[str, Any]:
    """One candidate's ``Diagnostics`` fields from its merged state over n entries and its sample.

    ``m``: the rows sampled, None where the sample is every row (exact). ``threshold``: the t
    its state counted above.
    """
    s = dict(zip((name for name, _ in FIELDS), state.tolist(), strict=True))
    losses = _finite_host(sample_losses)
    quantiles = None
    if losses.size:
        p50, p90, p99 = order_statistics(losses, [rank(q, losses.size) for q in QUANTILES])
        quantiles = Quantiles(p50=p50, p90=p90, p99=p99, max=s["loss_max"])
    fields: dict[str, Any] = {
        "n_samples": n,
        "loss_quantiles": quantiles,
        "nonfinite_losses": int(s["nonfinite_losses"]),
        "quantile_method": "exact" if m is None else "sampled",
        "quantile_sample": m,
        "quantile_rank_error": rank_error(m),
    }
    if sample_grads is None:
        return fields
    finite = n - int(s["nonfinite_grads"])
    fields["nonfinite_grads"] = int(s["nonfinite_grads"])
    if finite == 0:
        return fields
    total = s["grad_sum"]
    share = None
    if total > 0 and math.isfinite(total) and math.isfinite(threshold):
        share = min(1.0, max(0.0, (s["above_sum"] + (top_count(finite) - s["above_count"]) * threshold) / total))
    fields.update(
        grad_mean=total / finite,
        grad_max=s["grad_max"],
        zero_grad_fraction=s["zero_grads"] / finite,
        top1pct_grad_share=share,
    )
    return fields


def rows_diagnostics(losses: torch.Tensor, grads: torch.Tensor | None, m: int | None) -> dict[str, Any]:
    """``finish``'s fields of one candidate whose per-sample rows are all written (the catalog path).

    The same state and the same sample as the fused kernels': the sample drawn over the rows'
    entries, the state reduced over all of them.
    """
    losses = losses.reshape(1, -1)
    grads = None if grads is None else grads.reshape(1, -1)
    idx = draw(losses.shape[1], m, losses.device)
    exact = idx is None
    s_losses = losses if exact else losses[:, idx]
    s_grads = None if grads is None else (grads if exact else grads[:, idx])
    t = thresholds(s_grads, 1, losses if losses.is_floating_point() else losses.double())
    return finish_all(rows_stats(losses, grads, t), s_losses, s_grads, t, losses.shape[1], None if exact else m)[0]


def link_of(cand: Any, x: torch.Tensor, y: torch.Tensor | None) -> str | None:
    """How a candidate's predictions map to probabilities, for the saturation diagnostic: by
    its family, whether it runs fused or through the catalog."""
    family = cand.spec.family
    if cand.name in ("HingeLoss", "MultiMarginLoss", "MultiLabelMarginLoss"):
        return None
    if family in (Family.LOG_PROBABILITIES, Family.SEQUENCES, Family.DISTRIBUTIONS):
        return "log_probability"
    if family == Family.BINARY_PROBABILITIES:
        return "probability"
    if family in (Family.MULTICLASS_LOGITS, Family.BINARY_LOGITS):
        return "sigmoid" if (y is not None and y.shape == x.shape) else "softmax"
    return None


def saturation_counts(x: torch.Tensor, link: str | None) -> tuple[int, int] | None:
    """(samples whose implied probability is within machine epsilon of 0 or 1, samples), so that
    batches add up; None where the predictions imply no probability (regression, hinge).

    ``link``: 'sigmoid' (binary logits, per element), 'softmax' (rows of logits: the top class
    takes all the mass), 'probability' (already probabilities), 'log_probability' (rows of
    log-probabilities).
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
            rows = class_last(x)
            lp = rows if link == "log_probability" else rows - rows.logsumexp(-1, keepdim=True)
            hit = lp.max(-1).values >= math.log1p(-eps)
    return int(hit.sum()), hit.numel()


def saturation(x: torch.Tensor, link: str | None) -> float | None:
    """Share of samples whose implied probability is within machine epsilon of 0 or 1 (``saturation_counts``)."""
    counts = saturation_counts(x, link)
    return None if counts is None else counts[0] / counts[1]
