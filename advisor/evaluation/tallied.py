"""Order statistics of per-sample rows already written, from one compiled counting pass over them.

A block that keeps its rows (a multiclass block: a row holds one number per sample, a C-th of
the logits) reads each candidate's loss quantiles and top-1% gradient share from them. The
numpy selection behind ``diagnostics.sample_stats`` costs a few passes per bracket per row,
each candidate on its own thread. Here a strided sample of each row draws its spans
(``bracketed.plan``), ``kernels.span_tally_kernel`` counts where every entry of every row
falls around them in one vectorised pass, and only the entries it marks inside a span are
sorted out (``bracketed.stats``): the values are the same exact order statistics.

Only where the pass runs compiled (eager, it would materialise a mask per comparison) on CPU
rows of float32 or float64 (the marked entries are partitioned with numpy), at sizes where
the selection would bracket too (``selection.BRACKET_MIN``; below that the whole-row
partitions are faster than drawing spans). A candidate whose rows are not finite, or whose
span missed its rank, gets None: the caller takes the numpy way, which counts what is not
finite and selects on the whole row.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from advisor.evaluation import bracketed, dispatch, selection

#: Entries of each row's strided sample that draw its spans.
SAMPLE = 1 << 13


def usable(rows: torch.Tensor, compiled: bool) -> bool:
    """Whether (K, n) ``rows`` take this path."""
    return (
        compiled
        and rows.device.type == "cpu"
        and rows.dtype in (torch.float32, torch.float64)
        and rows.shape[-1] >= selection.BRACKET_MIN
    )


def stats(losses: torch.Tensor, grads: torch.Tensor, sample: int = SAMPLE) -> list[dict[str, Any] | None]:
    """``diagnostics.sample_stats``' fields of each of K rows, None where the numpy way must answer.

    ``losses``, ``grads``: (K, n) per-sample losses and gradient magnitudes.
    """
    k, n = losses.shape
    L, G = losses.numpy(), grads.numpy()
    step = max(1, n // sample)
    plans = [bracketed.plan(L[j, ::step], G[j, ::step], n) for j in range(k)]
    (counts, above, codes, reductions), _ = dispatch.run(
        "span_tally", (losses, grads, bracketed.edges(plans, losses)), {}, compiled=True
    )
    counts, above, codes, reductions = counts.numpy(), above.numpy(), codes.numpy(), reductions.tolist()
    out: list[dict[str, Any] | None] = []
    for j in range(k):
        grad_sum, grad_max, zero_grads, loss_max, loss_sum = reductions[j]
        if not all(math.isfinite(v) for v in (grad_sum, grad_max, loss_max, loss_sum)):
            out.append(None)
            continue
        at = np.flatnonzero(codes[j] != 0)  # a bool mask: several times faster than on uint8
        out.append(
            bracketed.stats(
                plans[j], counts[j], float(above[j]), codes[j][at], L[j][at], G[j][at],
                grad_sum=grad_sum, grad_max=grad_max, zero_grads=int(zero_grads), loss_max=loss_max,
            )
        )
    return out
