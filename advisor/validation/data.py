"""Turning features and targets into tensors a probe can train on, plus the fold assignment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import KFold, StratifiedKFold

from advisor.errors import (
    DTypeError,
    EmptyInputError,
    InvalidInputError,
    NonFiniteError,
    ParameterError,
    ShapeMismatchError,
)
from advisor.vocabulary import Task

SUPPORTED = (
    Task.REGRESSION,
    Task.COUNT,
    Task.BINARY,
    Task.MULTICLASS,
    Task.MULTILABEL,
    Task.DISTRIBUTION,
)


@dataclass(frozen=True)
class Prepared:
    x: torch.Tensor  # (n, d) standardised features, float32
    y: torch.Tensor  # encoded targets: float (n,) or (n, L); long (n,) for multiclass
    y_metric: np.ndarray  # what the metrics compare against
    fold: torch.Tensor  # (n,) fold index of every row
    task: Task
    n_outputs: int  # classes, labels or distribution width; 1 for a single value
    center: float  # regression targets: median
    scale: float  # regression targets: robust scale, never 0
    log_mean: float  # log of the mean target, for log-link heads
    classes: list[Any]


def _as_array(value: Any, field: str) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "to_numpy"):
        value = value.to_numpy()
    array = np.asarray(value)
    if array.size == 0:
        raise EmptyInputError("is empty", field=field, expected="at least one row", got=array.shape)
    return array


def prepare(features: Any, targets: Any, task: Task, folds: int, seed: int) -> Prepared:
    x = _as_array(features, "features")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ShapeMismatchError(
            "must be a 2-D matrix", field="features", expected="(n, d)", got=x.shape
        )
    if x.dtype.kind not in "biuf":
        raise DTypeError("must be numeric", field="features", expected="numbers", got=str(x.dtype))
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise NonFiniteError(
            f"has {int((~np.isfinite(x)).sum())} missing or non-finite values; impute or drop them first",
            field="features",
            expected="finite values",
            got="non-finite",
        )
    y = _as_array(targets, "targets")
    if y.shape[0] != x.shape[0]:
        raise ShapeMismatchError(
            f"has {y.shape[0]} rows but features have {x.shape[0]}",
            field="targets",
            expected=x.shape[0],
            got=y.shape[0],
        )
    if task not in SUPPORTED:
        raise ParameterError(
            f"validation trains row-wise probes; task {task.value!r} has no per-row target",
            field="task",
            expected=[t.value for t in SUPPORTED],
            got=task.value,
        )
    n = x.shape[0]
    if not isinstance(folds, int) or not 2 <= folds <= n:
        raise ParameterError(
            f"must be an integer in [2, {n}] (rows available)",
            field="folds",
            expected=f"[2, {n}]",
            got=folds,
        )
    mean, std = x.mean(axis=0), x.std(axis=0)
    xs = torch.as_tensor((x - mean) / np.where(std > 0, std, 1.0), dtype=torch.float32)

    classes: list[Any] = []
    center, scale, log_mean, n_outputs = 0.0, 1.0, 0.0, 1
    if task in (Task.REGRESSION, Task.COUNT):
        yv = _numeric(y, "targets").reshape(n)
        if task == Task.COUNT and (yv < 0).any():
            raise InvalidInputError(
                f"has {int((yv < 0).sum())} negative values; counts are >= 0 (use task='regression' "
                "for signed targets)",
                field="targets",
                expected=">= 0",
                got=float(yv.min()),
            )
        center = float(np.median(yv))
        mad = float(np.median(np.abs(yv - center))) * 1.4826
        scale = mad if mad > 0 else float(yv.std()) or 1.0
        log_mean = float(np.log(max(yv.mean(), 1e-6)))
        y_tensor, y_metric = torch.as_tensor(yv, dtype=torch.float32), yv
    elif task in (Task.BINARY, Task.MULTICLASS):
        flat = y.reshape(n, -1)
        if flat.shape[1] > 1:  # one-hot rows
            codes = flat.argmax(axis=1)
            classes = list(range(flat.shape[1]))
        else:
            classes_arr, codes = np.unique(flat[:, 0], return_inverse=True)
            classes = classes_arr.tolist()
        if task == Task.BINARY and len(classes) != 2:
            raise ShapeMismatchError(
                f"holds {len(classes)} classes; a binary task needs exactly 2",
                field="targets",
                expected=2,
                got=len(classes),
            )
        n_outputs = len(classes)
        y_metric = codes.astype(np.int64)
        y_tensor = torch.as_tensor(
            y_metric, dtype=torch.float32 if task == Task.BINARY else torch.long
        )
    else:  # multilabel indicator matrix or distribution rows
        yv = _numeric(y, "targets")
        if yv.ndim != 2:
            raise ShapeMismatchError(
                "must be an (n, L) matrix", field="targets", expected="(n, L)", got=yv.shape
            )
        n_outputs = yv.shape[1]
        y_metric = yv
        y_tensor = torch.as_tensor(yv, dtype=torch.float32)
    return Prepared(
        xs,
        y_tensor,
        y_metric,
        _folds(y_metric, task, folds, seed),
        task,
        n_outputs,
        center,
        scale,
        log_mean,
        classes,
    )


def _numeric(y: np.ndarray, field: str) -> np.ndarray:
    if y.dtype.kind not in "biuf":
        raise DTypeError(
            "must be numeric for this task", field=field, expected="numbers", got=str(y.dtype)
        )
    yv = y.astype(np.float64)
    if not np.isfinite(yv).all():
        raise NonFiniteError(
            f"has {int((~np.isfinite(yv)).sum())} missing or non-finite values; drop those rows first",
            field=field,
            expected="finite values",
            got="non-finite",
        )
    return yv


def _folds(y: np.ndarray, task: Task, folds: int, seed: int) -> torch.Tensor:
    n = y.shape[0]
    index = np.zeros(n, dtype=np.int64)
    stratify = task in (Task.BINARY, Task.MULTICLASS) and np.bincount(y).min(initial=n) >= folds
    splitter = (
        StratifiedKFold(folds, shuffle=True, random_state=seed)
        if stratify
        else KFold(folds, shuffle=True, random_state=seed)
    )
    for f, (_, held_out) in enumerate(splitter.split(np.zeros((n, 1)), y if stratify else None)):
        index[held_out] = f
    return torch.as_tensor(index)
