"""Run the advice benchmark: per data set, the inferred task and top-1 loss against the
literature's, and the top-1 against the task's default loss on held-out rows.

The default loss is the one a user reaches for without advice: MSELoss for values and
counts, BCEWithLogitsLoss for two classes, CrossEntropyLoss for more. Both train the same
probe under ``advisor.validate`` (same folds, seed and epochs), and its paired t-test over
folds says whether the difference is more than fold noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from advisor.advice.datasets import CASES, AdviceCase

DEFAULT_LOSS = {"binary": "BCEWithLogitsLoss", "multiclass": "CrossEntropyLoss"}
EPOCHS = 60
MAX_FOLDS = 5


@dataclass(frozen=True)
class AdviceRow:
    name: str
    source: str
    n_rows: int
    expected_task: str
    task: str
    task_agrees: bool
    top1: str
    literature: tuple[str, ...]
    top1_agrees: bool
    default: str
    metric: str
    greater_is_better: bool
    top1_score: float | None
    default_score: float | None
    p_value: float | None
    verdict: str  # "same loss", "better", "tie", "worse", or why it was not validated
    citation: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run(
    cases: Sequence[AdviceCase] = CASES,
    *,
    epochs: int = EPOCHS,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[AdviceRow]:
    """One row per case, in order."""
    rows = []
    for i, case in enumerate(cases):
        if progress is not None:
            progress(i, len(cases), case.name)
        rows.append(_row(case, epochs, seed))
    if progress is not None:
        progress(len(cases), len(cases), "done")
    return rows


def _row(case: AdviceCase, epochs: int, seed: int) -> AdviceRow:
    import advisor

    features, target = case.load()
    rec = advisor.recommend(target, features=features)
    task = rec.profile.task.task.value
    top1 = rec.best.loss
    default = DEFAULT_LOSS.get(task, "MSELoss")
    n = rec.profile.targets.n_used
    folds = max(2, min(MAX_FOLDS, n // 10))
    candidates = [{"loss": top1, "params": rec.best.params}]
    if default != top1:
        candidates.append({"loss": default, "params": {}})
    report = advisor.validate(features, target, candidates, task=task, folds=folds, epochs=epochs, seed=seed)
    top_result = report.results[0]
    default_result = report.results[-1]
    metric = report.metric
    score = _score(top_result, metric)
    default_score = _score(default_result, metric)
    p_value, verdict = _verdict(report, top_result, default_result, default == top1)
    return AdviceRow(
        name=case.name,
        source=case.source,
        n_rows=n,
        expected_task=case.task,
        task=task,
        task_agrees=task == case.task,
        top1=top1,
        literature=case.losses,
        top1_agrees=top1 in case.losses,
        default=default,
        metric=metric,
        greater_is_better=report.greater_is_better,
        top1_score=score,
        default_score=default_score,
        p_value=p_value,
        verdict=verdict,
        citation=case.citation,
    )


def _score(result: Any, metric: str) -> float | None:
    value = result.mean.get(metric) if not result.skipped else None
    return None if value is None or not math.isfinite(value) else float(value)


def _verdict(report: Any, top: Any, default: Any, same: bool) -> tuple[float | None, str]:
    if same:
        return None, "same loss"
    for result in (top, default):
        if result.skipped:
            return None, f"not validated: {result.reason}"
    if not report.ranking:
        return None, "not validated: no candidate trained"
    # each result's paired comparison is against the best of the two
    if report.ranking[0] == top.label:
        paired, ahead = default.paired, "better"
    else:
        paired, ahead = top.paired, "worse"
    if paired is None:
        return None, ahead
    return paired.p_value, "tie" if paired.within_noise else ahead


def table(rows: Sequence[AdviceRow]) -> str:
    """A Markdown table with the agreement and tie rates under it."""
    head = (
        "| data set | rows | task (literature) | top-1 (literature) | default | held-out metric: top-1 / default "
        "| paired p | verdict |"
    )
    lines = [head, "|" + " --- |" * 8]
    for r in rows:
        task = r.task if r.task_agrees else f"**{r.task}** ({r.expected_task})"
        top = r.top1 if r.top1_agrees else f"**{r.top1}** ({', '.join(r.literature)})"
        arrow = "↑" if r.greater_is_better else "↓"
        scores = f"{r.metric} {arrow} {_fmt(r.top1_score)} / {_fmt(r.default_score)}"
        p = "" if r.p_value is None else f"{r.p_value:.2g}"
        lines.append(f"| {r.name} | {r.n_rows} | {task} | {top} | {r.default} | {scores} | {p} | {r.verdict} |")
    n = len(rows)
    tasks = sum(r.task_agrees for r in rows)
    tops = sum(r.top1_agrees for r in rows)
    holds = sum(r.verdict in ("same loss", "better", "tie") for r in rows)
    lines.append("")
    lines.append(
        f"Task agrees with the literature on {tasks}/{n}, top-1 on {tops}/{n}; the recommendation at least ties "
        f"the default loss on held-out rows on {holds}/{n}."
    )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
