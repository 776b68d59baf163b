"""What the model's outputs are: logits, probabilities, log-probabilities or hard labels.

This is what catches the guides' mistakes before they cost a training run: CrossEntropyLoss
fed softmax or sigmoid outputs (guide 002), NLLLoss fed raw scores (guide 003), BCELoss fed
logits. The format is read from the values: rows summing to 1 are softmax outputs, values in
[0, 1] sigmoid outputs, non-positive values whose rows log-sum-exp to 0 log-softmax outputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp

from advisor.errors import NonFiniteError, ShapeMismatchError
from advisor.ingest.targets import numeric_matrix
from advisor.vocabulary import Task

TOL = 1e-3
VALUE_TASKS = (Task.REGRESSION, Task.COUNT, Task.RANKING, Task.EMBEDDING)


def prediction_stats(
    predictions: Any, n_rows: int, task: Task, shares: bool = False
) -> dict[str, Any]:
    """Fields of ``PredictionStats``. ``shares``: the targets are read as a proportion, so a
    regression's 1-D predictions are shares (within [0, 1]) or logits (beyond), not values."""
    p = numeric_matrix(predictions, "predictions")
    if np.isnan(p).any():
        raise NonFiniteError(
            f"holds {int(np.isnan(p).sum())} NaN values; a model's outputs must be finite",
            field="predictions",
            expected="finite numbers",
            got="NaN",
        )
    if p.shape[0] != n_rows:
        raise ShapeMismatchError(
            f"has {p.shape[0]} rows but targets have {n_rows}",
            field="predictions",
            expected=n_rows,
            got=p.shape[0],
        )
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    lo, hi = float(p.min()), float(p.max())
    sums_to_one = bool(np.all(np.abs(p.sum(axis=1) - 1.0) <= TOL)) if p.ndim == 2 else None
    if shares and p.ndim == 1:
        fmt, enc = ("probabilities" if lo >= 0 and hi <= 1 else "logits"), "scores"
    else:
        fmt, enc = _format(p, lo, hi, sums_to_one, task)
    return {
        "shape": [int(s) for s in p.shape],
        "format": fmt,
        "encoding": enc,
        "min": lo,
        "max": hi,
        "rows_sum_to_one": sums_to_one,
    }


def _format(
    p: np.ndarray, lo: float, hi: float, sums_to_one: bool | None, task: Task
) -> tuple[str, str]:
    if task in VALUE_TASKS:
        return "values", "scores"
    integral = bool(np.all(np.mod(p, 1.0) == 0))
    if p.ndim == 1 and integral and task in (Task.MULTICLASS, Task.SEQUENCE) and lo >= 0 and hi > 1:
        return "labels", "index"
    if p.ndim == 2 and integral and sums_to_one and lo >= 0:
        return "labels", "one_hot"
    if lo >= 0 and hi <= 1:
        return "probabilities", "scores"
    if hi <= 0 and (p.ndim == 1 or np.all(np.abs(logsumexp(p, axis=1)) <= TOL)):
        return "log_probabilities", "scores"
    return "logits", "scores"
