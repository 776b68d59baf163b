"""Input conversion and the checks losses share, each raising a typed, field-named error.

Users hand over numpy arrays, lists and tensors of mixed dtypes (guide 003 shows the
``TypeError`` that numpy input gives ``torch.nn``); the catalog accepts them all and says
clearly what is wrong when something is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from advisor.errors import (
    DTypeError,
    EmptyInputError,
    LabelOutOfRangeError,
    NonFiniteError,
    ShapeMismatchError,
)

_NUMERIC_KINDS = "biuf"


def to_tensor(value: Any, field: str) -> torch.Tensor:
    """Turn a tensor, numpy array, scalar or (nested) list into a tensor without copying when it can."""
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            return value
        if not (
            value.is_floating_point() or value.dtype in _INT_DTYPES or value.dtype == torch.bool
        ):
            raise DTypeError(
                f"unsupported dtype {value.dtype}",
                field=field,
                expected="a numeric tensor",
                got=str(value.dtype),
            )
        return value
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ShapeMismatchError(
            f"cannot be read as a rectangular array ({exc})",
            field=field,
            expected="a rectangular numeric array",
            got=type(value).__name__,
        ) from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise DTypeError(
            f"has dtype {array.dtype}; expected numbers",
            field=field,
            expected="a numeric array",
            got=str(array.dtype),
        )
    if array.dtype == np.float16 or (array.dtype.kind == "u" and array.dtype != np.uint8):
        array = array.astype(np.float32 if array.dtype == np.float16 else np.int64)
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array).copy()
    if isinstance(value, (list, tuple, int, float)) and array.dtype == np.float64:
        # Python floats follow torch's default dtype, as torch.tensor([...]) does.
        return torch.as_tensor(array, dtype=torch.get_default_dtype())
    return torch.from_numpy(array)


_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def is_integer_dtype(t: torch.Tensor) -> bool:
    return t.dtype in _INT_DTYPES or t.dtype == torch.bool


def common_float_dtype(tensors: Iterable[torch.Tensor]) -> torch.dtype:
    """The floating dtype that the real-valued inputs share (float64 wins over float32)."""
    dtype = None
    for t in tensors:
        if t.is_floating_point():
            dtype = t.dtype if dtype is None else torch.promote_types(dtype, t.dtype)
    return dtype or torch.get_default_dtype()


def require_nonempty(t: torch.Tensor, field: str) -> None:
    if t.numel() == 0:
        raise EmptyInputError(
            f"is empty (shape {tuple(t.shape)})",
            field=field,
            expected="at least one element",
            got=tuple(t.shape),
        )


def require_finite(t: torch.Tensor, field: str, *, allow_neg_inf: bool = False) -> None:
    """NaN is never valid; +inf never; -inf only where a log-probability may be -inf."""
    if not (t.is_floating_point() or t.is_complex()):
        return
    if t.is_complex():
        bad = ~torch.isfinite(t)
    elif allow_neg_inf:
        bad = torch.isnan(t) | (t == float("inf"))
    else:
        bad = ~torch.isfinite(t)
    if bool(bad.any()):
        n_nan = int(torch.isnan(t).sum()) if not t.is_complex() else int(bad.sum())
        n_bad = int(bad.sum())
        raise NonFiniteError(
            f"has {n_bad} non-finite value(s) ({n_nan} NaN); expected finite numbers"
            + (" (-inf is allowed here)" if allow_neg_inf else ""),
            field=field,
            expected="finite values",
            got=f"{n_bad} non-finite",
        )


def broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether a tensor of ``shape`` broadcasts to ``target`` without changing it."""
    try:
        return torch.broadcast_shapes(shape, target) == torch.Size(target)
    except RuntimeError:
        return False


def require_same_shape(a: torch.Tensor, b: torch.Tensor, a_field: str, b_field: str) -> None:
    if a.shape != b.shape:
        hint = ""
        if a.numel() == b.numel():
            hint = f"; reshape {b_field} to {tuple(a.shape)} (an (N,1) vs (N,) mix-up broadcasts to N×N)"
        raise ShapeMismatchError(
            f"shape {tuple(b.shape)} does not match {a_field} shape {tuple(a.shape)}{hint}",
            field=b_field,
            expected=tuple(a.shape),
            got=tuple(b.shape),
        )


def require_ndim(t: torch.Tensor, allowed: Iterable[int], field: str, what: str) -> None:
    allowed = tuple(allowed)
    if t.dim() not in allowed:
        raise ShapeMismatchError(
            f"has {t.dim()} dimension(s) (shape {tuple(t.shape)}); expected {what}",
            field=field,
            expected=what,
            got=tuple(t.shape),
        )


def require_integral(t: torch.Tensor, field: str) -> torch.Tensor:
    """Class indices as int64; integral floats (labels loaded as float64) are accepted."""
    if is_integer_dtype(t):
        return t.long()
    if t.is_floating_point():
        if bool(torch.isfinite(t).all()) and bool((t == t.round()).all()):
            return t.long()
        raise DTypeError(
            "holds non-integer values; expected class indices",
            field=field,
            expected="integer class indices",
            got=str(t.dtype),
        )
    raise DTypeError("has an unsupported dtype", field=field, expected="integers", got=str(t.dtype))


def require_labels_in_range(
    t: torch.Tensor, n_classes: int, field: str, *, ignore_index: int | None = None
) -> None:
    if t.numel() == 0:
        return
    lo, hi = (int(v) for v in torch.aminmax(t))
    if lo >= 0 and hi < n_classes:  # one pass decides the common case; masking costs a copy
        return
    valid = t if ignore_index is None else t[t != ignore_index]
    if valid.numel() == 0:
        return
    lo, hi = int(valid.min()), int(valid.max())
    if lo < 0 or hi >= n_classes:
        bad = lo if lo < 0 else hi
        extra = f" (ignore_index={ignore_index} is skipped)" if ignore_index is not None else ""
        raise LabelOutOfRangeError(
            f"holds class index {bad}; expected indices in [0, {n_classes - 1}] for {n_classes} classes{extra}",
            field=field,
            expected=f"[0, {n_classes - 1}]",
            got=bad,
        )


def require_values_in(
    t: torch.Tensor, allowed: tuple[float, ...], field: str, hint: str = ""
) -> None:
    ok = torch.zeros_like(t, dtype=torch.bool)
    for v in allowed:
        ok |= t == v
    if not bool(ok.all()):
        bad = t[~ok].flatten()[:3].tolist()
        raise LabelOutOfRangeError(
            f"holds {bad}; expected only values {list(allowed)}{hint}",
            field=field,
            expected=list(allowed),
            got=bad,
        )


def require_interval(
    t: torch.Tensor, low: float | None, high: float | None, field: str, hint: str = ""
) -> None:
    below = (t < low) if low is not None else torch.zeros_like(t, dtype=torch.bool)
    above = (t > high) if high is not None else torch.zeros_like(t, dtype=torch.bool)
    bad = below | above
    if bool(bad.any()):
        sample = t[bad].flatten()[:3].tolist()
        interval = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise LabelOutOfRangeError(
            f"holds values {sample} outside {interval}{hint}",
            field=field,
            expected=interval,
            got=sample,
        )


def require_param_length(
    value: torch.Tensor | None, n: int, field: str, what: str = "one value per class"
) -> None:
    if value is not None and (value.dim() != 1 or value.shape[0] != n):
        raise ShapeMismatchError(
            f"has shape {tuple(value.shape)}; expected {what} ({n})",
            field=field,
            expected=(n,),
            got=tuple(value.shape),
        )
