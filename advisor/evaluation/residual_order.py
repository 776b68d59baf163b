"""One selection on |x - y| for every regression candidate of a group whose diagnostics can share it.

The losses and gradient magnitudes of most regression losses rise with the absolute residual
(``kernels.rises_with_abs_residual``), so their quantiles and top-1% gradient share sit at the
residual's order statistics: one selection serves K candidates. Those candidates then need no
per-sample rows at all (``summarise``): a pass of reductions and the few elements at the
order's positions give their diagnostics. Candidates that still write rows (reduction 'none',
or a reduction that overflowed) read the same order from them (``diagnostics.ordered_sample_stats``).

Only unweighted groups on the CPU: a sample weight scales each loss by its own sample's weight,
which breaks the common order, and on other devices the selections run where the data live.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import torch

from advisor.evaluation import chunking, diagnostics, dispatch, kernels, selection
from advisor.evaluation.plans import Group, Member


class _AbsResidual(selection.Key):
    """|x - y|, computed a slice at a time: the selection's pass never needs all of it at once."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self._x, self._y = x.reshape(-1).numpy(), y.reshape(-1).numpy()
        self.size = self._x.size

    def part(self, start: int, stop: int) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported as not finite
            out = np.subtract(self._x[start:stop], self._y[start:stop])
        return np.abs(out, out=out)

    def take(self, idx: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return np.abs(self._x[idx] - self._y[idx])

    def whole(self) -> np.ndarray:
        return self.part(0, self.size)


class ResidualOrder:
    """The group's shared order, computed at most once, on whichever thread asks first."""

    def __init__(self, group: Group, sample_weight: torch.Tensor | None) -> None:
        self._group = group
        self._usable = (
            group.kernel == "regression"
            and sample_weight is None
            and group.x.device.type == "cpu"
            and group.x.shape == group.y.shape
        )
        self._order: diagnostics.SharedOrder | None = None
        self._done = False
        self._lock = threading.Lock()

    def shares(self, block: list[Member]) -> list[bool]:
        """Which of ``block`` read their order statistics from the shared order."""
        return [self._usable and kernels.rises_with_abs_residual(m.kind, m.p) for m in block]

    def get(self) -> diagnostics.SharedOrder | None:
        """The order, or None when some residual is not finite (each candidate then selects alone)."""
        with self._lock:
            if not self._done:
                key = _AbsResidual(self._group.x, self._group.y)
                self._order = diagnostics.shared_order(key) if key.size else None
                self._done = True
            return self._order


#: Columns of the summary combined across chunks by addition (the others by maximum).
_ADDED = torch.tensor([field in ("grad_sum", "zero_grads") for field in kernels.SUMMARY_FIELDS])


def _reductions(
    group: Group, P: torch.Tensor, kinds: tuple[str, ...], compiled: bool
) -> tuple[torch.Tensor, torch.Tensor, str] | None:
    """Summed losses (K,) and ``kernels.SUMMARY_FIELDS`` (K, 4) over all rows, chunked; None if the kernel failed."""
    x, y = group.x, group.y
    static = {"kinds": kinds}
    row_args = ("regression_summary", len(kinds), group.row_elements, 1, 0, x.element_size())
    per_row = chunking.row_bytes(*row_args, diag=True, compiled=compiled)
    sums = torch.zeros(len(kinds), dtype=torch.float64, device=x.device)
    summary: torch.Tensor | None = None
    path = "fused-eager"
    try:
        for r0, r1 in chunking.chunk_rows(group.n_rows, per_row):
            (part_sums, part), path = dispatch.run("regression_summary", (x[r0:r1], y[r0:r1], P), static, compiled=compiled)
            sums += part_sums
            summary = part if summary is None else torch.where(_ADDED.to(part.device), summary + part, torch.maximum(summary, part))
    except (RuntimeError, ValueError, IndexError, TypeError):
        return None
    return sums, summary, path


def summarise(
    group: Group, P: torch.Tensor, kinds: tuple[str, ...], order: ResidualOrder, *, compiled: bool
) -> list[tuple[float, dict[str, Any], str] | None]:
    """(summed losses, ``diagnostics`` fields, path) of each slot that rises with |x - y|, without per-sample rows.

    ``P`` and ``kinds`` are the regression kernel's arguments for those slots.

    One pass of ``kernels.regression_summary_kernel`` gives the sums and reductions, then the
    ordinary kernel runs on the few elements at the shared order's positions (the
    quantiles', the top-share threshold's and the ~1% above it). None for a slot whose
    reductions are not finite, and for all of them when the order or the kernel is unavailable:
    the caller then runs those the ordinary way, which counts what is not finite.

    The selection runs before the reductions, not beside them: both use every core (the
    selection's passes through ``selection``'s threads, the kernel through torch's), and on
    two cores running them at once made the pair slower than one after the other.
    """
    at = order.get()
    reduced = _reductions(group, P, kinds, compiled)
    if at is None or reduced is None:
        return [None] * len(kinds)
    sums, summary, path = reduced
    x, y = group.x, group.y
    try:
        idx = torch.from_numpy(at.positions()).to(x.device)
        picked = (x.reshape(-1)[idx].reshape(-1, 1), y.reshape(-1)[idx].reshape(-1, 1))
        (_, _, losses_at, grads_at, _), _ = dispatch.run("regression", (*picked, P), {"kinds": kinds, "diag": True}, compiled=compiled)
    except (RuntimeError, ValueError, IndexError, TypeError):
        return [None] * len(kinds)
    n = group.n_samples
    out: list[tuple[float, dict[str, Any], str] | None] = []
    for j, (total, (grad_sum, grad_max, zero_grads, loss_max)) in enumerate(zip(sums.tolist(), summary.tolist(), strict=True)):
        if not all(math.isfinite(v) for v in (total, grad_sum, grad_max, loss_max)):
            out.append(None)
            continue
        stats = diagnostics.stats_at_order(
            at, losses_at[j].numpy(), grads_at[j].numpy(), n=n,
            grad_sum=grad_sum, grad_max=grad_max, zero_grads=int(zero_grads), loss_max=loss_max,
        )
        out.append((total, stats, path))
    return out
