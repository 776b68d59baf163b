"""Diagnostics of a block of candidates from the kernel's rows a chunk at a time, never all of them.

The per-sample statistics of ``diagnostics.sample_stats`` are exact order statistics and a few
reductions. With ``selection.Tally`` the order statistics take one pass over the rows in any
pieces, so the block's kernel runs over chunks whose outputs are small enough for the allocator
to reuse, and each chunk's rows are tallied while they are still in memory. A block's whole
rows are fresh pages on every call: two pinball losses at 1e7 samples write 153 MiB, and the
kernel took 72 ms writing them whole against 26 ms over the streamed chunks (2-core CPU).
The brackets come from the kernel run once on a strided sample of the rows. Unweighted
regression groups skip even the chunks' rows (``summary``); weighted ones and binary blocks
stream. Where the kernels run compiled, each chunk is counted by one compiled pass around
spans drawn from the same sample (``tallied.Counter``) instead of numpy's passes per bracket:
at N=2e6 (2-core CPU, fastest of 5, calls interleaved), three binary candidates with
diagnostics took 53.6 against 66.9 ms, three weighted regression candidates 44.3 against 60.3.

``run`` gives None when a bracket missed its rank or some value is not finite; the caller then
runs the block the ordinary way, with all rows, which counts what is not finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from advisor.evaluation import chunking, diagnostics, selection, tallied

#: Below this many samples a block keeps its rows: the whole-row statistics are fast there.
STREAM_MIN = selection.BRACKET_MIN
#: A chunk's outputs and temporaries: under the allocator's threshold for fresh mappings (32 MiB
#: in glibc), so every chunk reuses the memory of the one before.
STREAM_CHUNK_BYTES = 16 << 20


class _RowTally:
    """One candidate's statistics over the parts of its rows seen so far."""

    def __init__(self, loss_sample: np.ndarray, grad_sample: np.ndarray, n: int) -> None:
        self.n = n
        self.top_rank = n - diagnostics.top_count(n)
        self.loss = selection.Tally(loss_sample, n, diagnostics.quantile_ranks(n))
        self.grad = selection.Tally(grad_sample, n, [self.top_rank], top_rank=self.top_rank)
        self.loss_max = self.grad_max = -math.inf
        self.grad_sum = 0.0
        self.zero_grads = 0
        self.finite = True

    def feed(self, losses: np.ndarray, grads: np.ndarray) -> None:
        if not self.finite:
            return
        loss_max, grad_max = float(losses.max()), float(grads.max())
        if not (math.isfinite(loss_max) and math.isfinite(grad_max) and math.isfinite(float(losses.min()))):
            self.finite = False
            return
        self.loss_max, self.grad_max = max(self.loss_max, loss_max), max(self.grad_max, grad_max)
        self.grad_sum += float(grads.sum(dtype=np.float64))
        self.zero_grads += int(np.count_nonzero(grads == 0))
        self.loss.feed(losses)
        self.grad.feed(grads)

    def merge(self, other: _RowTally) -> _RowTally:
        self.finite &= other.finite
        self.loss_max, self.grad_max = max(self.loss_max, other.loss_max), max(self.grad_max, other.grad_max)
        self.grad_sum += other.grad_sum
        self.zero_grads += other.zero_grads
        self.loss.merge(other.loss)
        self.grad.merge(other.grad)
        return self

    def stats(self) -> dict[str, Any] | None:
        """``diagnostics.sample_stats``' fields, or None where the whole rows are needed."""
        if not self.finite:
            return None
        quantiles, threshold = self.loss.resolve(), self.grad.resolve()
        if quantiles is None or threshold is None:
            return None
        return diagnostics.finite_stats(
            self.n, [quantiles[k] for k in self.loss.positions], loss_max=self.loss_max, grad_sum=self.grad_sum,
            grad_max=self.grad_max, zero_grads=self.zero_grads, top_share=self.grad.top_share(self.grad_sum),
        )


def _sorted_host(row: torch.Tensor) -> np.ndarray:
    return np.sort(row.detach().reshape(-1).numpy())


def sample_rows(n_rows: int, row_elements: int, samples: int = selection.TIE_SAMPLE) -> torch.Tensor:
    """A strided sample of rows holding about ``samples`` samples."""
    step = max(1, n_rows // max(1, samples // row_elements))
    return torch.arange(0, n_rows, step)


def chunks(n_rows: int, row_args: tuple, compiled: bool) -> list[tuple[int, int]]:
    return chunking.chunk_rows(n_rows, chunking.row_bytes(*row_args, diag=True, compiled=compiled), STREAM_CHUNK_BYTES)


class Stream:
    """The tallies of a block's K candidates, fed a chunk of rows at a time.

    ``sample_losses``, ``sample_grads``: the kernel's (K, m) per-sample losses and gradient
    magnitudes on ``sample_rows``, from which each candidate's brackets are drawn. Each chunk is split across as many threads as torch uses (numpy's
    comparisons release the GIL), each with its own tallies, merged at the end.
    """

    def __init__(self, sample_losses: torch.Tensor, sample_grads: torch.Tensor, n: int) -> None:
        k = sample_losses.shape[0]
        self.workers = max(1, min(torch.get_num_threads(), math.ceil(n / (4 * selection.SLICE))))
        samples = [(_sorted_host(sample_losses[j]), _sorted_host(sample_grads[j])) for j in range(k)]
        self.tallies = [[_RowTally(ls, gs, n) for ls, gs in samples] for _ in range(self.workers)]
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="advisor-stream") if self.workers > 1 else None

    def feed(self, losses: torch.Tensor, grads: torch.Tensor) -> None:
        """One chunk's (K, c) rows."""
        L, G = losses.numpy(), grads.numpy()
        bounds = np.linspace(0, L.shape[1], self.workers + 1).astype(np.int64)

        def work(w: int) -> None:
            for s0 in range(int(bounds[w]), int(bounds[w + 1]), selection.SLICE):
                s1 = min(int(bounds[w + 1]), s0 + selection.SLICE)
                for j, tally in enumerate(self.tallies[w]):
                    tally.feed(L[j, s0:s1], G[j, s0:s1])

        if self._pool is None:
            work(0)
        else:
            list(self._pool.map(work, range(self.workers)))

    @property
    def finite(self) -> bool:
        return all(t.finite for ts in self.tallies for t in ts)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def stats(self) -> list[dict[str, Any] | None]:
        merged = self.tallies[0]
        for other in self.tallies[1:]:
            merged = [a.merge(b) for a, b in zip(merged, other, strict=True)]
        return [t.stats() for t in merged]


def run(
    call: Callable[[int, int | None, torch.Tensor | None], Any],
    n_rows: int,
    row_elements: int,
    bounds: list[tuple[int, int]],
    on_chunk: Callable[[Any], None],
    *,
    counted: bool = False,
) -> list[dict[str, Any] | None] | None:
    """Stream a block: ``call(r0, r1, None)`` runs the kernel on rows [r0, r1),
    ``call(0, None, rows)`` on the sampled rows; it returns the kernel's outputs, whose losses
    and gradients are the third and fourth. ``on_chunk`` takes each chunk's outputs for the
    sums the caller keeps. None as soon as something is not finite (the caller reruns the
    block with its rows). ``counted``: each chunk is counted by the compiled pass of
    ``tallied`` (which the caller has checked it may use) instead of tallied with numpy.
    """
    _, _, sample_losses, sample_grads, _ = call(0, None, sample_rows(n_rows, row_elements))
    k = sample_losses.shape[0]
    n = n_rows * row_elements
    sample_losses, sample_grads = sample_losses.reshape(k, -1), sample_grads.reshape(k, -1)
    tally: tallied.Counter | Stream
    if counted:
        tally = tallied.Counter(sample_losses.numpy(), sample_grads.numpy(), n, sample_losses)
    else:
        tally = Stream(sample_losses, sample_grads, n)
    try:
        for r0, r1 in bounds:
            out = call(r0, r1, None)
            on_chunk(out)
            tally.feed(out[2].reshape(k, -1), out[3].reshape(k, -1))
            if not tally.finite:
                return None
        return tally.stats()
    finally:
        tally.close()
