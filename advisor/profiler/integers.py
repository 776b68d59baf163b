"""Integer semantics: are integer targets class indices, an ordinal code, counts or a measurement?

The task rules (``task_rules``) read the codes alone: their contiguity (0..C-1 against
gaps), the range against the number of distinct values, the shape of their frequencies,
the right skew a count of their mean and variance would show, and whether they keep clear
of zero (which rules the count reading out, whatever a model fits). That already gives a reading and a runner-up, but it cannot tell class indices whose
frequencies fall like a count's from counts, nor an ordinal scale from classes. When features
are given, the features settle it: ``residuals.reading_fits`` cross-fits one quick model per
reading and scores the same integers under each, out of fold. The reading with the higher
log-likelihood per row wins when the paired per-row differences put it ``Z_CLEAR`` standard
errors ahead of the next; the confidence is the normal probability of that lead. Otherwise
the rules' reading stands and the inference is marked ambiguous, with the closest other
reading as the runner-up, so the recommendation lists the runner-up's losses as well.
The fits check the caller's stop signal before each fold (``residuals``, ``advisor.cancel``).

An ordinal code (a few contiguous codes) is read as classes with an order: its task is
multiclass and its runner-up a regression, and it is always ambiguous, because cross-entropy
(which ignores the order) and a regression loss (which uses it) are both defensible.
"""

from __future__ import annotations

from dataclasses import replace
from math import erf, sqrt

import numpy as np

from advisor.profiler.residuals import reading_fits
from advisor.profiler.task_rules import (
    CLASS_INDEX,
    COUNT_READING,
    MAX_ARBITRARY_CLASSES,
    MAX_CONTIGUOUS_CLASSES,
    MEASURED,
    ORDINAL,
    Inference,
)
from advisor.vocabulary import Task

Z_CLEAR = 2.0  # standard errors of the per-row log-likelihood lead that settle a reading
MAX_CONFIDENCE = 0.99
AMBIGUOUS_CONFIDENCE = 0.6

TASK_OF = {
    CLASS_INDEX: Task.MULTICLASS,
    ORDINAL: Task.MULTICLASS,
    COUNT_READING: Task.COUNT,
    MEASURED: Task.REGRESSION,
}


def decide(
    inference: Inference, y: np.ndarray, x: np.ndarray, seed: int = 0
) -> tuple[Inference, dict[str, float] | None]:
    """The rules' ``inference`` of 1-D integer targets ``y``, revised by which reading a quick
    model of the features ``x`` fits better on held-out rows; and the held-out fits per reading
    (mean log-likelihood per row), None when they could not be measured."""
    if inference.reading not in TASK_OF or y.ndim != 1:  # no reading, or not of integers
        return inference, None
    codes = np.unique(y)
    readings = [MEASURED]
    if codes[0] >= 0 and COUNT_READING not in inference.ruled_out:
        readings.append(COUNT_READING)
    if codes.size <= MAX_CONTIGUOUS_CLASSES:
        readings.append(CLASS_INDEX)
    fits = reading_fits(y, x, tuple(readings), seed)
    if not fits or len(fits) < 2:
        return inference, None
    means = {name: float(ll.mean()) for name, ll in fits.items()}
    order = sorted(fits, key=lambda name: -means[name])
    best, second = order[0], order[1]
    diff = fits[best] - fits[second]
    se = float(diff.std(ddof=1)) / sqrt(diff.size) if diff.size > 1 else 0.0
    z = float(diff.mean()) / se if se > 0 else (np.inf if diff.mean() > 0 else 0.0)
    said = (
        f"; on held-out rows a quick model of the features fits the integers best as a {best} "
        f"({means[best]:.3f} nats per row against {means[second]:.3f} as a {second}, "
        f"{z:.1f} standard errors apart)"
    )
    contiguous = codes.size == int(codes[-1] - codes[0]) + 1
    few_codes = contiguous and codes.size <= MAX_ARBITRARY_CLASSES and codes[0] in (0, 1)
    if z >= Z_CLEAR:
        confidence = min(MAX_CONFIDENCE, 0.5 * (1.0 + erf(z / sqrt(2.0))))
        reading, runner = best, second
        if best == MEASURED and few_codes:
            reading, runner = ORDINAL, MEASURED
        elif best == CLASS_INDEX and inference.reading == ORDINAL:
            reading = ORDINAL
            runner = MEASURED if runner == CLASS_INDEX else runner
        ambiguous = reading == ORDINAL
        if ambiguous:
            confidence = min(confidence, AMBIGUOUS_CONFIDENCE)
    else:
        reading = inference.reading
        runner = second if best == _plain(reading) else best
        ambiguous = True
        confidence = min(inference.confidence, AMBIGUOUS_CONFIDENCE)
        said += ": too close to settle, so the codes' own reading stands"
    task = TASK_OF[reading]
    runner_task = TASK_OF[runner] if runner is not None else None
    if runner_task == task:
        runner_task = Task.REGRESSION if task == Task.MULTICLASS else None
    changed = reading != inference.reading
    return replace(
        inference,
        task=task,
        confidence=round(confidence, 4),
        reason=(f"read as a {reading}" + said + f"; the codes alone: {inference.reason}")
        if changed
        else inference.reason + said,
        rule="held-out" if changed else inference.rule,
        runner_up=runner_task,
        reading=reading,
        runner_up_reading=runner,
        ambiguous=ambiguous,
    ), means


def _plain(reading: str) -> str:
    """The reading a held-out fit scores: an ordinal code is fitted as classes."""
    return CLASS_INDEX if reading == ORDINAL else reading
