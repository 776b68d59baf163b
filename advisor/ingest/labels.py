"""Class labels ↔ indices: one mapping, so the profile's classes are the model's classes.

Losses such as CrossEntropyLoss index by the target, so text labels ("yes"/"no", category
codes stored as text) must become 0..C-1 before any loss sees them. Every step builds its
mapping here, in one order (sorted, as ``numpy.unique`` and scikit-learn's ``classes_``
order them), so class 2 in a profile is class 2 in the evaluation and in a trained probe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.errors import LabelOutOfRangeError


@dataclass(frozen=True)
class ClassLabels:
    """The distinct labels in index order; ``classes[i]`` is the label of index i."""

    classes: tuple[Any, ...]

    @classmethod
    def of(cls, values: np.ndarray) -> ClassLabels:
        """The sorted distinct labels of 1-D values without missing rows."""
        return cls(tuple(plain(v) for v in np.unique(_sortable(values))))

    def __len__(self) -> int:
        return len(self.classes)

    @property
    def is_text(self) -> bool:
        return any(isinstance(c, str) for c in self.classes)

    def encode(self, values: np.ndarray, field: str = "targets") -> np.ndarray:
        """Indices of 1-D labels; a label outside the mapping is an error naming ``field``."""
        keys = _sortable(values)
        known = np.asarray([str(c) for c in self.classes] if self.is_text else self.classes)
        if keys.dtype.kind in "OU":
            keys = keys.astype(str)
        codes = np.searchsorted(known, keys)
        inside = codes < len(known)
        bad = ~inside
        bad[inside] = known[codes[inside]] != keys[inside]
        if bad.any():
            first = plain(values[np.flatnonzero(bad)[0]])
            raise LabelOutOfRangeError(
                f"holds {int(bad.sum())} labels that are not among the classes "
                f"{list(self.classes)[:10]}, e.g. {first!r}",
                field=field,
                expected=list(self.classes),
                got=first,
            )
        return codes.astype(np.int64)

    def mapping(self) -> dict[str, int]:
        """Label (as text) → index, for reports."""
        return {str(c): i for i, c in enumerate(self.classes)}


def _sortable(values: np.ndarray) -> np.ndarray:
    """Text labels as one text dtype (sortable), numbers as float64."""
    values = np.asarray(values)
    if values.dtype.kind == "O":
        return values.astype(str)
    return values.astype(np.float64) if values.dtype.kind in "biuf" else values


def plain(value: Any) -> Any:
    """A numpy scalar as the plain Python value reports and JSON hold (2.0 → 2), so no
    ``np.str_('yes')`` reaches a message."""
    if isinstance(value, (str, np.str_)):
        return str(value)
    if value is None or isinstance(value, (bool, np.bool_)):
        return value if value is None else bool(value)
    number = float(value)
    return int(number) if number.is_integer() else number
