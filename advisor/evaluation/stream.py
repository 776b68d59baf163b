"""``evaluate`` over a stream of batches: predictions too large for memory, a DataLoader, a file read in parts.

One pass, with the same blocks as whole arrays (``runner.Block``): each batch is checked and
grouped as a request is, and every fused block adds it to its state (sums, maxima, counts:
exact) and to its quantile sample (m slots that stay independent uniform draws over every
row seen, so memory is bounded by the batch size and m). The report equals the whole-array
report up to float64 rounding of the values, and the quantiles are within the same stated
rank bound. Two things are estimated from what the stream has shown so far: the top-1%
threshold t is the sample's after the first batch (the state counts above it from there on,
so a stream whose first batch is unlike the rest gets a t further from the true rank), and
the skill baselines come from a sample of the raw rows (at most ``baselines.SUBSAMPLE`` of
them, drawn like the quantile sample) evaluated at the end as a request of its own.

Only fused candidates stream: a loss the kernels do not express (pairs, CTC, ...) needs its
whole input at once, reduction='none' returns every row, and LogitAdjustedLoss without
``class_priors`` takes its priors from all the targets; those are skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch

from advisor.errors import AdvisorError, InvalidInputError
from advisor.evaluation import baselines, plans
from advisor.evaluation import diagnostics as state
from advisor.evaluation.candidates import Candidate, computed, parse, skipped
from advisor.evaluation.defaults import default_candidates
from advisor.evaluation.inputs import Inputs, normalize
from advisor.evaluation.lints import lint
from advisor.evaluation.prepare import PrepareCache
from advisor.evaluation.runner import Block, weights_per_row
from advisor.schema.evaluation import (
    CandidateResult,
    Diagnostics,
    EvaluationReport,
    check_quantile_sample,
)
from advisor.vocabulary import Task, parse_task


def is_stream(predictions: Any, targets: Any) -> bool:
    """Whether ``evaluate`` was handed batches: an iterator (a generator) or a DataLoader, with no targets apart."""
    if targets is not None:
        return False
    if isinstance(predictions, Iterator):
        return True
    return type(predictions).__name__ == "DataLoader" and hasattr(predictions, "__iter__")


def _unpack(batch: Any, i: int) -> tuple[Any, Any, Any]:
    if isinstance(batch, dict):
        return batch.get("predictions"), batch.get("targets"), batch.get("sample_weight")
    if isinstance(batch, list | tuple) and len(batch) in (2, 3):
        return batch[0], batch[1], batch[2] if len(batch) == 3 else None
    raise InvalidInputError(
        "a batch is (predictions, targets) or (predictions, targets, sample_weight)",
        field=f"batches[{i}]",
        expected="a 2- or 3-tuple",
        got=type(batch).__name__,
    )


def _in_batch(exc: AdvisorError, i: int) -> InvalidInputError:
    return InvalidInputError(exc.message, field=f"batches[{i}].{exc.field}", expected=exc.expected, got=exc.got)


class _RowSample:
    """Up to ``size`` raw rows of every input, drawn as the quantile sample's slots are (the baselines' rows)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.seen = 0
        self.rows: list[torch.Tensor] | None = None
        self.generator = torch.Generator().manual_seed(state.SAMPLE_SEED + 1)

    def add(self, tensors: list[torch.Tensor]) -> None:
        n = int(tensors[0].shape[0])
        if self.rows is None or self.rows[0].shape[0] < self.size:  # still every row: grow, then thin to slots when full
            grown = list(tensors) if self.rows is None else [torch.cat([a, b]) for a, b in zip(self.rows, tensors, strict=True)]
            if grown[0].shape[0] > self.size:
                idx = torch.randint(grown[0].shape[0], (self.size,), generator=self.generator)
                grown = [g[idx.to(g.device)] for g in grown]
            elif self.rows is None:
                grown = [g.clone() for g in grown]  # the slots are written in place later: never the caller's rows
            self.rows = grown
        else:
            take, src = state.refresh(self.size, self.seen, n, self.generator)
            for kept, t in zip(self.rows, tensors, strict=True):
                kept[take.to(kept.device)] = t[src.to(t.device)]
        self.seen += n


def evaluate_stream(
    batches: Iterable[Any],
    candidates: Any = None,
    *,
    task: Task | str | None = None,
    device: str | torch.device = "auto",
    diagnostics: bool = True,
    quantile_sample: int | None = state.QUANTILE_SAMPLE,
) -> EvaluationReport:
    """``evaluate`` over batches of ``(predictions, targets[, sample_weight])`` (or dicts with those keys).

    Candidates default to the recommendation for the first batch. Lints read the first batch.
    A later batch that a candidate's checks refuse raises with the batch's index in the field
    path (``batches[3].targets``); a batch of a first-batch misfit is not read for it.
    """
    task = parse_task(task)
    if quantile_sample is None:
        raise InvalidInputError(
            "exact quantiles need every row at once; a stream keeps a sample of them",
            field="quantile_sample",
            expected="a positive number of rows",
            got=None,
        )
    quantile_sample = check_quantile_sample(quantile_sample)
    want_diag = diagnostics  # the flag; the module is ``state`` here
    cands: list[Candidate] = []
    results: dict[int, CandidateResult] = {}
    blocks: dict[tuple[str, tuple[int, ...]], Block] = {}
    saturated: dict[int, list[int]] = {}
    raw = _RowSample(baselines.SUBSAMPLE)
    lints: list = []
    first: Inputs | None = None
    n_rows = n_excluded = 0
    for i, batch in enumerate(batches):
        preds, targs, weights = _unpack(batch, i)
        try:
            inp = normalize(preds, targs, device=device, sample_weight=weights, text_labels=False)
        except AdvisorError as exc:
            raise _in_batch(exc, i) from None
        cache = PrepareCache(inp)
        if first is None:
            first = inp
            cands = parse(candidates if candidates is not None else default_candidates(inp, task, cache))
            lints = lint(inp, cands)
        n_rows += inp.n_rows
        n_excluded += inp.n_excluded
        groups: dict[tuple, plans.Group] = {}
        for cand in cands:
            if cand.index in results:
                continue
            try:
                tensors, params = cache.ready(cand.spec, cand.params)
            except InvalidInputError as exc:
                if i == 0:
                    results[cand.index] = skipped(cand, exc)
                    continue
                raise _in_batch(exc, i) from None
            why = _not_streamable(cand, tensors, params)
            routed = None if why else plans.route(cand, tensors, params)
            if routed is None and i > 0:
                raise InvalidInputError(
                    f"{cand.name} cannot take it as it took the first batch (other shapes or dtypes)", field=f"batches[{i}]"
                )
            if routed is None:
                why = why or "the kernels do not express it, and a loss evaluated on its own needs its whole input at once"
                results[cand.index] = skipped(cand, InvalidInputError(why, field="candidates"))
                continue
            kernel, member = routed
            plans.add(groups, kernel, member, tensors)
            if want_diag and kernel != "multiclass":  # the multiclass kernel counts its own
                lead = next(iter(tensors.values()))
                counts = state.saturation_counts(lead, state.link_of(cand, lead, tensors.get("target")))
                if counts is not None:
                    got = saturated.setdefault(cand.index, [0, 0])
                    got[0] += counts[0]
                    got[1] += counts[1]
        for group in groups.values():
            key = (group.kernel, tuple(m.cand.index for m in group.members))
            if key not in blocks and i > 0:
                raise InvalidInputError(
                    "its candidates fuse differently from the first batch's (other shapes or dtypes)",
                    field=f"batches[{i}]",
                )
            block = blocks.setdefault(key, Block(group.kernel, group.members, m=quantile_sample, diag=want_diag))
            try:
                block.update(group, weights_per_row(group, inp.sample_weight))
            except (RuntimeError, ValueError, IndexError, TypeError) as exc:
                raise InvalidInputError(
                    f"the fused kernel failed on it ({type(exc).__name__}: {exc})", field=f"batches[{i}]"
                ) from None
        if want_diag:
            raw.add([*inp.predictions, *inp.targets, *([inp.sample_weight] if inp.sample_weight is not None else [])])
    if first is None:
        raise InvalidInputError("the stream held no batch", field="batches", expected="at least one batch", got=0)
    outcomes = {}
    for block in blocks.values():
        outcomes.update(block.finish())
    base = _baselines(raw, first, cands, outcomes, device) if want_diag else {}
    for cand in cands:
        if cand.index in results:
            continue
        out = outcomes[cand.index]
        diag = None
        if want_diag:
            fields = dict(out.stats or {"n_samples": 0})
            if cand.index in saturated:
                hits, total = saturated[cand.index]
                fields["saturation"] = hits / total
            else:
                fields["saturation"] = out.saturation
            diag = Diagnostics(**fields, **baselines.scored(base.get(cand.index), out.mean))
        results[cand.index] = computed(cand, out, diag)
    return EvaluationReport(
        results=[results[c.index] for c in cands],
        lints=lints,
        n_samples=n_rows,
        device=str(first.device),
        dtype=str(first.float_dtype).replace("torch.", ""),
        n_excluded=n_excluded,
    )


def _not_streamable(cand: Candidate, tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> str | None:
    if cand.reduction == "none":
        return "reduction='none' returns every row's loss; a stream keeps none (evaluate the arrays whole)"
    if cand.name == "LogitAdjustedLoss" and params.get("class_priors") is None:
        return "its class priors come from all the targets, which a stream shows a batch at a time; give class_priors"
    return None


def _baselines(raw: _RowSample, first: Inputs, cands: list[Candidate], outcomes: dict[int, Any], device: Any) -> dict[int, tuple[str, float]]:
    """Each candidate's baseline (what, value) from the raw-row sample, evaluated as a request of its own."""
    from advisor.evaluation.engine import evaluate

    n_p, n_t = len(first.predictions), len(first.targets)
    preds = tuple(raw.rows[:n_p])
    targs = tuple(raw.rows[n_p : n_p + n_t])
    weight = raw.rows[n_p + n_t] if len(raw.rows) > n_p + n_t else None
    asked = [c for c in cands if c.index in outcomes]
    report = evaluate(
        preds[0] if n_p == 1 else preds,
        targs[0] if n_t == 1 else targs,
        [{"loss": c.name, "params": c.given} for c in asked],
        sample_weight=weight,
        device=device,
        quantile_sample=state.QUANTILE_SAMPLE,
    )
    out = {}
    for c, res in zip(asked, report.results, strict=True):
        d = res.diagnostics
        if d is not None and d.baseline is not None and d.baseline_value is not None:
            out[c.index] = (d.baseline, d.baseline_value)
    return out
