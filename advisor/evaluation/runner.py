"""Execute a fused group: chunk the rows, call the kernel, reduce per candidate.

Sums are accumulated across chunks in float64, so the result does not depend on the chunking
beyond float64 rounding, and the float32 value stays within 1e-5 of torch's own reduction.

With diagnostics, the regression candidates of an unweighted CPU group need no per-sample rows
(``summary``: those that rise with |x - y| read the residual's order, the others, on large
inputs, count around spans drawn from a sample); a block of the rest, on large elementwise
inputs, has its rows tallied chunk by chunk (``streamed``); everything else keeps the block's
rows and reads its statistics from them (``_block_stats``). All give the same statistics.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch

from advisor.evaluation import chunking, diagnostics, dispatch, kernels, streamed, summary, tallied
from advisor.evaluation.plans import Group, Member
from advisor.evaluation.residual_order import ResidualOrder


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
    stats: dict[str, Any] | None = None  # diagnostics.sample_stats, taken before the samples were freed


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


def _block_stats(
    L: torch.Tensor, G: torch.Tensor, finite: list[bool], shared: list[bool], order: ResidualOrder, compiled: bool
) -> list[dict[str, Any]]:
    """``diagnostics.sample_stats`` of each candidate's row.

    Large rows of candidates that share no order are counted in one compiled pass
    (``tallied``); the rest, and any that pass leaves open, select with numpy on as many
    threads as torch uses: those selections are single-threaded calls that release the GIL,
    and by now the kernel's threads are idle. Each result depends on its row alone.
    ``shared`` candidates read their order statistics from ``order`` instead of selecting.
    """
    k = len(finite)
    done: dict[int, dict[str, Any]] = {}
    own = [j for j in range(k) if finite[j] and not shared[j]]
    if own and tallied.usable(L, compiled):
        rows = slice(None) if len(own) == k else own
        for j, got in zip(own, tallied.stats(L[rows], G[rows]), strict=True):
            if got is not None:
                done[j] = got

    def one(j: int) -> dict[str, Any]:
        return done[j] if j in done else diagnostics.sample_stats(L[j], G[j], finite[j])

    def ordered(j: int, at: diagnostics.SharedOrder | None) -> dict[str, Any]:
        return one(j) if at is None else diagnostics.ordered_sample_stats(L[j], G[j], at)

    workers = min(k - len(done), max(1, torch.get_num_threads()))
    if workers <= 1:
        return [ordered(j, order.get()) if shared[j] else one(j) for j in range(k)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="advisor-stats") as pool:
        pending = pool.submit(order.get) if any(shared) else None
        own_results = {j: pool.submit(one, j) for j in range(k) if not shared[j]}
        at = pending.result() if pending is not None else None
        rest = {j: pool.submit(ordered, j, at) for j in range(k) if shared[j]}
        return [(rest[j] if shared[j] else own_results[j]).result() for j in range(k)]


def _summarised(group: Group, members: list[Member], order: ResidualOrder, compiled: bool) -> dict[int, Outcome]:
    """Outcomes of the members whose diagnostics need no per-sample rows (``summary.summarise``)."""
    eligible, shared = [], []
    for m, shares in zip(members, order.shares(members), strict=True):
        if m.cand.reduction == "none":
            continue
        if shares or summary.brackets_own(group, order, m.kind, m.p):
            eligible.append(m)
            shared.append(shares)
    if not eligible:
        return {}
    (P,), static = _kernel_args(group, eligible)
    n = group.n_samples
    out: dict[int, Outcome] = {}
    for m, got in zip(eligible, summary.summarise(group, P, static["kinds"], shared, order, compiled=compiled), strict=True):
        if got is not None:
            total, stats, path = got
            mean = total / n
            out[m.cand.index] = Outcome(mean if m.cand.reduction == "mean" else total, None, mean, None, None, path, None, stats)
    return out


class _Sums:
    """What a block's kernel calls add up across chunks: sums, denominators, saturation."""

    def __init__(self, k: int, device: torch.device) -> None:
        self.sums = torch.zeros(k, dtype=torch.float64, device=device)
        self.denoms = torch.zeros(k, dtype=torch.float64, device=device)
        self.has_denoms = False
        self.saturated: torch.Tensor | None = None

    def add(self, out: tuple) -> None:
        sm, dn, _, _, sat = out
        self.sums += sm
        if sat is not None:
            self.saturated = sat if self.saturated is None else self.saturated + sat
        if dn is not None:
            self.denoms += dn
            self.has_denoms = True


def _streamable(kernel: str, block: list[Member], x: torch.Tensor, n_samples: int) -> bool:
    """Whether a block's diagnostics are tallied chunk by chunk (``streamed``) instead of from whole rows.

    Only for the elementwise kernels, whose rows are as large as their inputs; a multiclass
    block's rows are a C-th of its logits, cheap to keep, and its kernel's chunks would have to
    be small (C=1000 against the chunk budget: 2,000 rows). Not where a candidate returns its
    per-sample losses (reduction 'none': the rows are the answer), nor for small inputs, nor off
    the CPU or in dtypes numpy lacks.
    """
    return (
        kernel in ("regression", "binary")
        and n_samples >= streamed.STREAM_MIN
        and x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
        and all(m.cand.reduction != "none" for m in block)
    )


def run_group(
    group: Group, sample_weight: torch.Tensor | None, *, diag: bool, means_only: bool = False
) -> dict[int, Outcome] | None:
    """Outcomes by candidate index, or None when the kernel itself failed (the caller falls back).

    ``means_only``: only ``Outcome.mean`` is wanted (the baselines), so no per-sample outputs
    are kept whatever the candidates' reductions.
    """
    members = group.members
    x, y = group.x, group.y
    dtype, itemsize = x.dtype, x.element_size()
    kernel = "multiclass" if group.kernel == "log_probs" else group.kernel
    n_rows, r = group.n_rows, group.row_elements
    n_samples = group.n_samples
    s = sample_weight
    if s is not None:
        s = s.to(dtype)
        if s.shape[0] != n_rows:  # (N, C, d...) multiclass: one weight per row, repeated per position
            s = s.repeat_interleave(n_rows // s.shape[0])
    compiled = dispatch.use_compiled(x.numel())
    order = ResidualOrder(group, s)
    out = _summarised(group, members, order, compiled) if diag and not means_only else {}
    members = [m for m in members if m.cand.index not in out]
    if not members:
        return out
    need_samples = not means_only and (diag or any(m.cand.reduction == "none" for m in members))
    blocks = chunking.candidate_blocks(len(members), n_samples, itemsize) if need_samples else [(0, len(members))]
    n_classes = int(x.shape[1]) if kernel == "multiclass" else 1
    for a, b in blocks:
        block = members[a:b]
        k = len(block)
        params, static = _kernel_args(group, block)
        if kernel == "multiclass":
            static["log_probs"] = group.log_probs
        static["diag"] = need_samples
        row_args = (kernel, k, r, n_classes, sum(m.offset is not None for m in block), itemsize)
        acc = _Sums(k, x.device)
        taken = ["fused-eager"]  # the path of the latest kernel call

        def call(r0: int, r1: int | None, rows: torch.Tensor | None, params=params, static=static, taken=taken):
            """The block's kernel on rows [r0, r1), or on the rows indexed by ``rows``."""
            if rows is None:
                args = (x[r0:r1], y[r0:r1], *params, None if s is None else s[r0:r1])
            else:
                args = (x[rows], y[rows], *params, None if s is None else s[rows])
            out, taken[0] = dispatch.run(kernel, args, static, compiled=compiled)
            return out

        stats: list[dict[str, Any] | None] | None = None
        L_all = G_all = None
        try:
            if diag and need_samples and _streamable(kernel, block, x, n_samples):
                counted = tallied.usable(x, compiled, n_samples)
                stats = streamed.run(call, n_rows, r, streamed.chunks(n_rows, row_args, compiled), acc.add, counted=counted)
                if stats is None or any(st is None for st in stats):
                    stats = None  # a bracket missed or something is not finite: the rows, then
                    acc = _Sums(k, x.device)
            if stats is None:
                bounds = chunking.block_rows(n_rows, row_args, diag=need_samples, compiled=compiled)
                # one chunk: its outputs are the per-sample rows themselves, no copy into a second buffer
                whole = need_samples and len(bounds) == 1
                if need_samples and not whole:
                    L_all = torch.empty(k, n_samples, dtype=dtype, device=x.device)
                    G_all = torch.empty(k, n_samples, dtype=dtype, device=x.device)
                for r0, r1 in bounds:
                    produced = call(r0, r1, None)
                    acc.add(produced)
                    _, _, L, G, _ = produced
                    if whole:
                        L_all, G_all = L.reshape(k, -1), G.reshape(k, -1)
                    elif need_samples:
                        L_all[:, r0 * r : r1 * r] = L.reshape(k, -1)
                        G_all[:, r0 * r : r1 * r] = G.reshape(k, -1)
        except (RuntimeError, ValueError, IndexError, TypeError):
            return None
        sums, path, saturated = acc.sums, taken[0], acc.saturated
        denoms = acc.denoms if acc.has_denoms else None
        if denoms is None:
            count = float(n_samples) if s is None else float(s.sum(dtype=torch.float64)) * r
            denoms = torch.full((k,), count, dtype=torch.float64, device=x.device)
        sums_h, denoms_h = sums.tolist(), denoms.tolist()
        if diag and stats is None:
            stats = _block_stats(L_all, G_all, [math.isfinite(v) for v in sums_h], order.shares(block), order, compiled)
        elif not diag:
            stats = [None] * k
        for j, m in enumerate(block):
            mean = sums_h[j] / denoms_h[j] if denoms_h[j] != 0 else float("nan")
            red = m.cand.reduction
            values = None
            if red == "mean":
                value: float | None = mean
            elif red == "sum":
                value = sums_h[j]
            elif means_only:
                value = None
            else:
                value = None
                values = L_all[j].reshape(m.out_shape).reshape(-1).tolist()
            # the statistics are taken per block, so a block's per-sample rows are freed before
            # the next block allocates its own: DIAG_BUDGET_BYTES bounds them whatever K is
            out[m.cand.index] = Outcome(
                value,
                values,
                mean,
                None,
                None,
                path,
                None if saturated is None else int(saturated) / n_rows,
                stats[j],
            )
        del L_all, G_all
    return out
