"""Turning features and targets into tensors a probe can train on, plus the fold assignment.

Features go through ``advisor.ingest.features`` once per fold: the medians, category lists
and standardisation a fold's probe sees come from that fold's training rows only, so no
held-out row shapes the inputs of the model scored on it. Rows whose target is missing are
left out of every fold, and text labels become indices through ``advisor.ingest.labels``,
the mapping the profile reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import KFold, StratifiedKFold

from advisor.errors import (
    DTypeError,
    InvalidInputError,
    NonFiniteError,
    ParameterError,
    ShapeMismatchError,
)
from advisor.ingest.features import FLOAT32_MAX, FeaturePreparer, read
from advisor.ingest.labels import ClassLabels
from advisor.ingest.targets import Cleaned, clean
from advisor.profiler.targets import MAD_TO_SIGMA
from advisor.schema.profile import FeaturePreparation
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
    x: torch.Tensor  # (F, n, d) standardised features, float32: fold f's preparation of every row
    y: torch.Tensor  # encoded targets: float (n,) or (n, L); long (n,) for multiclass
    y_metric: np.ndarray  # what the metrics compare against
    fold: torch.Tensor  # (n,) fold index of every row; -1: no fold holds it out
    task: Task
    n_outputs: int  # classes, labels, distribution width, or values per row (regression, counts)
    center: tuple[float, ...]  # regression and count targets: each output's median
    scale: tuple[float, ...]  # ... each output's robust scale, never 0
    log_mean: tuple[float, ...]  # ... log of each output's mean, for log-link heads
    classes: list[Any]
    preparation: FeaturePreparation  # what became of each feature column (all kept rows)
    standardised: list[tuple[np.ndarray, np.ndarray]]  # per fold: (mean, scale) of the features
    n_excluded: int = 0  # rows left out because their target is missing


def prepare(
    features: Any,
    targets: Any,
    task: Task,
    folds: int,
    seed: int,
    *,
    categorical: Sequence[str] | None = None,
    hold_out: bool = True,
    screen: bool = True,
) -> Prepared:
    """Features and targets of the rows whose target is present, encoded per fold.

    ``hold_out=False`` prepares one "fold" from every row and holds none out (``fold`` is -1),
    for a probe fitted on all the data. ``screen=False`` keeps every column (see
    ``advisor.ingest.features.read``).
    """
    c = clean(targets, "targets")
    table = read(features, c.n_total, categorical, screen=screen)
    if task not in SUPPORTED:
        raise ParameterError(
            f"validation trains row-wise probes; task {task.value!r} has no per-row target",
            field="task",
            expected=[t.value for t in SUPPORTED],
            got=task.value,
        )
    rows = np.flatnonzero(c.kept)
    n = rows.size
    if hold_out and (not isinstance(folds, int) or not 2 <= folds <= n):
        raise ParameterError(
            f"must be an integer in [2, {n}] (rows available)",
            field="folds",
            expected=f"[2, {n}]",
            got=folds,
        )
    encoded = _targets(c, task)
    fold = (
        _folds(encoded.y_metric, task, folds, seed)
        if hold_out
        else torch.full((n,), -1, dtype=torch.long)
    )
    x, standardised, preparation = _features(table, rows, fold.numpy(), folds if hold_out else 1)
    return Prepared(
        x,
        encoded.y,
        encoded.y_metric,
        fold,
        task,
        encoded.n_outputs,
        encoded.center,
        encoded.scale,
        encoded.log_mean,
        encoded.classes,
        preparation,
        standardised,
        c.n_missing,
    )


def _features(
    table: Any, rows: np.ndarray, fold: np.ndarray, folds: int
) -> tuple[torch.Tensor, list[tuple[np.ndarray, np.ndarray]], FeaturePreparation]:
    """(F, n, d) inputs: fold f's preparation, fitted on its training rows, of every kept row.

    Folds may prepare different numbers of columns (a category absent from a fold's training
    rows has no column there); narrower ones are padded with zeros, which a linear layer
    ignores.
    """
    matrices, standardised = [], []
    for f in range(folds):
        training = rows[fold != f]
        preparer = FeaturePreparer().fit(table, training)
        prepared = preparer.transform(table, rows).astype(np.float64)
        train_part = prepared[fold != f]
        mean, std = train_part.mean(axis=0), train_part.std(axis=0)
        scale = np.where(std > 0, std, 1.0)
        matrices.append(((prepared - mean) / scale).astype(np.float32))
        standardised.append((mean, scale))
    width = max(m.shape[1] for m in matrices)
    x = torch.zeros(folds, rows.size, width, dtype=torch.float32)
    for f, m in enumerate(matrices):
        x[f, :, : m.shape[1]] = torch.from_numpy(m)
    report = FeaturePreparer().fit(table, rows).report() if folds > 1 else preparer.report()
    return x, standardised, report


@dataclass(frozen=True)
class _Targets:
    y: torch.Tensor
    y_metric: np.ndarray
    n_outputs: int = 1
    classes: list[Any] | None = None
    center: tuple[float, ...] = (0.0,)
    scale: tuple[float, ...] = (1.0,)
    log_mean: tuple[float, ...] = (0.0,)


def _targets(c: Cleaned, task: Task) -> _Targets:
    n = c.values.shape[0]
    if task in (Task.REGRESSION, Task.COUNT):
        # one value per row, (n,); or several (an (n, L) matrix: multi-output regression)
        yv = _numeric(c, "targets").reshape(n, -1)
        if yv.shape[1] == 1:
            yv = yv.reshape(n)
        if task == Task.COUNT and (yv < 0).any():
            raise InvalidInputError(
                f"has {int((yv < 0).sum())} negative values; counts are >= 0 (use task='regression' "
                "for signed targets)",
                field="targets",
                expected=">= 0",
                got=float(yv.min()),
            )
        peak = float(np.abs(yv).max()) if yv.size else 0.0
        if peak > FLOAT32_MAX:  # the probes train in float32, where these become infinite
            raise NonFiniteError(
                f"holds {int(np.count_nonzero(np.abs(yv) > FLOAT32_MAX))} values beyond float32's range "
                f"(±{FLOAT32_MAX:.3g}), which the probes train in; rescale the target (a log, or a change of unit)",
                field="targets",
                expected=f"|values| <= {FLOAT32_MAX:.3g}",
                got=peak,
            )
        columns = yv.reshape(n, -1).T
        center = tuple(float(np.median(col)) for col in columns)
        scale = tuple(_robust_scale(col, mid) for col, mid in zip(columns, center, strict=True))
        return _Targets(
            torch.as_tensor(yv, dtype=torch.float32),
            yv,
            n_outputs=len(columns),
            center=center,
            scale=scale,
            log_mean=tuple(float(np.log(max(col.mean(), 1e-6))) for col in columns),
        )
    if task in (Task.BINARY, Task.MULTICLASS):
        if c.values.ndim == 2:  # one-hot rows
            codes = c.values.argmax(axis=1)
            classes = list(range(c.values.shape[1]))
        else:
            labels = ClassLabels.of(c.values)
            codes, classes = labels.encode(c.values), list(labels.classes)
        if task == Task.BINARY and len(classes) != 2:
            raise ShapeMismatchError(
                f"holds {len(classes)} classes; a binary task needs exactly 2",
                field="targets",
                expected=2,
                got=len(classes),
            )
        y_metric = codes.astype(np.int64)
        y = torch.as_tensor(y_metric, dtype=torch.float32 if task == Task.BINARY else torch.long)
        return _Targets(y, y_metric, n_outputs=len(classes), classes=classes)
    yv = _numeric(c, "targets")  # multilabel indicator matrix or distribution rows
    if yv.ndim != 2:
        raise ShapeMismatchError(
            "must be an (n, L) matrix", field="targets", expected="(n, L)", got=yv.shape
        )
    return _Targets(torch.as_tensor(yv, dtype=torch.float32), yv, n_outputs=yv.shape[1])


def _robust_scale(values: np.ndarray, center: float) -> float:
    """1.4826 · MAD (the standard deviation under normal errors), else the standard deviation, never 0."""
    mad = float(np.median(np.abs(values - center))) * MAD_TO_SIGMA
    return mad if mad > 0 else float(values.std()) or 1.0


def _numeric(c: Cleaned, field: str) -> np.ndarray:
    if c.kind == "string":
        raise DTypeError(
            "must be numeric for this task", field=field, expected="numbers", got="text"
        )
    return c.values.astype(np.float64)


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
