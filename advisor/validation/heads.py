"""Output heads: how a probe's raw outputs become each loss's inputs and the task's predictions.

A probe emits ``width`` raw numbers per row. The head turns them into what the loss's input
convention expects (logits stay logits, log-links stay logs, NLLLoss gets log-probabilities)
and into what the task's metrics read (a value, a probability vector, an indicator matrix).
Losses whose inputs are not one row to one target (pairs, triplets, CTC) have no head and
are reported as skipped, not silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from advisor import losses
from advisor.vocabulary import Task

# Per-sample loss: (raw outputs (R, width), encoded targets (R, ...), params) -> (R,)
SHARE_FLOOR = 1e-3  # a median share at 0 or 1 starts the logit at ±6.9, not at infinity
PerSample = Callable[[torch.Tensor, torch.Tensor, dict[str, Any]], torch.Tensor]


@dataclass(frozen=True)
class Head:
    width: int
    per_sample: PerSample
    # raw outputs (R, width) -> predictions in the task's metric space
    predict: Callable[[torch.Tensor], torch.Tensor]
    # Where raw probe outputs start: "center" puts the first ``value_columns`` in target units
    # (center + scale · raw), "log_mean" offsets a log-link by log(mean y), "logit_center" a
    # logit by the logit of the median share, "zero" leaves them.
    # Probes then learn standardised quantities whatever the target's units.
    init: str = "zero"
    value_columns: int = 1
    # GaussianNLL's columns after the values are log-variances, offset by log(scale²).
    log_variance_column: bool = False

    def affine(
        self, center: Sequence[float], scale: Sequence[float], log_mean: Sequence[float]
    ) -> tuple[list[float], list[float]]:
        """Per-column (shift, multiplier) from raw outputs to the loss's input. The statistics
        are per target output; value column i reads output i modulo their number (several
        quantiles of one output all read it)."""
        shift, mult = [0.0] * self.width, [1.0] * self.width
        outputs = len(center)
        for i in range(self.value_columns):
            j = i % outputs
            if self.init == "center":
                shift[i], mult[i] = center[j], scale[j]
            elif self.init == "log_mean":
                shift[i] = log_mean[j]
            elif self.init == "logit_center":
                share = min(max(center[j], SHARE_FLOOR), 1.0 - SHARE_FLOOR)
                shift[i] = math.log(share / (1.0 - share))
        if self.log_variance_column:
            for j in range(outputs):
                shift[self.value_columns + j] = 2.0 * math.log(scale[j])
        return shift, mult


def _rowwise(loss: torch.Tensor) -> torch.Tensor:
    """Per-row loss from a reduction='none' result of any trailing shape."""
    return loss.reshape(loss.shape[0], -1).mean(dim=1) if loss.dim() > 1 else loss


def _call(name: str, *inputs: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
    return losses.get(name).fn(*inputs, **{**params, "reduction": "none"})


def _values(out: torch.Tensor, outputs: int) -> torch.Tensor:
    """The first ``outputs`` raw columns as the loss reads them: (R,) for one value per row,
    (R, L) for several (multi-output regression), matching the targets' shape."""
    return out[:, 0] if outputs == 1 else out[:, :outputs]


def _elementwise(name: str, outputs: int, link: Callable[[torch.Tensor], torch.Tensor] | None, init: str) -> Head:
    """One column per target output, through ``link`` (None: as it is) into the loss and into
    the prediction; a row's loss is the mean over its outputs."""
    def to_input(out: torch.Tensor) -> torch.Tensor:
        values = _values(out, outputs)
        return values if link is None else link(values)

    return Head(
        width=outputs,
        per_sample=lambda out, y, p: _rowwise(_call(name, to_input(out), y, params=p)),
        predict=to_input,
        init=init,
        value_columns=outputs,
    )


def _regression(name: str, outputs: int) -> Head:
    return _elementwise(name, outputs, None, "center")


def _quantiles(params: dict[str, Any], outputs: int) -> Head | None:
    qs = list(params.get("quantiles", [0.5]))
    median = min(range(len(qs)), key=lambda i: abs(qs[i] - 0.5))
    if len(qs) == 1:
        return _regression("QuantileLoss", outputs)
    if outputs > 1:  # QuantileLoss reads several levels as columns of one output
        return None
    return Head(
        width=len(qs),
        per_sample=lambda out, y, p: _rowwise(_call("QuantileLoss", out, y, params=p)),
        predict=lambda out: out[:, median],
        init="center",
        value_columns=len(qs),
    )


def _gaussian(outputs: int) -> Head:
    def per_sample(out: torch.Tensor, y: torch.Tensor, p: dict[str, Any]) -> torch.Tensor:
        mean, log_var = _values(out, outputs), _values(out[:, outputs:], outputs)
        return _rowwise(_call("GaussianNLLLoss", mean, y, torch.exp(log_var.clamp(-30.0, 30.0)), params=p))

    return Head(
        width=2 * outputs,
        per_sample=per_sample,
        predict=lambda out: _values(out, outputs),
        init="center",
        value_columns=outputs,
        log_variance_column=True,
    )


def _log_link(name: str, outputs: int) -> Head:
    head = _elementwise(name, outputs, None, "log_mean")
    return replace(head, predict=lambda out: torch.exp(_values(out, outputs).clamp(max=30.0)))


def _poisson(params: dict[str, Any], outputs: int) -> Head:
    if params.get("log_input", True):
        return _log_link("PoissonNLLLoss", outputs)
    # The rate itself is the input: keep it positive with softplus.
    return _elementwise("PoissonNLLLoss", outputs, F.softplus, "zero")


def _shares(name: str, outputs: int) -> Head:
    """A sigmoid loss on regression targets in [0, 1] (shares): one logit per output, the soft
    target as it is, and the sigmoid of the logit as the predicted share (which BCELoss
    takes instead of the logit)."""

    def per_sample(out: torch.Tensor, y: torch.Tensor, p: dict[str, Any]) -> torch.Tensor:
        z = _values(out, outputs)
        return _rowwise(_call(name, torch.sigmoid(z).clamp(1e-7, 1 - 1e-7) if name == "BCELoss" else z, y, params=p))

    return Head(
        width=outputs,
        per_sample=per_sample,
        predict=lambda out: torch.sigmoid(_values(out, outputs)),
        init="logit_center",
        value_columns=outputs,
    )


def _binary(
    name: str, transform: Callable[[torch.Tensor], torch.Tensor] | None = None, pm1: bool = False
) -> Head:
    def per_sample(out: torch.Tensor, y: torch.Tensor, p: dict[str, Any]) -> torch.Tensor:
        score = out[:, 0] if transform is None else transform(out[:, 0])
        target = 2.0 * y - 1.0 if pm1 else y
        return _call(name, score, target, params=p)

    return Head(width=1, per_sample=per_sample, predict=lambda out: torch.sigmoid(out[:, 0]))


def _multilabel(name: str, n: int) -> Head:
    return Head(
        width=n,
        per_sample=lambda out, y, p: _rowwise(_call(name, out, y, params=p)),
        predict=torch.sigmoid,
    )


def _multiclass(name: str, n: int, log_softmax: bool = False) -> Head:
    def per_sample(out: torch.Tensor, y: torch.Tensor, p: dict[str, Any]) -> torch.Tensor:
        scores = F.log_softmax(out, dim=1) if log_softmax else out
        return _call(name, scores, y, params=p)

    return Head(width=n, per_sample=per_sample, predict=lambda out: F.softmax(out, dim=1))


def _distribution(name: str, n: int) -> Head:
    def per_sample(out: torch.Tensor, y: torch.Tensor, p: dict[str, Any]) -> torch.Tensor:
        if name == "KLDivLoss":
            return _call(name, F.log_softmax(out, dim=1), y, params={**p, "log_target": False}).sum(
                dim=1
            )
        return _call(name, out, y, params=p)

    return Head(width=n, per_sample=per_sample, predict=lambda out: F.softmax(out, dim=1))


REGRESSION_LOSSES = (
    "L1Loss",
    "MSELoss",
    "HuberLoss",
    "SmoothL1Loss",
    "LogCoshLoss",
    "AdaptiveRobustLoss",
)
LOG_LINK_LOSSES = ("TweedieLoss", "NegativeBinomialNLLLoss")
SHARE_LOSSES = ("BCEWithLogitsLoss", "BCELoss")  # soft targets in [0, 1]
BINARY_LOGIT_LOSSES = ("BCEWithLogitsLoss", "FocalLoss", "ClassBalancedLoss")
MULTICLASS_LOGIT_LOSSES = (
    "CrossEntropyLoss", "FocalLoss", "ClassBalancedLoss", "LogitAdjustedLoss", "MultiMarginLoss",
)  # fmt: skip
MULTILABEL_LOSSES = ("BCEWithLogitsLoss", "MultiLabelSoftMarginLoss", "FocalLoss", "DiceLoss")


def head_for(name: str, params: dict[str, Any], task: Task, n_outputs: int) -> Head | None:
    """The head for ``name`` on ``task``, or None when the loss cannot train a row-wise probe."""
    if task in (Task.REGRESSION, Task.COUNT):  # n_outputs: values per row
        if name in REGRESSION_LOSSES:
            return _regression(name, n_outputs)
        if name == "QuantileLoss":
            return _quantiles(params, n_outputs)
        if name == "GaussianNLLLoss":
            return _gaussian(n_outputs)
        if name == "PoissonNLLLoss":
            return _poisson(params, n_outputs)
        if name in LOG_LINK_LOSSES:
            return _log_link(name, n_outputs)
        if name in SHARE_LOSSES and task == Task.REGRESSION:
            return _shares(name, n_outputs)
        return None
    if task == Task.BINARY:
        if name in BINARY_LOGIT_LOSSES:
            return _binary(name)
        if name == "BCELoss":
            return _binary(name, transform=lambda z: torch.sigmoid(z).clamp(1e-7, 1 - 1e-7))
        if name in ("SoftMarginLoss", "HingeLoss"):
            return _binary(name, pm1=True)
        if name in MULTICLASS_LOGIT_LOSSES or name == "NLLLoss":
            return _two_class(name)
        return None
    if task == Task.MULTICLASS:
        if name in MULTICLASS_LOGIT_LOSSES:
            return _multiclass(name, n_outputs)
        if name == "NLLLoss":
            return _multiclass(name, n_outputs, log_softmax=True)
        return None
    if task == Task.MULTILABEL:
        return _multilabel(name, n_outputs) if name in MULTILABEL_LOSSES else None
    if task == Task.DISTRIBUTION and name in ("KLDivLoss", "CrossEntropyLoss"):
        return _distribution(name, n_outputs)
    return None


def target_misfit(name: str, params: dict[str, Any], task: Task, y: np.ndarray) -> str | None:
    """Why ``name`` cannot train on the regression or count targets ``y``, or None: a share loss
    needs targets in [0, 1]; QuantileLoss reads several levels as the columns of one output."""
    outputs = y.shape[1] if y.ndim == 2 else 1
    levels = len(params.get("quantiles", [0.5]))
    if task in (Task.REGRESSION, Task.COUNT) and name == "QuantileLoss" and levels > 1 and outputs > 1:
        return (
            f"QuantileLoss with {levels} levels takes one target per row (a column per level); these "
            f"targets have {outputs} per row: give one level, or validate one output at a time"
        )
    if task != Task.REGRESSION or name not in SHARE_LOSSES or y.size == 0:
        return None
    lo, hi = float(np.min(y)), float(np.max(y))
    if lo >= 0.0 and hi <= 1.0:
        return None
    return f"{name} takes regression targets in [0, 1] (shares); these span {lo:.4g} to {hi:.4g}"


def _two_class(name: str) -> Head:
    """Softmax losses on a binary task: two logits, reported as P(class 1)."""
    inner = _multiclass(name, 2, log_softmax=name == "NLLLoss")
    return Head(
        width=2,
        per_sample=lambda out, y, p: inner.per_sample(out, y.long(), p),
        predict=lambda out: F.softmax(out, dim=1)[:, 1],
    )
