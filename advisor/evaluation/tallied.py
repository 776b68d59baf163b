"""Order statistics of per-sample rows from a compiled count around sample-drawn spans.

Rows that are written (a multiclass block's: a row holds one number per sample, a C-th of the
logits) or streamed a chunk at a time (``streamed``: binary blocks, weighted regression) give
each candidate's loss quantiles and top-1% gradient share. numpy's selection costs a few
passes per bracket per row. Here a strided sample of each row draws its spans
(``bracketed.plan``), ``kernels.span_tally_kernel`` counts where every entry of every row
falls around them in one vectorised pass, and only the entries it marks inside a span are
kept and sorted out (``bracketed.stats``): the values are the same exact order statistics.

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

from advisor.evaluation import bracketed, dispatch, kernels, selection

#: Entries of each row's strided sample that draw its spans (whole rows; a stream brings its own).
SAMPLE = 1 << 13
#: Columns of the kernel's reductions combined across chunks by addition (the others by maximum):
#: ``SUMMARY_FIELDS`` and the summed losses.
_ADDED = np.array([field in ("grad_sum", "zero_grads") for field in kernels.SUMMARY_FIELDS] + [True])


def usable(rows: torch.Tensor, compiled: bool, n: int | None = None) -> bool:
    """Whether rows like ``rows``, ``n`` entries each (default: its last dimension), take this path."""
    return (
        compiled
        and "span_tally" not in dispatch.broken_kernels()  # its eager fallback is slower than numpy
        and rows.device.type == "cpu"
        and rows.dtype in (torch.float32, torch.float64)
        and (rows.shape[-1] if n is None else n) >= selection.BRACKET_MIN
    )


class Counter:
    """The counts of K rows of ``n`` entries, fed a chunk of columns at a time.

    ``sample_losses``, ``sample_grads``: (K, m) the rows' values on a strided sample of their
    entries, from which each row's spans are drawn.
    """

    def __init__(self, sample_losses: np.ndarray, sample_grads: np.ndarray, n: int, like: torch.Tensor) -> None:
        k = sample_losses.shape[0]
        self.n = n
        self.plans = [bracketed.plan(sample_losses[j], sample_grads[j], n) for j in range(k)]
        self.edges = bracketed.edges(self.plans, like).reshape(-1)  # flat: the kernel's docstring says why
        self.counts = np.zeros((k, kernels.SPAN_COUNTS), dtype=np.int64)
        self.above = np.zeros(k, dtype=np.float64)
        self.reductions: np.ndarray | None = None
        self.kept: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(k)]

    def feed(self, losses: torch.Tensor, grads: torch.Tensor) -> None:
        """One chunk's (K, c) rows."""
        (counts, above, codes, reductions), _ = dispatch.run("span_tally", (losses, grads, self.edges), {}, compiled=True)
        self.counts += counts.numpy()
        self.above += above.numpy()
        part = reductions.numpy()
        self.reductions = part if self.reductions is None else np.where(_ADDED, self.reductions + part, np.maximum(self.reductions, part))
        c, L, G = codes.numpy(), losses.numpy(), grads.numpy()
        for j, kept in enumerate(self.kept):
            at = np.flatnonzero(c[j] != 0)  # a bool mask: several times faster than on uint8
            kept.append((c[j][at], L[j][at], G[j][at]))

    @property
    def finite(self) -> bool:
        return self.reductions is None or bool(np.isfinite(self.reductions).all())

    def close(self) -> None:
        """Nothing to release (``streamed.Stream`` has threads to stop): the two are fed alike."""

    def stats(self) -> list[dict[str, Any] | None]:
        """``diagnostics.sample_stats``' fields of each row, None where the numpy way must answer."""
        out: list[dict[str, Any] | None] = []
        for j, kept in enumerate(self.kept):
            grad_sum, grad_max, zero_grads, loss_max, loss_sum = self.reductions[j].tolist()
            if not all(math.isfinite(v) for v in (grad_sum, grad_max, loss_max, loss_sum)):
                out.append(None)
                continue
            codes, L, G = (np.concatenate(parts) for parts in zip(*kept, strict=True))
            out.append(
                bracketed.stats(
                    self.plans[j], self.counts[j], float(self.above[j]), codes, L, G,
                    grad_sum=grad_sum, grad_max=grad_max, zero_grads=int(zero_grads), loss_max=loss_max,
                )
            )
        return out


def stats(losses: torch.Tensor, grads: torch.Tensor, sample: int = SAMPLE) -> list[dict[str, Any] | None]:
    """``Counter.stats`` of whole (K, n) rows of per-sample losses and gradient magnitudes."""
    n = losses.shape[1]
    step = max(1, n // sample)
    counter = Counter(losses[:, ::step].numpy(), grads[:, ::step].numpy(), n, losses)
    counter.feed(losses, grads)
    return counter.stats()
