"""One selection on |x - y| for every regression candidate of a group whose diagnostics can share it.

The losses and gradient magnitudes of most regression losses rise with the absolute residual
(``kernels.rises_with_abs_residual``), so their quantiles and top-1% gradient share sit at the
residual's order statistics: one selection serves K candidates. Those candidates then need no
per-sample rows at all: a pass of reductions and the few elements at the
order's positions give their diagnostics (``summary``). Candidates that still write rows
(reduction 'none', or a reduction that overflowed) read the same order from them
(``diagnostics.ordered_sample_stats``).

Only unweighted float32 and float64 groups on the CPU: a sample weight scales each loss by its
own sample's weight, which breaks the common order; on other devices the selections run where
the data live; numpy, which selects here, has no bfloat16.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from advisor.evaluation import diagnostics, kernels, selection
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
            and group.x.dtype in (torch.float32, torch.float64)  # numpy's; bfloat16 has no numpy dtype
            and group.x.shape == group.y.shape
        )
        self._order: diagnostics.SharedOrder | None = None
        self._done = False
        self._lock = threading.Lock()

    @property
    def usable(self) -> bool:
        """Whether the group is one whose diagnostics can go without rows (unweighted, CPU, aligned)."""
        return self._usable

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
