"""Execute a fused group: chunk the rows, call the kernel, reduce per candidate.

Sums are accumulated across chunks in float64, so the result does not depend on the chunking
beyond float64 rounding, and the float32 value stays within 1e-5 of torch's own reduction.

With diagnostics, one way for every family and device (``diagnostics`` has the state and its
bounds): the kernel writes per-sample rows for the quantile sample alone, whose order
statistics give each candidate's quantiles and top-share threshold t; then one pass over
every chunk accumulates each candidate's exact state (sums, maxima, counts, the sum above
t) without writing a row. Where the sample is every row (inputs no larger than it,
``quantile_sample=None``), and for reduction='none' (whose rows are the answer), the rows
pass covers every row and the state is reduced from those rows by the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from advisor.evaluation import chunking, diagnostics, dispatch, kernels
from advisor.evaluation.plans import Group, Member


@dataclass
class Outcome:
    """What one candidate produced, before it becomes a ``CandidateResult``."""

    value: float | None
    values: list[float] | None
    mean: float  # the value under reduction='mean' (weighted as the loss weights), for the skill score
    losses: torch.Tensor | None  # per-sample losses, flattened
    grads: torch.Tensor | None  # per-sample gradient magnitudes, flattened
    path: str
    saturation: float | None = None  # measured by the kernel when it had the softmax at hand
    stats: dict[str, Any] | None = None  # diagnostics.finish's fields, taken before the rows were freed


def _stack(rows: list[torch.Tensor | None], fill: float, width: int, like: torch.Tensor) -> torch.Tensor:
    return torch.stack([r.to(like) if r is not None else like.new_full((width,), fill) for r in rows])


def _kernel_args(group: Group, members: list[Member]) -> tuple[tuple[torch.Tensor, ...], dict]:
    like = group.x
    P = torch.tensor([m.p for m in members], dtype=like.dtype, device=like.device)
    if group.kernel == "regression":
        return (P,), {"kinds": tuple(m.kind for m in members)}
    if group.kernel == "binary":
        r = group.row_elements
        W = _stack([m.w for m in members], 1.0, r, like)
        PW = _stack([m.pw for m in members], 1.0, r, like)
        return (P, W, PW), {"kinds": tuple(m.kind for m in members)}
    c = int(group.x.shape[1])
    W = _stack([m.w for m in members], 1.0, c, like)
    OFF = _stack([m.offset for m in members], 0.0, c, like)
    static = {
        "kinds": tuple(m.kind for m in members),
        "offsets": tuple(_offset_kind(m) for m in members),
        "weighted": tuple(m.w is not None for m in members),
        "log_probs": group.log_probs,
    }
    return (P, W, OFF), static


def _offset_kind(m: Member) -> int:
    """0: no logit offsets; 2: offsets narrow enough to reuse the plain exponentials; 1: their own.

    The one structural choice made from a value: offsets wider than
    ``kernels.SHARED_OFFSET_SPAN`` (tau · log of the prior ratio beyond 40, that is priors
    e^40 apart at tau = 1) compile a second variant once, rather than lose accuracy.
    """
    if m.offset is None:
        return 0
    return 2 if float(m.offset.max() - m.offset.min()) <= kernels.SHARED_OFFSET_SPAN else 1


class _Sums:
    """What a block's kernel calls add up across chunks: sums, denominators, saturation, state."""

    def __init__(self, k: int, device: torch.device) -> None:
        self.sums = torch.zeros(k, dtype=torch.float64, device=device)
        self.denoms = torch.zeros(k, dtype=torch.float64, device=device)
        self.has_denoms = False
        self.saturated: torch.Tensor | None = None
        self.state = diagnostics.empty_state(k, device)

    def add(self, out: tuple) -> None:
        sm, dn, state, _, _, sat = out
        self.sums += sm
        if sat is not None:
            self.saturated = sat if self.saturated is None else self.saturated + sat
        if dn is not None:
            self.denoms += dn
            self.has_denoms = True
        if state is not None:
            self.state = diagnostics.merge(self.state, state)


Call = Callable[[Any, str, torch.Tensor | None], tuple]


def _rows(call: Call, selections: list[Any], k: int, r: int, like: torch.Tensor, acc: _Sums | None):
    """(K, n) per-sample losses and gradient magnitudes over ``selections`` (row ranges or index chunks)."""
    n = sum(_count(sel) for sel in selections) * r
    if len(selections) == 1:  # one chunk: its outputs are the rows themselves, no copy into a second buffer
        produced = call(selections[0], "rows", None)
        if acc is not None:
            acc.add(produced)
        return produced[3].reshape(k, -1), produced[4].reshape(k, -1)
    L = torch.empty(k, n, dtype=like.dtype, device=like.device)
    G = torch.empty(k, n, dtype=like.dtype, device=like.device)
    at = 0
    for sel in selections:
        produced = call(sel, "rows", None)
        if acc is not None:
            acc.add(produced)
        width = _count(sel) * r
        L[:, at : at + width] = produced[3].reshape(k, -1)
        G[:, at : at + width] = produced[4].reshape(k, -1)
        at += width
    return L, G


def _count(sel: Any) -> int:
    return sel[1] - sel[0] if isinstance(sel, tuple) else int(sel.numel())


def run_group(
    group: Group,
    sample_weight: torch.Tensor | None,
    *,
    diag: bool,
    quantile_sample: int | None = diagnostics.QUANTILE_SAMPLE,
    means_only: bool = False,
) -> dict[int, Outcome] | None:
    """Outcomes by candidate index, or None when the kernel itself failed (the caller falls back).

    ``quantile_sample``: rows in the quantile sample (None: every row, exact). ``means_only``:
    only ``Outcome.mean`` is wanted (the baselines), so nothing per sample is computed
    whatever the candidates' reductions.
    """
    x = group.x
    kernel = "multiclass" if group.kernel == "log_probs" else group.kernel
    n_rows, r = group.n_rows, group.row_elements
    s = sample_weight
    if s is not None:
        s = s.to(x.dtype)
        if s.shape[0] != n_rows:  # (N, C, d...) multiclass: one weight per row, repeated per position
            s = s.repeat_interleave(n_rows // s.shape[0])
    diag = diag and not means_only
    compiled = dispatch.use_compiled(x.numel())
    m = diagnostics.sample_rows(quantile_sample, r)
    sample = diagnostics.draw(n_rows, m, x.device) if diag else None
    every_row = [mm for mm in group.members if mm.cand.reduction == "none" and not means_only]
    rest = [mm for mm in group.members if mm not in every_row]
    out: dict[int, Outcome] = {}
    try:
        for members, rows_for_all in ((rest, diag and sample is None), (every_row, True)):
            if not members:
                continue
            blocks = chunking.candidate_blocks(len(members), group.n_samples, x.element_size()) if rows_for_all else [(0, len(members))]
            for a, b in blocks:
                out.update(_run_block(group, kernel, members[a:b], s, diag, sample if not rows_for_all else None, rows_for_all, compiled))
    except (RuntimeError, ValueError, IndexError, TypeError):
        return None
    return out


def _run_block(
    group: Group,
    kernel: str,
    block: list[Member],
    s: torch.Tensor | None,
    diag: bool,
    sample: torch.Tensor | None,
    rows_for_all: bool,
    compiled: bool,
) -> dict[int, Outcome]:
    """One block of candidates: values only, rows for every row, or the sample then the state pass."""
    x, y = group.x, group.y
    k, n_rows, r, n_samples = len(block), group.n_rows, group.row_elements, group.n_samples
    params, static = _kernel_args(group, block)
    row_args = (kernel, k, r, int(x.shape[1]) if kernel == "multiclass" else 1, sum(m.offset is not None for m in block), x.element_size())
    taken = ["fused-eager"]  # the path of the latest kernel call

    def call(sel: Any, mode: str, T: torch.Tensor | None) -> tuple:
        """The block's kernel on rows [a, b) (a tuple) or on the rows a tensor indexes."""
        pick = slice(*sel) if isinstance(sel, tuple) else sel
        thresholds = T if T is not None else x.new_zeros(k)
        args = (x[pick], y[pick], *params, thresholds, None if s is None else s[pick])
        produced, taken[0] = dispatch.run(kernel, args, {**static, "out": mode}, compiled=compiled)
        return produced

    def ranges(n: int, mode: str) -> list[tuple[int, int]]:
        return chunking.chunk_rows(n, chunking.row_bytes(*row_args, mode=mode, compiled=compiled))

    acc = _Sums(k, x.device)
    L_all = G_all = None
    stats: list[dict[str, Any] | None] = [None] * k
    if rows_for_all:
        L_all, G_all = _rows(call, ranges(n_rows, "rows"), k, r, x, acc)
        if diag:
            T = diagnostics.thresholds(G_all, k, x)
            state = diagnostics.rows_stats(L_all, G_all, T)
            stats = diagnostics.finish_all(state, L_all, G_all, T, n_samples, None)
    elif diag:
        picks = [sample[a:b] for a, b in ranges(sample.numel(), "rows")]
        L_s, G_s = _rows(call, picks, k, r, x, None)
        T = diagnostics.thresholds(G_s, k, x)
        for sel in ranges(n_rows, "stats"):
            acc.add(call(sel, "stats", T))
        stats = diagnostics.finish_all(acc.state, L_s, G_s, T, n_samples, sample.numel())
    else:
        for sel in ranges(n_rows, "values"):
            acc.add(call(sel, "values", None))
    sums_h = acc.sums.tolist()
    if acc.has_denoms:
        denoms_h = acc.denoms.tolist()
    else:
        count = float(n_samples) if s is None else float(s.sum(dtype=torch.float64)) * r
        denoms_h = [count] * k
    saturation = None if acc.saturated is None else int(acc.saturated) / n_rows
    out: dict[int, Outcome] = {}
    for j, m in enumerate(block):
        mean = sums_h[j] / denoms_h[j] if denoms_h[j] != 0 else float("nan")
        red = m.cand.reduction
        values = None
        value: float | None = mean if red == "mean" else sums_h[j] if red == "sum" else None
        if red == "none" and L_all is not None:
            values = L_all[j].reshape(m.out_shape).reshape(-1).tolist()
        out[m.cand.index] = Outcome(value, values, mean, None, None, taken[0], saturation, stats[j])
    return out
