"""Held-out metrics per task, all from scikit-learn, and which one ranks the candidates."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm

from advisor.errors import ParameterError
from advisor.vocabulary import Task

Metric = Callable[[np.ndarray, np.ndarray], float]
_EPS = 1e-7


def _labels(p: np.ndarray) -> np.ndarray:
    return (p >= 0.5).astype(int) if p.ndim == 1 else p.argmax(axis=1)


def _rows(p: np.ndarray) -> np.ndarray:
    """Probability rows that sum to one in float64 (float32 softmax rows miss by ~1e-7)."""
    q = np.clip(p, _EPS, 1.0)
    return q / q.sum(axis=1, keepdims=True)


def _poisson_deviance(y: np.ndarray, p: np.ndarray) -> float:
    # Identity-link losses can predict <= 0, where the Poisson deviance is undefined. Several
    # counts per row (scikit-learn takes one) are averaged over every entry.
    return float(skm.mean_poisson_deviance(y.ravel(), np.clip(p, _EPS, None).ravel()))


def _kl(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, _EPS, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y > 0, y * (np.log(np.clip(y, _EPS, None)) - np.log(q)), 0.0)
    return float(terms.sum(axis=1).mean())


# name -> (function of (y_true, prediction), greater is better)
METRICS: dict[Task, dict[str, tuple[Metric, bool]]] = {
    Task.REGRESSION: {
        "mae": (lambda y, p: float(skm.mean_absolute_error(y, p)), False),
        "rmse": (lambda y, p: float(np.sqrt(skm.mean_squared_error(y, p))), False),
        "median_ae": (lambda y, p: float(skm.median_absolute_error(y, p)), False),
        "r2": (lambda y, p: float(skm.r2_score(y, p)), True),
    },
    Task.COUNT: {
        "poisson_deviance": (_poisson_deviance, False),
        "mae": (lambda y, p: float(skm.mean_absolute_error(y, p)), False),
    },
    Task.BINARY: {
        "roc_auc": (
            lambda y, p: float(skm.roc_auc_score(y, p)) if len(np.unique(y)) > 1 else float("nan"),
            True,
        ),
        "log_loss": (
            lambda y, p: float(skm.log_loss(y, np.clip(p, _EPS, 1 - _EPS), labels=[0, 1])),
            False,
        ),
        "balanced_accuracy": (lambda y, p: float(skm.balanced_accuracy_score(y, _labels(p))), True),
        "f1": (lambda y, p: float(skm.f1_score(y, _labels(p), zero_division=0)), True),
        "brier": (lambda y, p: float(skm.brier_score_loss(y, p)), False),
    },
    Task.MULTICLASS: {
        "accuracy": (lambda y, p: float(skm.accuracy_score(y, _labels(p))), True),
        "balanced_accuracy": (lambda y, p: float(skm.balanced_accuracy_score(y, _labels(p))), True),
        "macro_f1": (
            lambda y, p: float(skm.f1_score(y, _labels(p), average="macro", zero_division=0)),
            True,
        ),
        "log_loss": (
            lambda y, p: float(skm.log_loss(y, _rows(p), labels=np.arange(p.shape[1]))),
            False,
        ),
    },
    Task.MULTILABEL: {
        "micro_f1": (
            lambda y, p: float(skm.f1_score(y, p >= 0.5, average="micro", zero_division=0)),
            True,
        ),
        "macro_f1": (
            lambda y, p: float(skm.f1_score(y, p >= 0.5, average="macro", zero_division=0)),
            True,
        ),
        "hamming": (lambda y, p: float(skm.hamming_loss(y, p >= 0.5)), False),
    },
    Task.DISTRIBUTION: {"kl": (_kl, False)},
}

PRIMARY = {
    Task.REGRESSION: "mae",
    Task.COUNT: "poisson_deviance",
    Task.BINARY: "roc_auc",
    Task.MULTICLASS: "accuracy",
    Task.MULTILABEL: "micro_f1",
    Task.DISTRIBUTION: "kl",
}


def primary_metric(task: Task, metric: str | None) -> tuple[str, bool]:
    """The metric that ranks candidates, and whether higher is better."""
    table = METRICS[task]
    name = metric or PRIMARY[task]
    if name not in table:
        raise ParameterError(
            f"metric {name!r} is not computed for {task.value}; choose one of {', '.join(table)}",
            field="metric",
            expected=list(table),
            got=name,
        )
    return name, table[name][1]


def score(task: Task, y: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    return {name: fn(y, prediction) for name, (fn, _) in METRICS[task].items()}
