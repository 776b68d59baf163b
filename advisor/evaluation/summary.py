"""Regression diagnostics without per-sample rows: one pass of reductions, then a few elements again.

Two kinds of slot take this path in an unweighted CPU group:
- those that rise with |x - y| read their order statistics at the residual's own, selected once
  for all of them (``residual_order``);
- the others (the pinball loss, Barron's below alpha = 1, the count likelihoods), from
  ``streamed.STREAM_MIN`` samples, find their own through spans drawn from a strided sample,
  around which the same pass counts (``bracketed``).
The pass (``kernels.regression_summary_kernel``) gives every slot's summed loss and reductions;
then the ordinary kernel runs on the elements at the shared order's positions and on those
the pass marked inside a span. Nothing of size (K, N) is written.

Measured against the streamed rows in the same process, calls interleaved (float32, 2-core
CPU, compiled, fastest of 20): the benchmark's two pinball losses alone with diagnostics at
N=1e6, 19.4 ms against 23.2 ms; its eight regression losses, 40.0 against 40.7 ms at 1e6 and
283 against 323 ms at 1e7 (fastest of 4). The gain is small because the rows were already
tallied in cache-sized chunks; what goes is their memory: 11.4 MiB of torch allocations at 1e6
against 15.8 before.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from advisor.evaluation import bracketed, chunking, diagnostics, dispatch, kernels, streamed
from advisor.evaluation.plans import Group
from advisor.evaluation.residual_order import ResidualOrder

#: Columns of the summary combined across chunks by addition (the others by maximum).
_ADDED = torch.tensor([field in ("grad_sum", "zero_grads") for field in kernels.SUMMARY_FIELDS])

Result = tuple[float, dict[str, Any], str]

def brackets_own(group: Group, order: ResidualOrder, kind: str, p: tuple[float, ...]) -> bool:
    """Whether a slot that shares no order takes its statistics from the pass's counts.

    Below ``streamed.STREAM_MIN`` samples its rows are cheap and the whole-row selections fast,
    and a sample of the rows would be most of them.
    """
    return (
        order.usable
        and not kernels.rises_with_abs_residual(kind, p)
        and group.n_samples >= streamed.STREAM_MIN
        and group.x.dtype in (torch.float32, torch.float64)
    )


class _Pass:
    """What the summary kernel's chunks add up to."""

    def __init__(self, k: int, n_bracketed: int, device: torch.device) -> None:
        self.sums = torch.zeros(k, dtype=torch.float64, device=device)
        self.summary: torch.Tensor | None = None
        self.counts = np.zeros((n_bracketed, kernels.SPAN_COUNTS), dtype=np.int64)
        self.above = np.zeros(n_bracketed, dtype=np.float64)
        self.marked: list[np.ndarray] = []  # flat indices of elements inside some slot's span
        self.codes: list[np.ndarray] = []  # (n_bracketed, m) codes at those indices
        self.path = "fused-eager"

    def add(self, out: tuple, offset: int) -> None:
        part_sums, part, counts, above, codes = out
        self.sums += part_sums
        if self.summary is None:
            self.summary = part
        else:
            self.summary = torch.where(_ADDED.to(part.device), self.summary + part, torch.maximum(self.summary, part))
        if codes is None:
            return
        self.counts += counts.numpy()
        self.above += above.numpy()
        c = codes.reshape(codes.shape[0], -1).numpy()
        marked = np.bitwise_or.reduce(c, axis=0) if c.shape[0] > 1 else c[0]
        local = np.flatnonzero(marked != 0)  # a bool mask: several times faster than on uint8
        self.marked.append(local + offset)
        self.codes.append(np.stack([row[local] for row in c]))  # a 2-d fancy index is slower


def _run_pass(group: Group, P: torch.Tensor, kinds: tuple[str, ...], E: torch.Tensor | None, compiled: bool) -> _Pass | None:
    """The summary kernel over the rows in chunks; with ``E`` every slot is bracketed."""
    x, y = group.x, group.y
    r = group.row_elements
    k = len(kinds)
    static = {"kinds": kinds, "bracketed": (True,) * k if E is not None else ()}
    row_args = ("regression_summary", k, r, 1, 0, x.element_size())
    per_row = chunking.row_bytes(*row_args, diag=True, compiled=compiled) + (k * r if E is not None else 0)  # the codes
    acc = _Pass(k, k if E is not None else 0, x.device)
    try:
        for r0, r1 in chunking.chunk_rows(group.n_rows, per_row):
            out, acc.path = dispatch.run("regression_summary", (x[r0:r1], y[r0:r1], P, E), static, compiled=compiled)
            acc.add(out, r0 * r)
    except (RuntimeError, ValueError, IndexError, TypeError):
        return None
    return acc


def _diag(xs: torch.Tensor, ys: torch.Tensor, P: torch.Tensor, kinds: tuple[str, ...], compiled: bool) -> tuple[np.ndarray, np.ndarray]:
    """(K, m) losses and gradient magnitudes of these slots on the m elements of ``xs``/``ys``."""
    (_, _, losses, grads, _), _ = dispatch.run("regression", (xs, ys, P), {"kinds": kinds, "diag": True}, compiled=compiled)
    k = len(kinds)
    return losses.reshape(k, -1).numpy(), grads.reshape(k, -1).numpy()


def _at(group: Group, idx: np.ndarray, P: torch.Tensor, kinds: tuple[str, ...], compiled: bool) -> tuple[np.ndarray, np.ndarray]:
    """``_diag`` at flat element indices ``idx``."""
    at = torch.from_numpy(idx).to(group.x.device)
    return _diag(group.x.reshape(-1)[at].reshape(-1, 1), group.y.reshape(-1)[at].reshape(-1, 1), P, kinds, compiled)


def _plans(group: Group, P: torch.Tensor, kinds: tuple[str, ...], compiled: bool) -> list[bracketed.SlotSpans]:
    """Each slot's spans, from the kernel on a strided sample of the rows."""
    rows = streamed.sample_rows(group.n_rows, group.row_elements, bracketed.PLAN_SAMPLE)
    L, G = _diag(group.x[rows], group.y[rows], P, kinds, compiled)
    return [bracketed.plan(L[j], G[j], group.n_samples) for j in range(len(kinds))]


def _results(done: _Pass, stats_of) -> list[Result | None]:
    """Each slot's result: ``stats_of(j, grad_sum, grad_max, zero_grads, loss_max)`` where its
    reductions are finite (None from it: the slot takes the ordinary way), else None."""
    totals, summary = done.sums.tolist(), done.summary.tolist()
    out: list[Result | None] = []
    for j, (grad_sum, grad_max, zero_grads, loss_max) in enumerate(summary):
        finite = math.isfinite(totals[j]) and all(math.isfinite(v) for v in summary[j])
        stats = stats_of(j, grad_sum=grad_sum, grad_max=grad_max, zero_grads=int(zero_grads), loss_max=loss_max) if finite else None
        out.append(None if stats is None else (totals[j], stats, done.path))
    return out


def _shared(group: Group, P: torch.Tensor, kinds: tuple[str, ...], order: ResidualOrder, compiled: bool) -> list[Result | None]:
    at = order.get()
    done = _run_pass(group, P, kinds, None, compiled) if at is not None else None
    if done is None:
        return [None] * len(kinds)
    losses_at, grads_at = _at(group, at.positions(), P, kinds, compiled)
    return _results(done, lambda j, **fields: diagnostics.stats_at_order(at, losses_at[j], grads_at[j], n=group.n_samples, **fields))


def _own(group: Group, P: torch.Tensor, kinds: tuple[str, ...], compiled: bool) -> list[Result | None]:
    plans = _plans(group, P, kinds, compiled)
    done = _run_pass(group, P, kinds, bracketed.edges(plans, group.x), compiled)
    if done is None:
        return [None] * len(kinds)
    codes = np.concatenate(done.codes, axis=1)
    losses_at, grads_at = _at(group, np.concatenate(done.marked), P, kinds, compiled)
    return _results(
        done,
        lambda j, **fields: bracketed.stats(plans[j], done.counts[j], float(done.above[j]), codes[j], losses_at[j], grads_at[j], **fields),
    )


def summarise(
    group: Group, P: torch.Tensor, kinds: tuple[str, ...], shared: list[bool], order: ResidualOrder, *, compiled: bool
) -> list[Result | None]:
    """(summed losses, ``diagnostics`` fields, path) of each slot, without per-sample rows.

    ``P`` and ``kinds`` are the regression kernel's arguments for the slots; ``shared`` says
    which read the residual's order, the others bracket their own. None for a slot whose
    reductions are not finite or whose span missed, and for all of them when the kernel (or,
    for the shared ones, the order) is unavailable: the caller then runs those the ordinary
    way, which counts what is not finite.

    The two kinds take separate passes: two pinball slots' counts and codes added 2.6 to 7 ms
    (three runs) at N=1e6 to a compiled kernel that also held the six shared slots, and about
    1.8 ms to one of their own (measured, the generated code not inspected); reading x and y
    twice costs far less. The shared selection runs before its pass, not beside it: both use
    every core (the selection through ``selection``'s threads, the kernel through torch's), and
    on two cores running them at once was slower.
    """
    out: list[Result | None] = [None] * len(kinds)
    for shares in (True, False):
        ids = [j for j, s in enumerate(shared) if s == shares]
        if not ids:
            continue
        P_ids, kinds_ids = P[ids], tuple(kinds[j] for j in ids)
        try:
            got = _shared(group, P_ids, kinds_ids, order, compiled) if shares else _own(group, P_ids, kinds_ids, compiled)
        except (RuntimeError, ValueError, IndexError, TypeError):
            continue  # those slots take the ordinary way
        for j, result in zip(ids, got, strict=True):
            out[j] = result
    return out
