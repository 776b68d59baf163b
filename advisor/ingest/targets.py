"""Targets: whatever the caller holds, to one clean numpy array, or a typed error.

Targets arrive as numpy arrays, lists, torch tensors or pandas objects. Converting them here,
once, means the statistics modules only ever see a 1-D or 2-D array of floats or strings
with missing rows already counted and removed: missing values are excluded but never
silently (``advisor.ingest.missing`` says what counts as missing), and mixed or unusable
types fail loudly instead of being coerced to strings (which is what
``np.asarray([1, "a"])`` would quietly do).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Number
from typing import Any, Literal

import numpy as np

from advisor.errors import DTypeError, EmptyInputError, NonFiniteError, ShapeMismatchError
from advisor.ingest.missing import is_missing, text_mask

Kind = Literal["numeric", "string", "boolean"]


@dataclass(frozen=True)
class Cleaned:
    """Values with missing rows removed; ``n_total`` still counts them for alignment checks."""

    values: np.ndarray  # float64 for numeric/boolean, object (str) for string
    kind: Kind
    n_total: int
    n_missing: int
    shape: tuple[int, ...]
    kept: np.ndarray  # (n_total,) bool: the rows ``values`` holds, to align features with


def as_array(x: Any, field: str) -> np.ndarray:
    """Any supported container to an ndarray, without deciding dtypes yet."""
    if x is None:
        raise EmptyInputError("is required, got None", field=field, expected="an array", got=None)
    module = type(x).__module__ or ""
    if module.startswith("torch") and hasattr(x, "detach"):
        t = x.detach().cpu()
        if t.is_floating_point() and str(t.dtype) not in _NUMPY_FLOATS:
            t = t.float()  # bfloat16 and friends have no numpy dtype
        return t.numpy()
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):  # pandas, without importing it
        return _from_pandas(x)
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (str, bytes, Number, np.generic)):
        raise ShapeMismatchError(
            "must be an array of values, got a scalar",
            field=field,
            expected="1-D or 2-D",
            got=repr(x),
        )
    if isinstance(x, (list, tuple)):
        return _from_sequence(x, field)
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise DTypeError(
            f"cannot be read as an array ({exc})",
            field=field,
            expected="array-like",
            got=type(x).__name__,
        ) from None


# torch float dtypes numpy understands, by name, so converting needs no torch import here
_NUMPY_FLOATS = ("torch.float16", "torch.float32", "torch.float64")


def _from_pandas(x: Any) -> np.ndarray:
    try:
        arr = x.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        arr = x.to_numpy()
    return np.asarray(arr)


def _from_sequence(x: list | tuple, field: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=object)
    except ValueError as exc:
        raise ShapeMismatchError(
            f"rows have different lengths ({exc})",
            field=field,
            expected="a rectangular array",
            got="ragged",
        ) from None
    if (
        arr.dtype == object
        and arr.size
        and any(isinstance(v, (list, tuple, np.ndarray)) for v in arr.flat)
    ):
        raise ShapeMismatchError(
            "rows have different lengths", field=field, expected="a rectangular array", got="ragged"
        )
    return arr


def object_to_typed(arr: np.ndarray, field: str) -> np.ndarray:
    """Object arrays (lists, pandas object columns) to float or str, refusing mixtures."""
    flat = arr.ravel()
    n_str = n_num = 0
    for v in flat:
        if is_missing(v):
            continue
        if isinstance(v, (str, np.str_)):
            n_str += 1
        elif isinstance(v, (bool, np.bool_, Number, np.number)) and not isinstance(v, complex):
            n_num += 1
        else:
            raise DTypeError(
                f"holds a value of unsupported type {type(v).__name__}",
                field=field,
                expected="numbers or strings",
                got=type(v).__name__,
            )
    if n_str and n_num:
        raise DTypeError(
            f"mixes {n_num} numbers with {n_str} strings",
            field=field,
            expected="all numbers or all strings",
            got="mixed types",
        )
    if n_str:
        out = np.empty(arr.shape, dtype=object)
        for i, v in enumerate(flat):
            out.flat[i] = None if is_missing(v) else str(v)
        return out
    return np.array(
        [np.nan if is_missing(v) else float(v) for v in flat], dtype=np.float64
    ).reshape(arr.shape)


def _one_or_two_dims(arr: np.ndarray, field: str, wanted: str) -> None:
    """A scalar or an array of more than two dimensions is refused, naming ``field``."""
    if arr.ndim == 0:
        raise ShapeMismatchError(
            "must be an array, got a scalar", field=field, expected="1-D or 2-D", got=()
        )
    if arr.ndim > 2:
        raise ShapeMismatchError(
            f"must be {wanted}, got {arr.ndim}-D",
            field=field,
            expected="1-D or 2-D",
            got=tuple(arr.shape),
        )


def clean(x: Any, field: str) -> Cleaned:
    """Validate shape and dtype, count and drop missing rows; 2-D column vectors become 1-D."""
    arr = as_array(x, field)
    _one_or_two_dims(arr, field, "1-D (one value per row) or 2-D (rows x outputs)")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.size == 0:
        raise EmptyInputError(
            "has no values", field=field, expected="at least one row", got=tuple(arr.shape)
        )
    kind: Kind
    if arr.dtype.kind == "b":
        kind, values = "boolean", arr.astype(np.float64)
    elif arr.dtype.kind in "iu":
        kind, values = "numeric", arr.astype(np.float64)
    elif arr.dtype.kind == "f":
        kind, values = "numeric", arr.astype(np.float64, copy=False)
    elif arr.dtype.kind in "US":
        kind, values = "string", arr.astype(str).astype(object)
    elif arr.dtype.kind == "O":
        values = object_to_typed(arr, field)
        kind = "string" if values.dtype == object else "numeric"
    else:
        raise DTypeError(
            f"has dtype {arr.dtype}, which is neither numeric nor text",
            field=field,
            expected="numbers, booleans or strings",
            got=str(arr.dtype),
        )
    if kind == "string":
        missing = text_mask(values)
    else:
        if np.isinf(values).any():
            raise NonFiniteError(
                f"holds {int(np.isinf(values).sum())} infinite values",
                field=field,
                expected="finite numbers (NaN counts as missing)",
                got="inf",
            )
        missing = np.isnan(values)
    row_missing = missing.any(axis=1) if values.ndim == 2 else missing
    n_missing = int(row_missing.sum())
    n_total = int(values.shape[0])
    if n_missing == n_total:
        raise EmptyInputError(
            f"all {n_total} rows are missing (NaN/None)",
            field=field,
            expected="at least one non-missing row",
            got="all missing",
        )
    if n_missing:
        values = values[~row_missing]
    return Cleaned(
        values=values,
        kind=kind,
        n_total=n_total,
        n_missing=n_missing,
        shape=tuple(arr.shape),
        kept=~row_missing,
    )


def numeric_matrix(x: Any, field: str) -> np.ndarray:
    """Features and predictions: numbers only, any NaN kept for the caller to count."""
    arr = as_array(x, field)
    if arr.dtype.kind == "O":
        arr = object_to_typed(arr, field)
    if arr.dtype.kind in "US" or arr.dtype == object:
        raise DTypeError("must be numeric", field=field, expected="numbers", got="strings")
    if arr.dtype.kind not in "biuf":
        raise DTypeError("must be numeric", field=field, expected="numbers", got=str(arr.dtype))
    _one_or_two_dims(arr, field, "1-D or 2-D")
    if arr.size == 0:
        raise EmptyInputError(
            "has no values", field=field, expected="at least one row", got=tuple(arr.shape)
        )
    out = arr.astype(np.float64, copy=False)
    if np.isinf(out).any():
        raise NonFiniteError(
            f"holds {int(np.isinf(out).sum())} infinite values",
            field=field,
            expected="finite numbers",
            got="inf",
        )
    return out
