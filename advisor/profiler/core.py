"""``profile``: one pass from raw targets (and optional features, predictions) to a DataProfile.

Orchestration only: conversion, task rules and each family of statistics live in their own
modules so each can be tested on its own and the rules stay readable. A caller's stop
signal (``cancel``) is installed for the whole profile (``advisor.cancel``) and checked between
its sections, and inside the dear ones: reading the features, fitting the baselines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from advisor.cancel import cancellable, check
from advisor.errors import DTypeError, LabelOutOfRangeError
from advisor.ingest.labels import ClassLabels
from advisor.ingest.targets import Cleaned, clean
from advisor.profiler import classes, counts, integers, targets, task_rules
from advisor.profiler.features import feature_stats
from advisor.profiler.predictions import prediction_stats
from advisor.profiler.residuals import label_noise_stats, residual_stats
from advisor.schema.profile import (
    ClassStats,
    CountStats,
    DataProfile,
    DistributionStats,
    FeatureStats,
    MultilabelStats,
    PredictionStats,
    ResidualStats,
    TargetStats,
    TaskInference,
)
from advisor.vocabulary import Task, parse_task

CLASS_TASKS = (Task.BINARY, Task.MULTICLASS)
#: Outputs whose robust scales differ this much get a note: a squared error weighs them 9x apart
OUTPUT_SCALE_RATIO = 3.0


def profile(
    targets: Any,
    features: Any = None,
    predictions: Any = None,
    task: Task | str | None = None,
    categorical: Sequence[str] | None = None,
    *,
    cancel: Any = None,
) -> DataProfile:
    """Measure what loss choice depends on; ``task=`` overrides inference but not validation.

    ``features`` is any table (DataFrame, Arrow table, dict of columns, matrix); its text,
    category and boolean columns, and those ``categorical`` names, are one-hot encoded and
    missing cells imputed, as ``validate`` prepares them; ``profile.features.preparation``
    says what was done to each column.

    Raises ``advisor.errors.InvalidInputError`` subclasses (naming ``field``) for empty,
    all-missing, constant, 3-D, mixed-type or misaligned inputs, and ``ParameterError`` for
    an unknown ``task``.

    ``cancel`` (a ``threading.Event`` or a callable returning True) is checked between the
    expensive steps (each feature column read, each baseline's fold, the integer readings),
    so a profile of a million rows stops within a fraction of a second once it is set,
    raising ``advisor.errors.CancelledError`` (``advisor.cancel``).
    """
    hint = parse_task(task)
    with cancellable(cancel):
        check()
        c = clean(targets, "targets")
        # Values near float64's limits overflow in sums and squares; the statistics that do are
        # reported as unknown (None) by the modules, so numpy's warnings would only be noise.
        with np.errstate(all="ignore"):
            return _profile(c, hint, features, predictions, categorical)


def _profile(
    c: Cleaned,
    hint: Task | None,
    features: Any,
    predictions: Any,
    categorical: Sequence[str] | None,
) -> DataProfile:
    check()
    inference = task_rules.infer(c, hint)
    notes: list[str] = []
    found = x = positions = None
    if features is not None:
        found, x, positions = feature_stats(features, c.n_total, c.kept, categorical)
    held_out = None
    if hint is None and x is not None and c.kind == "numeric" and c.values.ndim == 1:
        inference, held_out = integers.decide(inference, c.values[positions], x)
    check()
    if inference.ambiguous and inference.runner_up is not None:
        notes.append(
            f"ambiguous: the integers read as a {inference.reading} ({inference.task.value}), but a "
            f"{inference.runner_up_reading} ({inference.runner_up.value}) is close; the recommendation "
            f"lists the losses of both readings, and task={inference.runner_up.value!r} settles it"
        )
    # an ambiguous inference measures the runner-up's sections too, so its losses can be ranked
    tasks = {inference.task, inference.runner_up} if inference.ambiguous else {inference.task}
    if c.n_missing:
        notes.append(
            f"{c.n_missing} of {c.n_total} target rows ({100 * c.n_missing / c.n_total:.1f}%) are missing "
            "and were excluded; drop or mask them before computing the loss"
        )
    tstats = _target_stats(c, inference.task)
    spread = _output_spread(tstats.output_scales)
    if spread is not None:
        notes.append(spread)
    cstats = _class_section(c, inference.task, notes)
    if cstats is None and Task.MULTICLASS in tasks:
        cstats = _class_section(c, Task.MULTICLASS, notes)
    mstats = dstats = None
    if inference.task == Task.MULTILABEL:
        if c.values.ndim == 2 and c.kind != "string":
            mstats = MultilabelStats(**classes.multilabel_stats(c.values))
        else:
            notes.append(
                "task=multilabel but targets are not a 2-D indicator matrix; label statistics skipped"
            )
    if inference.task == Task.DISTRIBUTION:
        if c.values.ndim == 2 and c.kind != "string":
            dstats = DistributionStats(**classes.distribution_stats(c.values))
        else:
            notes.append("task=distribution but targets are not 2-D rows of probabilities")
    count_section = None
    if (
        c.kind != "string"
        and tasks & {Task.COUNT, Task.REGRESSION}
        and counts.applies(c.values)
    ):
        count_section = CountStats(**counts.count_stats(c.values))
    if inference.task == Task.COUNT and count_section is None:
        notes.append(
            "task=count but targets are not non-negative integers; count statistics skipped"
        )
    fstats = rstats = None
    check()
    if found is not None:
        fstats = FeatureStats(**found)
        if inference.task in (Task.REGRESSION, Task.COUNT) and c.kind != "string" and c.values.ndim == 1:
            count = inference.task == Task.COUNT and count_section is not None
            measured = residual_stats(c.values[positions], x, count=count)
            rstats = ResidualStats(**measured) if measured is not None else None
        elif cstats is not None and cstats.encoding == "labels" and c.values.ndim == 1:
            codes = ClassLabels.of(c.values).encode(c.values)
            measured = label_noise_stats(codes[positions], x)
            rstats = ResidualStats(**measured) if measured is not None else None
    check()
    pstats = (
        PredictionStats(
            **prediction_stats(
                predictions, c.n_total, inference.task, shares=inference.reading == task_rules.PROPORTION
            )
        )
        if predictions is not None
        else None
    )
    if (cstats is not None and cstats.label_style in ("other", "string", "boolean")) or (
        cstats is not None
        and cstats.label_style == "plus_minus_one"
        and inference.task == Task.MULTICLASS
    ):
        notes.append(
            f"class labels {cstats.labels[:5]} are not indices 0..{cstats.n_classes - 1}; map them before "
            "CrossEntropyLoss/NLLLoss, which index by the target (guide 003, Inputs)"
        )
    if (
        cstats is not None
        and cstats.label_style == "plus_minus_one"
        and inference.task == Task.BINARY
    ):
        notes.append(
            "labels are {-1, 1}: HingeLoss/SoftMarginLoss take them as is; BCE losses need (y + 1) / 2"
        )
    return DataProfile(
        task=TaskInference(
            task=inference.task,
            confidence=inference.confidence,
            reason=inference.reason,
            runner_up=inference.runner_up,
            source="hint" if hint is not None else "rules",
            rule=inference.rule,
            reading=inference.reading,
            runner_up_reading=inference.runner_up_reading,
            ambiguous=inference.ambiguous,
            held_out=held_out,
            sklearn_type=task_rules.sklearn_type(c.values)
            if c.kind != "string" or c.values.ndim == 1
            else None,
        ),
        targets=tstats,
        counts=count_section,
        classes=cstats,
        multilabel=mstats,
        distribution=dstats,
        features=fstats,
        predictions=pstats,
        residuals=rstats,
        notes=notes,
    )


def _target_stats(c: Cleaned, task: Task) -> TargetStats:
    v = c.values
    n_distinct = int(np.unique(v.astype(str) if c.kind == "string" else v).size)
    base: dict[str, Any] = {
        "n": c.n_total,
        "n_missing": c.n_missing,
        "n_used": int(v.shape[0]),
        "shape": list(c.shape),
        "kind": c.kind,
        "n_distinct": n_distinct,
        "is_integer": False,
    }
    if c.kind == "string":
        if task not in (Task.BINARY, Task.MULTICLASS, Task.EMBEDDING, Task.SEQUENCE):
            raise DTypeError(
                f"text labels cannot be {task.value} targets",
                field="targets",
                expected="numbers",
                got="strings",
            )
        return TargetStats(**base)
    if n_distinct < 2:
        raise LabelOutOfRangeError(
            f"every row has the same value ({float(v.ravel()[0]):g}); no loss can learn from a constant target",
            field="targets",
            expected="at least two distinct values",
            got="constant",
        )
    base["is_integer"] = targets.is_integer_valued(v)
    base.update(targets.numeric_stats(v))
    return TargetStats(**base)


def _class_section(c: Cleaned, task: Task, notes: list[str]) -> ClassStats | None:
    if task not in CLASS_TASKS:
        return None
    v = c.values
    if v.ndim == 2:
        is_onehot = (
            c.kind != "string"
            and bool(np.isin(v, (0.0, 1.0)).all())
            and bool(np.all(v.sum(axis=1) == 1))
        )
        if not is_onehot:
            # The hint wins, but per-class counts of soft or multi-hot rows would be invented.
            notes.append(
                f"task={task.value} but targets are {list(v.shape)} rows that are not one-hot; "
                "class statistics skipped"
            )
            return None
    stats = classes.class_stats(v, c.kind)
    if task == Task.BINARY and stats["n_classes"] > 2:
        notes.append(
            f"task=binary but targets hold {stats['n_classes']} distinct values; threshold them to two "
            "classes first (class statistics skipped)"
        )
        return None
    return ClassStats(**stats)


def _output_spread(scales: list[float | None] | None) -> str | None:
    """Why outputs on different scales need standardising, or None.

    A loss averaged over the outputs weighs each by its scale (squared errors by its square),
    and Huber's delta or SmoothL1's beta is one number for all of them: from
    ``OUTPUT_SCALE_RATIO`` apart, the widest output decides the fit.
    """
    known = [(j, v) for j, v in enumerate(scales or []) if v is not None and v > 0]
    if len(known) < 2:
        return None
    (lo_j, lo), (hi_j, hi) = min(known, key=lambda jv: jv[1]), max(known, key=lambda jv: jv[1])
    if hi < OUTPUT_SCALE_RATIO * lo:
        return None
    ratio = hi / lo
    return (
        f"the {len(scales or [])} outputs' robust scales run from {lo:.4g} (column {lo_j}) to {hi:.4g} (column "
        f"{hi_j}), {ratio:.3g}×: a loss averaged over the outputs weighs column {hi_j}'s errors "
        f"{ratio * ratio:.3g}× column {lo_j}'s in squared error and {ratio:.3g}× in absolute error, and one "
        "Huber delta or SmoothL1 beta (the median scale) fits neither; standardise each output (minus its "
        "median, over its scale) before the loss, and undo it on the predictions"
    )
