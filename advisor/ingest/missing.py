"""What counts as "no value": one set of markers for every entry point.

A missing label read from a CSV file (an empty cell, ``NA``), from pandas (``NaN``,
``None``, ``pd.NA``) or sent over the wire must mean the same thing everywhere, or the same
table gives different classes depending on how it arrived. Text markers are compared after
stripping surrounding spaces and ignoring case, so ``"NA"``, ``"na"`` and ``" NaN "`` agree.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: text that means "no value", compared stripped and lower-cased
TEXT_MARKERS = frozenset({"", "na", "nan", "null", "none", "n/a", "<na>"})


def is_missing_text(value: str) -> bool:
    return value.strip().lower() in TEXT_MARKERS


def is_missing(value: Any) -> bool:
    """NaN, None, pandas' NA and NaT, and the text markers."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, (str, np.str_)):
        return is_missing_text(value)
    # pandas' NA and NaT, recognised without importing pandas
    return type(value).__name__ in ("NAType", "NaTType")


def text_mask(values: np.ndarray) -> np.ndarray:
    """Which cells of an array of text are missing markers (vectorised for U and object)."""
    flat = values.ravel()
    if flat.dtype.kind == "U":
        lowered = np.char.lower(np.char.strip(flat))
        return np.isin(lowered, list(TEXT_MARKERS)).reshape(values.shape)
    return np.fromiter((is_missing(v) for v in flat), dtype=bool, count=flat.size).reshape(
        values.shape
    )
