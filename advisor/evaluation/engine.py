"""``evaluate``: validate the request, fuse what fuses, run the rest through the catalog, report.

Order of work: request-level checks (raise) -> candidates parsed (raise on unknown names and
bad params) -> lints -> per candidate, inputs prepared and checked (a misfit is *skipped* with
the reason) -> fused groups and reference calls -> diagnostics -> report in the caller's order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from advisor.cancel import cancellable
from advisor.errors import InvalidInputError
from advisor.evaluation import baselines, diagnostics, dispatch, plans
from advisor.evaluation.candidates import Candidate, computed, parse, skipped
from advisor.evaluation.defaults import default_candidates
from advisor.evaluation.diagnostics import QUANTILE_SAMPLE
from advisor.evaluation.inputs import Inputs, normalize
from advisor.evaluation.lints import lint
from advisor.evaluation.prepare import PrepareCache
from advisor.evaluation.reference import run_reference
from advisor.evaluation.runner import Outcome, run_group
from advisor.evaluation.stream import evaluate_stream, is_stream
from advisor.schema.evaluation import (
    CandidateResult,
    Diagnostics,
    EvaluationReport,
    check_quantile_sample,
)
from advisor.vocabulary import Task, parse_task

log = logging.getLogger("advisor.evaluation")


@dataclass
class _Prepared:
    """A candidate that passed its checks: its tensors, params and where it runs (no kernel: the catalog)."""

    cand: Candidate
    tensors: dict[str, torch.Tensor]
    params: dict[str, Any]
    kernel: str | None = None
    member: plans.Member | None = None


def evaluate(
    predictions: Any,
    targets: Any = None,
    candidates: Sequence[Any] | None = None,
    *,
    task: Task | str | None = None,
    sample_weight: Any = None,
    device: str | torch.device = "auto",
    diagnostics: bool = True,
    quantile_sample: int | None = QUANTILE_SAMPLE,
    cancel: Any = None,
) -> EvaluationReport:
    """Evaluate candidate losses on (predictions, targets) in one pass per input convention.

    ``candidates``: names or ``{"loss": name, "params": {...}}``; None evaluates the defaults
    (``advisor.evaluation.defaults.default_candidates``). ``predictions`` may be a tuple for
    pair/triplet losses, ``targets`` a tuple for CTC (labels, input lengths, target lengths).
    ``sample_weight`` (one per row) turns every mean into a sample-weighted mean.
    ``result.value`` equals ``torch.nn.<Name>(**params)(*inputs)`` with the candidate's own
    reduction when no sample weights are given. ``predictions`` may also be a stream of
    batches with no ``targets``: an iterator or a DataLoader of ``(predictions, targets[,
    sample_weight])`` (``advisor.evaluation.stream``), evaluated in one pass with bounded memory.

    ``quantile_sample``: rows of the seeded uniform sample that the loss quantiles and the
    top-1% gradient share's threshold are read from (``advisor.evaluation.diagnostics``: each
    quantile's rank within ±0.53 percentage points at the default 65,536, with 95%
    confidence, as ``Diagnostics.quantile_rank_error`` reports); exact where the data have no
    more rows. None asks for exact order statistics at any size: every per-sample row is
    written, memory linear in N, and slower. Every other diagnostic is exact either way.

    ``cancel`` (a ``threading.Event`` or a callable returning True) is checked before every
    kernel call, so a large evaluation stops within a chunk once it is set, raising
    ``advisor.errors.CancelledError``.
    """
    with cancellable(cancel), dispatch.request():
        if is_stream(predictions, targets):
            return evaluate_stream(
                predictions, candidates, task=task, device=device, diagnostics=diagnostics, quantile_sample=quantile_sample
            )
        task = parse_task(task)
        quantile_sample = check_quantile_sample(quantile_sample)
        inp = normalize(predictions, targets, device=device, sample_weight=sample_weight)
        cache = PrepareCache(inp)
        if candidates is None:
            candidates = default_candidates(inp, task, cache)
        cands = parse(candidates)
        lints = lint(inp, cands)
        results: dict[int, CandidateResult] = {}
        ready: list[_Prepared] = []
        for cand in cands:
            try:
                tensors, params = cache.ready(cand.spec, cand.params)
            except InvalidInputError as exc:
                results[cand.index] = skipped(cand, exc)
                continue
            ready.append(_Prepared(cand, tensors, params, *(plans.route(cand, tensors, params) or ())))

        outcomes = _run(ready, inp, diagnostics, quantile_sample)
        memo: dict[tuple[Any, ...], Any] = {}
        if diagnostics:
            _fused_baselines(ready, outcomes, memo)
        for p in ready:
            out = outcomes[p.cand.index]
            if isinstance(out, InvalidInputError):
                results[p.cand.index] = skipped(p.cand, out)
            else:
                results[p.cand.index] = computed(p.cand, out, _diagnostics(p, out, memo, quantile_sample) if diagnostics else None)
        return EvaluationReport(
            results=[results[c.index] for c in cands],
            lints=lints,
            n_samples=inp.n_rows,
            device=str(inp.device),
            dtype=str(inp.float_dtype).replace("torch.", ""),
            classes=list(inp.classes) if inp.classes is not None else None,
            n_excluded=inp.n_excluded,
        )


def _run(ready: list[_Prepared], inp: Inputs, diag: bool, quantile_sample: int | None) -> dict[int, Outcome | InvalidInputError]:
    groups: dict[tuple[Any, ...], plans.Group] = {}
    for p in ready:
        if p.kernel is not None:
            plans.add(groups, p.kernel, p.member, p.tensors)
    outcomes: dict[int, Outcome | InvalidInputError] = {}
    for group in groups.values():
        done = run_group(group, inp.sample_weight, diag=diag, quantile_sample=quantile_sample)
        if done is not None:
            outcomes.update(done)
    for p in ready:
        if p.cand.index not in outcomes:
            p.kernel = None
            try:
                outcomes[p.cand.index] = run_reference(p.cand, p.tensors, p.params, inp.sample_weight, diag=diag)
            except InvalidInputError as exc:  # the data fit the loss, but not the way it is weighted
                outcomes[p.cand.index] = exc
            except (RuntimeError, ValueError, IndexError, TypeError) as exc:
                # torch refused inputs that the loss's checks let through: that candidate is
                # skipped with torch's reason, the others still compute (and the gap is logged)
                log.warning("%s failed on inputs its checks accepted", p.cand.name, exc_info=True)
                outcomes[p.cand.index] = InvalidInputError(
                    f"the loss cannot be computed on these inputs ({type(exc).__name__}: {exc})", field="predictions"
                )
    return outcomes


def _fused_baselines(ready: list[_Prepared], outcomes: dict[int, Any], memo: dict) -> None:
    """The skill scores' baseline losses of fused candidates, through the fused kernels.

    A baseline is the candidate's loss at a constant prediction; candidates whose constants
    coincide (every cross-entropy variant at the class prior) form one group again and take
    one pass over the baseline's rows, where the catalog would run each loss on its own
    (torch's label-smoothed, weighted cross-entropy alone costs more than the whole fused
    group). Class-index targets at the class prior take one row per target value, weighted by
    its count (``baselines.class_rows``): the mean over every row, for a few dozen rows' work.
    Results land in ``memo`` under ("baseline", index); a candidate whose baseline does not
    fuse is left to ``baselines.baseline`` in ``_diagnostics``.
    """
    # by key: the group, the baseline's description, its constant rows, the rows' weights
    groups: dict[tuple[Any, ...], tuple[plans.Group, str, torch.Tensor, torch.Tensor | None]] = {}
    baselines.prime([(p.cand.spec, p.tensors, p.params) for p in ready if p.kernel is not None], memo)
    for p in ready:
        if p.kernel is None or isinstance(outcomes.get(p.cand.index), InvalidInputError):
            continue
        rows = baselines.class_rows(p.cand.spec, p.tensors, p.params, memo) if p.kernel in ("multiclass", "log_probs") else None
        if rows is not None:
            # every row, one per target value: the member routed on the request's own inputs
            # serves (its logit offsets come from all the targets, as the candidate's do)
            what, inputs, counts = rows
            member = p.member
            key = (p.kernel, what, "rows", id(p.tensors["target"]), p.params.get("ignore_index"), inputs["input"][0].cpu().double().numpy().tobytes())
            if key not in groups:
                groups[key] = (plans.Group(p.kernel, inputs["input"], inputs["target"], 1), what, inputs["input"], counts)
        else:
            made = baselines.evaluation_inputs(p.cand.spec, p.tensors, p.params, memo)
            if made is None:
                continue
            what, inputs = made
            x = inputs["input"]
            constant = x.reshape(x.shape[0], -1)[0] if x.dim() else x
            key = (p.kernel, what, id(p.tensors["target"]), constant.cpu().double().numpy().tobytes())  # exact for every float dtype
            if key in groups:  # the group's contiguous copy of the constant rows serves this one too
                inputs = {**inputs, "input": groups[key][2]}
            routed = plans.route(p.cand, inputs, p.params)
            if routed is None or routed[0] != p.kernel:
                continue
            member = routed[1]
            if key not in groups:
                x = x.contiguous()  # the layout the compiled kernels were traced on, not a stride-0 view
                groups[key] = (plans.Group(p.kernel, *plans.group_inputs(p.kernel, {**inputs, "input": x})), what, x, None)
        groups[key][0].members.append(member)
    for group, what, _, counts in groups.values():
        done = run_group(group, counts, diag=False, means_only=True)
        if done is None:
            continue
        for m in group.members:
            memo["baseline", m.cand.index] = (what, done[m.cand.index].mean)


def _diagnostics(p: _Prepared, out: Outcome, memo: dict, quantile_sample: int | None) -> Diagnostics:
    """One candidate's diagnostics; ``memo`` is the request's memo (saturation, baseline constants)."""
    if out.stats is not None:
        fields = dict(out.stats)
    elif out.losses is not None:
        fields = diagnostics.rows_diagnostics(out.losses, out.grads, quantile_sample)
    else:
        fields = {"n_samples": 0}
    x = next(iter(p.tensors.values()))
    y = p.tensors.get("target")
    link = diagnostics.link_of(p.cand, x, y)
    if out.saturation is not None and link == "softmax":  # the kernel counted it on the way
        memo[id(x), link] = out.saturation
    if (id(x), link) not in memo:  # candidates of one group read the same tensor
        memo[id(x), link] = diagnostics.saturation(x, link)
    fields["saturation"] = memo[id(x), link]
    base = memo.get(("baseline", p.cand.index)) or baselines.baseline(p.cand.spec, p.tensors, p.params, memo)
    return Diagnostics(**fields, **baselines.scored(base, out.mean))
