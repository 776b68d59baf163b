"""One selection on |x - y| for every regression candidate of a group whose diagnostics can share it.

The losses and gradient magnitudes of most regression losses rise with the absolute residual
(``kernels.rises_with_abs_residual``), so their quantiles and top-1% gradient share sit at the
residual's order statistics: one selection serves K candidates, and the candidate blocks of one
group (``chunking.candidate_blocks``) reuse it.

Only unweighted groups on the CPU: a sample weight scales each loss by its own sample's weight,
which breaks the common order, and on other devices the selections run where the data live.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from advisor.evaluation import diagnostics, kernels
from advisor.evaluation.plans import Group, Member


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
                key = (self._group.x - self._group.y).abs().reshape(-1).numpy()
                if key.size and np.isfinite(key.max()):
                    self._order = diagnostics.shared_order(key)
                self._done = True
            return self._order
