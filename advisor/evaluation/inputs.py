"""Request-level handling of the caller's arrays: conversion, device, and the checks that raise.

Everything here runs once per request, never once per candidate: at N = 1e7 a single extra
pass over the data costs as much as evaluating a cheap loss, so finiteness is read from one
``aminmax`` per tensor (NaN propagates through min and max) instead of an ``isfinite`` pass.
That min/max memo (``Inputs._minmax``) holds one entry per tensor of the request and goes with
its ``Inputs``, which lives as long as the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from advisor.errors import (
    DTypeError,
    EmptyInputError,
    InvalidInputError,
    NonFiniteError,
    ShapeMismatchError,
)
from advisor.ingest.labels import ClassLabels
from advisor.ingest.missing import text_mask
from advisor.ingest.targets import as_array, object_to_typed
from advisor.losses import checks
from advisor.losses.spec import LossSpec

# Inputs of a catalog loss that come from ``targets``; every other input comes from ``predictions``.
TARGET_INPUTS = frozenset({"target", "targets", "input_lengths", "target_lengths"})


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA when present, else the CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InvalidInputError(f"is not a device ({exc})", field="device", expected="'auto', 'cpu' or 'cuda[:i]'", got=device) from None


@dataclass
class Inputs:
    """The request's tensors on the chosen device, with the dtypes the caller used."""

    predictions: tuple[torch.Tensor, ...]
    targets: tuple[torch.Tensor, ...]
    sample_weight: torch.Tensor | None
    device: torch.device
    original_dtypes: tuple[torch.dtype, ...]
    _minmax: dict[int, tuple[float, float]] = field(default_factory=dict)
    classes: tuple[Any, ...] | None = None  # text labels in index order, when targets were text
    n_excluded: int = 0  # rows left out because their target is missing

    @property
    def n_rows(self) -> int:
        first = self.predictions[0]
        return int(first.shape[0]) if first.dim() else 1

    @property
    def float_dtype(self) -> torch.dtype:
        return checks.common_float_dtype(self.predictions)

    def minmax(self, t: torch.Tensor) -> tuple[float, float]:
        """Min and max of a tensor, cached by identity (one device sync per tensor and request)."""
        key = id(t)
        if key not in self._minmax:
            if t.dtype == torch.bool:
                t = t.to(torch.uint8)
            lo, hi = torch.aminmax(t)
            self._minmax[key] = (float(lo), float(hi))
        return self._minmax[key]


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, tuple):
        return value
    return (value,)


def _convert(values: tuple[Any, ...], name: str, device: torch.device) -> tuple[torch.Tensor, ...]:
    out = []
    for i, v in enumerate(values):
        fld = name if len(values) == 1 else f"{name}[{i}]"
        t = checks.to_tensor(v, fld)
        if t.is_complex():
            raise InvalidInputError("is complex; expected real numbers", field=fld, expected="real values", got=str(t.dtype))
        t = t.to(device)
        checks.require_nonempty(t, fld)
        out.append(t)
    return tuple(out)


def _require_no_nan(inp: Inputs, tensors: tuple[torch.Tensor, ...], name: str) -> None:
    for i, t in enumerate(tensors):
        if not t.is_floating_point():
            continue
        lo, hi = inp.minmax(t)
        if lo != lo or hi != hi:  # NaN
            n_nan = int(torch.isnan(t).sum())
            fld = name if len(tensors) == 1 else f"{name}[{i}]"
            raise NonFiniteError(f"has {n_nan} NaN value(s); every {name[:-1]} needs a number", field=fld, expected="no NaN", got=f"{n_nan} NaN")


def normalize(
    predictions: Any, targets: Any, *, device: str | torch.device = "auto", sample_weight: Any = None, text_labels: bool = True
) -> Inputs:
    """Convert and check the request: non-empty, no NaN predictions, one row count everywhere.

    A single target array may hold text labels (mapped to indices in sorted order,
    ``advisor.ingest.labels``) and missing values (``advisor.ingest.missing``): rows whose
    target is missing are left out of every input and counted. ``text_labels=False`` refuses
    text, for batches whose classes one batch alone cannot know.
    """
    dev = resolve_device(device)
    preds = _convert(_as_tuple(predictions), "predictions", dev)
    if not preds:
        raise EmptyInputError("no predictions given", field="predictions", expected="an array", got=None)
    classes = None
    if targets is not None and not isinstance(targets, tuple):
        targets, classes = _labels(targets, text_labels)
    targs = _convert(_as_tuple(targets), "targets", dev)
    weight = None
    if sample_weight is not None:
        (weight,) = _convert((sample_weight,), "sample_weight", dev)
    _check_rows(preds, targs)
    n_excluded, known = 0, {}
    if len(targs) == 1 and targs[0].is_floating_point() and targs[0].dim():
        preds, targs, weight, n_excluded, known = _without_missing(preds, targs, weight)
    if classes is not None:
        targs, known = (targs[0].long(),), {}  # the float indices' range says nothing of these
    inp = Inputs(
        preds, targs, weight, dev, tuple(t.dtype for t in (*preds, *targs)), _minmax=known, classes=classes, n_excluded=n_excluded
    )
    _require_no_nan(inp, preds, "predictions")
    _require_no_nan(inp, targs, "targets")
    if weight is not None:
        _check_weight(inp, weight)
    return inp


def _labels(targets: Any, text_labels: bool) -> tuple[Any, tuple[Any, ...] | None]:
    """Text labels as float indices (NaN where missing) and the classes; anything else as is."""
    if isinstance(targets, torch.Tensor):
        return targets, None
    array = as_array(targets, "targets")
    if array.dtype.kind not in "OUS":  # numbers, pandas' nullable and object booleans included
        return array, None
    if array.dtype.kind == "S":
        raise DTypeError("holds bytes; labels are numbers or text", field="targets", expected="numbers or text", got=str(array.dtype))
    values = object_to_typed(array.astype(object), "targets")
    if values.dtype != object:  # numbers stored as objects
        return values, None
    if not text_labels:
        raise DTypeError(
            "holds text labels; in a stream, map them to class indices first (one batch cannot know every class)",
            field="targets",
            expected="numbers",
            got="text",
        )
    missing = text_mask(values)
    if values.ndim != 1:
        raise ShapeMismatchError("text labels must be 1-D, one per row", field="targets", expected="1-D", got=list(values.shape))
    if missing.all():
        raise EmptyInputError(f"all {values.size} labels are missing", field="targets", expected="at least one label", got="all missing")
    labels = ClassLabels.of(values[~missing])
    codes = np.full(values.shape, np.nan)
    codes[~missing] = labels.encode(values[~missing])
    return codes, labels.classes


def _without_missing(
    preds: tuple[torch.Tensor, ...], targs: tuple[torch.Tensor, ...], weight: torch.Tensor | None
) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...], torch.Tensor | None, int, dict[int, tuple[float, float]]]:
    """Leave out the rows whose target is NaN (missing) from every input. One ``isnan`` pass,
    only when ``aminmax`` saw a NaN; otherwise the target's min and max come back as the
    request's cached range (``Inputs.minmax``), so no check reads the target again."""
    (target,) = targs
    n_rows = target.shape[0]
    lo, hi = (float(v) for v in torch.aminmax(target))
    if not (lo != lo or hi != hi):
        return preds, targs, weight, 0, {id(target): (lo, hi)}
    keep = ~torch.isnan(target).reshape(n_rows, -1).any(dim=1)
    n_kept = int(keep.sum())
    if n_kept == 0:
        raise NonFiniteError(f"all {n_rows} targets are NaN (missing)", field="targets", expected="at least one target", got="all NaN")
    preds = tuple(p[keep] if p.dim() and p.shape[0] == n_rows else p for p in preds)
    weight = weight[keep] if weight is not None and weight.dim() and weight.shape[0] == n_rows else weight
    return preds, (target[keep],), weight, n_rows - n_kept, {}


def _check_rows(preds: tuple[torch.Tensor, ...], targs: tuple[torch.Tensor, ...]) -> None:
    """Pairs and triplets share their rows, or broadcast to the first (one variance for every
    row, as torch's GaussianNLLLoss takes it); a single target shares the predictions' rows.

    Several targets (CTC's labels and lengths) follow their own layout and are left to the loss.
    """
    first = preds[0]
    for i, p in enumerate(preds[1:], start=1):
        same_rows = p.dim() > 0 and first.dim() > 0 and p.shape[0] == first.shape[0]
        if p.shape != first.shape and not same_rows and not checks.broadcasts_to(p.shape, first.shape):
            raise ShapeMismatchError(
                f"shape {tuple(p.shape)} does not share the rows of predictions[0] {tuple(first.shape)}",
                field=f"predictions[{i}]",
                expected=tuple(first.shape),
                got=tuple(p.shape),
            )
    if len(targs) == 1 and len(preds) == 1:
        t = targs[0]
        rows_p = first.shape[0] if first.dim() else None
        rows_t = t.shape[0] if t.dim() else None
        if (first.dim() >= 2 and t.dim() == 0) or (rows_p is not None and rows_t is not None and rows_p != rows_t):
            raise ShapeMismatchError(
                f"shape {tuple(t.shape)} does not match predictions shape {tuple(first.shape)} (different number of rows)",
                field="targets",
                expected=f"{rows_p} rows",
                got=tuple(t.shape),
            )


def _check_weight(inp: Inputs, weight: torch.Tensor) -> None:
    n = inp.n_rows
    if weight.dim() != 1 or weight.shape[0] != n:
        raise ShapeMismatchError(f"has shape {tuple(weight.shape)}; expected one weight per row ({n},)", field="sample_weight", expected=(n,), got=tuple(weight.shape))
    lo, hi = inp.minmax(weight)
    if not (lo == lo and hi == hi and lo >= 0 and hi < float("inf")):
        raise NonFiniteError("must hold finite, non-negative weights", field="sample_weight", expected="finite values >= 0", got=f"[{lo}, {hi}]")
    if hi == 0:
        raise InvalidInputError("is all zeros; at least one row must count", field="sample_weight", expected="some weight > 0", got=0)


def assemble(spec: LossSpec, inp: Inputs) -> tuple[torch.Tensor, ...]:
    """The loss's positional inputs, taken in order from predictions and targets by their role."""
    pred_names = [i.name for i in spec.inputs if i.name not in TARGET_INPUTS]
    targ_names = [i.name for i in spec.inputs if i.name in TARGET_INPUTS]
    if len(pred_names) != len(inp.predictions) or len(targ_names) != len(inp.targets):
        raise InvalidInputError(
            f"{spec.name} takes predictions ({', '.join(pred_names)}) and targets ({', '.join(targ_names) or 'none'}); "
            f"got {len(inp.predictions)} prediction array(s) and {len(inp.targets)} target array(s)",
            field="predictions",
            expected=(len(pred_names), len(targ_names)),
            got=(len(inp.predictions), len(inp.targets)),
        )
    preds, targs = iter(inp.predictions), iter(inp.targets)
    return tuple(next(targs) if i.name in TARGET_INPUTS else next(preds) for i in spec.inputs)
