"""Execute a fused group: chunk the rows, call the kernel, reduce per candidate.

Sums are accumulated across chunks in float64, so the result does not depend on the chunking
beyond float64 rounding, and the float32 value stays within 1e-5 of torch's own reduction.

With diagnostics, one way for every family and device (``diagnostics`` has the state and its
bounds): the kernel writes per-sample rows for the quantile sample alone, whose order
statistics give each candidate's quantiles and top-share threshold t; then one pass over
every chunk accumulates each candidate's exact state (sums, maxima, counts, the sum above
t) without writing a row. Where the sample is every row (inputs no larger than it,
``quantile_sample=None``), for reduction='none' (whose rows are the answer), and where
keeping costs less than sampling apart (``KEEP_COST``: many classes, few rows), the rows
pass covers every row, the state is reduced from those rows by the same function, and the
quantile sample is drawn from the kept rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from advisor.evaluation import chunking, diagnostics, dispatch, kernels
from advisor.evaluation.plans import Group, Member

#: What a kept per-sample number costs against a number of the sample evaluated apart
#: (``Block._cheap_rows``; measured, see there): many classes, few rows and candidates keep.
KEEP_COST = 13


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
        "log_probs": group.kernel == "log_probs",
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


def weights_per_row(group: Group, sample_weight: torch.Tensor | None) -> torch.Tensor | None:
    """Sample weights aligned with the group's rows, in its dtype ((N, C, d...) multiclass: one weight per row, repeated per position)."""
    if sample_weight is None:
        return None
    s = sample_weight.to(group.x.dtype)
    if s.shape[0] != group.n_rows:
        s = s.repeat_interleave(group.n_rows // s.shape[0])
    return s


def run_group(
    group: Group,
    sample_weight: torch.Tensor | None,
    *,
    diag: bool,
    quantile_sample: int | None = diagnostics.QUANTILE_SAMPLE,
    means_only: bool = False,
) -> dict[int, Outcome] | None:
    """Outcomes by candidate index, or None when the kernel itself failed (the caller falls back).

    Whole arrays are a stream of one batch: one ``Block`` per set of candidates, updated once.
    ``quantile_sample``: rows in the quantile sample (None: every row, exact). ``means_only``:
    only ``Outcome.mean`` is wanted (the baselines), so nothing per sample is computed
    whatever the candidates' reductions. Candidates with reduction='none' keep every row
    (their rows are the answer), so their quantiles are exact.
    """
    diag = diag and not means_only
    s = weights_per_row(group, sample_weight)
    every_row = [mm for mm in group.members if mm.cand.reduction == "none" and not means_only]
    rest = [mm for mm in group.members if mm not in every_row]
    out: dict[int, Outcome] = {}
    try:
        for members, m in ((rest, quantile_sample), (every_row, None)):
            if not members:
                continue
            keeps_rows = m is None and (diag or members is every_row)
            blocks = chunking.candidate_blocks(len(members), group.n_samples, group.x.element_size()) if keeps_rows else [(0, len(members))]
            for a, b in blocks:
                block = Block(group.kernel, members[a:b], m=m, diag=diag)
                block.update(group, s)
                out.update(block.finish())
    except (RuntimeError, ValueError, IndexError, TypeError):
        return None
    return out


class Block:
    """One block of fused candidates accumulated over batches of rows (whole arrays: one batch).

    Per batch: with diagnostics, the rows the quantile sample takes from it are evaluated with
    their per-sample outputs, and the state pass runs over every chunk with the thresholds t;
    without, one values pass. The sample (``m`` rows; None keeps every row: exact) holds every
    row while the rows seen number no more than m; beyond, it is m slots, each a uniform draw
    from every row seen so far: on a batch of b rows after s, each slot takes a uniform row of
    the batch with probability b / (s + b), so the slots stay independent uniform draws with
    replacement, which is what the DKW bound assumes. For one batch that is m draws from its
    n rows. The thresholds t are the sample's after the first batch (a stream's pilot), kept
    for the rest. Candidates with reduction='none' keep every row's loss, the values.
    """

    def __init__(self, kernel: str, members: list[Member], *, m: int | None, diag: bool) -> None:
        self.kernel = "multiclass" if kernel == "log_probs" else kernel
        self.members = members
        self.k = len(members)
        self.m = m
        self.diag = diag
        self.keep_values = any(mm.cand.reduction == "none" for mm in members)
        self.acc: _Sums | None = None
        self.n_rows = self.n_samples = 0
        self.weighted = False
        self.weight_total = 0.0
        self.T: torch.Tensor | None = None
        self.kept: list[tuple[torch.Tensor, torch.Tensor]] = []  # every row's outputs, while the sample is every row
        self.slots: tuple[torch.Tensor, torch.Tensor] | None = None  # (K, m, R) losses and gradients once it is not
        self.generator = torch.Generator().manual_seed(diagnostics.SAMPLE_SEED)
        self.path = "fused-eager"
        self.row_elements = 1

    def update(self, group: Group, s: torch.Tensor | None) -> None:
        """Add one batch: ``group`` holds its rows for these candidates, ``s`` its row weights."""
        x, y = group.x, group.y
        k, n, r = self.k, group.n_rows, group.row_elements
        params, static = _kernel_args(group, self.members)
        compiled = dispatch.use_compiled(x.numel())
        row_args = (self.kernel, k, r, int(x.shape[1]) if self.kernel == "multiclass" else 1, sum(mm.offset is not None for mm in self.members), x.element_size())
        self.acc = self.acc or _Sums(k, x.device)
        acc = self.acc

        def call(sel: Any, mode: str, T: torch.Tensor | None) -> tuple:
            """The block's kernel on rows [a, b) (a tuple) or on the rows a tensor indexes."""
            pick = slice(*sel) if isinstance(sel, tuple) else sel
            thresholds = T if T is not None else x.new_zeros(k)
            args = (x[pick], y[pick], *params, thresholds, None if s is None else s[pick])
            produced, self.path = dispatch.run(self.kernel, args, {**static, "out": mode}, compiled=compiled)
            return produced

        def ranges(count: int, mode: str) -> list[tuple[int, int]]:
            # sized for the kernel that will run: eager (more temporaries) until the structure
            # is compiled, so a call served while it compiles in the background keeps the budget
            like = (x, y, *params, x.new_zeros(k), s)
            fast = compiled and dispatch.ready(self.kernel, like, {**static, "out": mode})
            return chunking.chunk_rows(count, chunking.row_bytes(*row_args, mode=mode, compiled=fast))

        seen = self.n_rows
        self.n_rows += n
        self.row_elements = r
        self.n_samples += group.n_samples
        if s is not None:
            self.weighted = True
            self.weight_total += float(s.sum(dtype=torch.float64)) * r
        if not (self.diag or self.keep_values):
            for sel in ranges(n, "values"):
                acc.add(call(sel, "values", None))
            return
        if self.slots is None and (
            self.m is None or self.n_rows <= diagnostics.sample_rows(self.m, r) or self._cheap_rows(group, n)
        ):
            # the sample is still every row, or rows are cheap to keep: this batch's rows are kept
            # and its state read from them
            L, G = _rows(call, ranges(n, "rows"), k, r, x, acc)
            if self.diag:
                if self.T is None:
                    self.T = diagnostics.thresholds(G, k, x)
                acc.state = diagnostics.merge(acc.state, diagnostics.rows_stats(L, G, self.T))
            self.kept.append((L, G))
            return
        if self.slots is None:
            self._slots_from_kept(r, x)
        picked, rows = self._draw(seen, n, x.device)
        if rows.numel():
            L, G = _rows(call, [rows[a:b] for a, b in ranges(rows.numel(), "rows")], k, r, x, None)
            if seen == 0:  # every slot takes a row, in slot order: the rows are the slots
                self.slots = (L.reshape(k, -1, r), G.reshape(k, -1, r))
            else:
                self.slots[0][:, picked] = L.reshape(k, -1, r)
                self.slots[1][:, picked] = G.reshape(k, -1, r)
        if self.T is None:
            self.T = diagnostics.thresholds(self.slots[1].reshape(k, -1), k, x)
        for sel in ranges(n, "stats"):
            acc.add(call(sel, "stats", self.T))

    def _cheap_rows(self, group: Group, n: int) -> bool:
        """Whether keeping every row's per-sample outputs so far costs less than sampling apart.

        Sampling apart gathers m whole rows and runs the kernel over them a second time: m · C
        numbers read for rows of C classes. Keeping writes 2 · K numbers a row, then reduces
        them and takes the thresholds from them on the host, each kept number costing about
        ``KEEP_COST`` numbers of the sample's (seven candidates, C = 1000, float32, 2-core
        CPU: keeping halved a diagnostics call at N = 1e5 and cost 11% more at N = 5e5). Kept
        rows also stay under ``chunking.DIAG_BUDGET_BYTES``.
        """
        x = group.x
        out_per_row = 2 * self.k * group.row_elements
        sample_reads = diagnostics.sample_rows(self.m, group.row_elements) * x[:1].numel()
        kept = sum(a.numel() for a, _ in self.kept) * 2 * x.element_size()
        return (
            KEEP_COST * out_per_row * self.n_rows < sample_reads
            and kept + out_per_row * n * x.element_size() <= chunking.DIAG_BUDGET_BYTES
        )

    def _slots_from_kept(self, r: int, like: torch.Tensor) -> None:
        """Enter the slot phase: m slots drawn uniformly (with replacement) from the rows kept so far."""
        m = diagnostics.sample_rows(self.m, r)
        self.slots = (like.new_empty(self.k, m, r), like.new_empty(self.k, m, r))
        if self.kept:
            L = torch.cat([a for a, _ in self.kept], 1).reshape(self.k, -1, r)
            G = torch.cat([b for _, b in self.kept], 1).reshape(self.k, -1, r)
            idx = torch.randint(L.shape[1], (m,), generator=self.generator).to(like.device)
            self.slots = (L[:, idx].contiguous(), G[:, idx].contiguous())
        self.kept = []

    def _draw(self, seen: int, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """(slots that take a row of this batch, the batch rows they take), sorted by row for locality."""
        m = self.slots[0].shape[1]
        if seen == 0:  # every slot takes a row: the sample a whole array draws
            return torch.arange(m, device=device), diagnostics.draw(n, m, device, self.generator)
        picked, rows = diagnostics.refresh(m, seen, n, self.generator)
        return picked.to(device), rows.to(device)

    def finish(self) -> dict[int, Outcome]:
        """Outcomes of every candidate over all the batches added."""
        acc, k = self.acc, self.k
        sums_h = acc.sums.tolist()
        if acc.has_denoms:
            denoms_h = acc.denoms.tolist()
        else:
            denoms_h = [self.weight_total if self.weighted else float(self.n_samples)] * k
        if self.diag and self.slots is None and self.kept and self.m is not None:
            r = self.row_elements
            if self.n_rows > diagnostics.sample_rows(self.m, r) and not self.keep_values:
                self._slots_from_kept(r, self.kept[0][0])  # the quantiles from m draws, as asked
        L_all = G_all = None
        if self.kept:
            L_all = torch.cat([a for a, _ in self.kept], 1)
            G_all = torch.cat([b for _, b in self.kept], 1)
        stats: list[dict[str, Any] | None] = [None] * k
        if self.diag and self.slots is None:
            stats = diagnostics.finish_all(acc.state, L_all, G_all, self.T, self.n_samples, None)
        elif self.diag:
            L_s, G_s = self.slots
            stats = diagnostics.finish_all(acc.state, L_s.reshape(k, -1), G_s.reshape(k, -1), self.T, self.n_samples, L_s.shape[1])
        saturation = None if acc.saturated is None else int(acc.saturated) / self.n_rows
        out: dict[int, Outcome] = {}
        for j, m in enumerate(self.members):
            mean = sums_h[j] / denoms_h[j] if denoms_h[j] != 0 else float("nan")
            red = m.cand.reduction
            value: float | None = mean if red == "mean" else sums_h[j] if red == "sum" else None
            values = L_all[j].tolist() if red == "none" and L_all is not None else None  # rows in the loss's own order
            out[m.cand.index] = Outcome(value, values, mean, None, None, self.path, saturation, stats[j])
        return out
