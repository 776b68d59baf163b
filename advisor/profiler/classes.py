"""Class balance, multilabel density and soft-label rows: the facts class re-weighting needs.

Effective numbers follow Cui et al. (CVPR 2019): a class of n samples is worth
(1 - beta^n) / (1 - beta) distinct ones. beta is set from the majority count as 1 - 1/n_max
(clipped to Cui's tested range 0.9..0.9999) so the majority class's effective number sits
near 63% of its count whatever the data set size, instead of one fixed beta that saturates
small sets and ignores the imbalance of large ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from advisor.errors import LabelOutOfRangeError
from advisor.ingest.labels import plain


def effective_beta(n_max: int) -> float:
    return float(np.clip(1.0 - 1.0 / max(n_max, 1), 0.9, 0.9999))


def _py(v: Any) -> int | float | str:
    if isinstance(v, str):
        return v
    f = float(v)
    return int(f) if f.is_integer() else f


def label_style(labels: list[Any], kind: str) -> str:
    if kind == "string":
        return "string"
    if kind == "boolean":
        return "boolean"
    vals = sorted(float(v) for v in labels)
    if vals == [0.0, 1.0]:
        return "zero_one"
    if vals == [-1.0, 1.0]:
        return "plus_minus_one"
    if all(v.is_integer() for v in vals) and vals == [float(i) for i in range(len(vals))]:
        return "index"
    return "other"


def class_stats_from_counts(
    labels: list[Any], counts: np.ndarray, *, kind: str, encoding: str, field: str = "targets"
) -> dict[str, Any]:
    counts = np.asarray(counts, dtype=np.int64)
    present = counts > 0
    if int(present.sum()) < 2:
        only = plain(labels[int(np.argmax(counts))]) if len(labels) else None
        raise LabelOutOfRangeError(
            f"holds a single class ({only!r}); a classifier needs at least two",
            field=field,
            expected="two or more classes",
            got=f"1 class: {only!r}",
        )
    n = counts.sum()
    shares = counts / n
    nz = counts[present]
    k = len(counts)
    entropy = (
        float(-(shares[present] * np.log(shares[present])).sum() / np.log(k)) if k > 1 else 0.0
    )
    beta = effective_beta(int(counts.max()))
    eff = (1.0 - np.power(beta, counts.astype(np.float64))) / (1.0 - beta)
    style = "index" if encoding == "one_hot" else label_style(labels, kind)
    positive = None
    if k == 2:
        positive = _py(labels[1])  # sorted order: 1 of {0, 1}, 1 of {-1, 1}, the later string
    return {
        "labels": [_py(v) for v in labels],
        "counts": [int(c) for c in counts],
        "n_classes": k,
        "encoding": encoding,
        "label_style": style,
        "positive_label": positive,
        "imbalance_ratio": float(nz.max() / nz.min()),
        "minority_share": float(nz.min() / n),
        "majority_share": float(nz.max() / n),
        "normalized_entropy": min(entropy, 1.0),
        "effective_beta": beta,
        "effective_numbers": [float(e) for e in eff],
    }


def class_stats(values: np.ndarray, kind: str, field: str = "targets") -> dict[str, Any]:
    """Class statistics for 1-D labels (numbers or strings) or a one-hot matrix."""
    if values.ndim == 2:
        counts = np.rint(values).astype(np.int64).sum(axis=0)
        labels = list(range(values.shape[1]))
        return class_stats_from_counts(labels, counts, kind=kind, encoding="one_hot", field=field)
    uniq, counts = np.unique(values, return_counts=True)
    return class_stats_from_counts(list(uniq), counts, kind=kind, encoding="labels", field=field)


def multilabel_stats(values: np.ndarray, field: str = "targets") -> dict[str, Any]:
    y = values > 0.5
    positives = y.sum(axis=0)
    if positives.sum() == 0 or bool(y.all()):
        raise LabelOutOfRangeError(
            "every label has the same value in every row; there is nothing to learn",
            field=field,
            expected="some positives and some negatives",
            got="constant indicator matrix",
        )
    per_row = y.sum(axis=1)
    card = float(per_row.mean())
    return {
        "n_labels": int(y.shape[1]),
        "cardinality": card,
        "density": card / y.shape[1],
        "positives": [int(p) for p in positives],
        "empty_row_share": float((per_row == 0).mean()),
        "min_label_share": float(positives.min() / y.shape[0]),
    }


def distribution_stats(values: np.ndarray) -> dict[str, Any]:
    sums = values.sum(axis=1)
    k = values.shape[1]
    p = np.clip(values / np.where(sums > 0, sums, 1.0)[:, None], 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return {
        "n_components": int(k),
        "row_sum_min": float(sums.min()),
        "row_sum_max": float(sums.max()),
        "share_zero_entries": float((values == 0).mean()),
        "mean_normalized_entropy": float(h.mean() / np.log(k)) if k > 1 else 0.0,
    }
