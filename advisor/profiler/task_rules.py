"""Task inference: explicit, ordered rules that fix the known misses of common heuristics.

scikit-learn's ``type_of_target`` calls any integer target "multiclass" (the diabetes target,
25..346, becomes a 214-class problem) and any 2-D 0/1 matrix "multilabel-indicator" (one-hot
multiclass included); AutoGluon-style rules call anything with unique/rows <= 0.05
multiclass. For choosing a loss those are the wrong questions: what matters is whether values
are ordered quantities, counts, or unordered labels. The rules, first match wins:

========  =====================================================================  ===========
rule      condition                                                              task
========  =====================================================================  ===========
hint      ``task=`` given                                                        the hint
strings   text labels (2 distinct: binary)                                       multiclass
bool      boolean dtype, 1-D                                                     binary
onehot    2-D, entries in {0, 1}, every row sums to 1                            multiclass
multihot  2-D, entries in {0, 1}, rows with 0 or several ones                    multilabel
simplex   2-D, entries >= 0, every row sums to 1 (tolerance 1e-3)                distribution
matrix    any other 2-D numeric                                                  regression
two       exactly two distinct values ({0,1}, {0.,1.}, {-1,1} margin-style, ...)  binary
real      non-integer values                                                     regression
count     non-negative integers, mean <= 100, right skew >= 0.1, min <= mean/2,   count
          mode <= median + max(1, std/2), and a thinning tail: the largest value in
          <= max(2, 2%) rows or <= 1/20 of the mode's (6+ values; with <= 5 values:
          once or in <= 1.5%, or count ratios shrinking as Poisson's do to <= 5%), or,
          with 5+ values, an interior (or flat-topped) mode with counts falling
          monotonically to a last value <= 1/5 (1/10) of the mode's
labels    integers, 3..50 values contiguous from 0 or 1, >= 5 rows per value on  multiclass
          average and >= 2 each, or <= 10 integer values with >= 5 rows each
ordered   any other integer target: many distinct ordered values                 regression
========  =====================================================================  ===========

ranking, embedding and sequence have no target signature, so they only come from the hint.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from advisor.errors import LabelOutOfRangeError
from advisor.ingest.labels import plain
from advisor.ingest.targets import Cleaned
from advisor.vocabulary import Task

ROW_SUM_TOL = 1e-3
COUNT_MAX_MEAN = 100.0
COUNT_MIN_SKEW = 0.1  # Poisson's skew 1/sqrt(mean) stays above it up to mean 100
MAX_CONTIGUOUS_CLASSES = 50
MAX_ARBITRARY_CLASSES = 10
MIN_ROWS_PER_CLASS = 5
SKLEARN_SAMPLE = 20_000


@dataclass(frozen=True)
class Inference:
    task: Task
    confidence: float
    reason: str
    rule: str
    runner_up: Task | None = None


def sklearn_type(values: np.ndarray) -> str | None:
    """scikit-learn's answer on a subsample, reported next to ours so the difference is visible."""
    try:
        from sklearn.utils.multiclass import type_of_target
    except ImportError:  # pragma: no cover - scikit-learn is part of the server extra
        return None
    sample = values[:SKLEARN_SAMPLE]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(type_of_target(sample))
    except (ValueError, TypeError):
        return None


def infer(c: Cleaned, hint: Task | None) -> Inference:
    if hint is not None:
        return Inference(hint, 1.0, f"given as task={hint.value!r}; a hint always wins", "hint")
    v = c.values
    if c.kind == "string":
        return _strings(v)
    if c.kind == "boolean" and v.ndim == 1:
        return Inference(Task.BINARY, 0.99, "boolean targets are two classes", "bool")
    if v.ndim == 2:
        return _matrix(v)
    return _vector(v)


def _single_class(value: object) -> LabelOutOfRangeError:
    value = plain(value)
    return LabelOutOfRangeError(
        f"every row has the same value ({value!r}); no loss can learn from a constant target",
        field="targets",
        expected="at least two distinct values",
        got=f"constant {value!r}",
    )


def _strings(v: np.ndarray) -> Inference:
    uniq = np.unique(v.astype(str).ravel())
    if uniq.size < 2:
        raise _single_class(uniq[0])
    if v.ndim == 2:
        return Inference(
            Task.MULTICLASS,
            0.6,
            f"2-D text labels ({v.shape[1]} columns), read as class names",
            "strings",
        )
    if uniq.size == 2:
        return Inference(
            Task.BINARY,
            0.9,
            f"text labels with exactly two names ({plain(uniq[0])!r}, {plain(uniq[1])!r})",
            "strings",
            Task.MULTICLASS,
        )
    return Inference(
        Task.MULTICLASS, 0.97, f"text labels: {uniq.size} class names, unordered", "strings"
    )


def _matrix(v: np.ndarray) -> Inference:
    _n, k = v.shape
    binary_entries = bool(np.isin(v, (0.0, 1.0)).all())
    sums = v.sum(axis=1)
    if binary_entries:
        if np.all(sums == 1):
            return Inference(
                Task.MULTICLASS,
                0.97,
                f"one-hot matrix: {k} columns, exactly one 1 per row (type_of_target would say multilabel)",
                "onehot",
                Task.MULTILABEL,
            )
        multi = float((sums > 1).mean())
        return Inference(
            Task.MULTILABEL,
            0.95,
            f"0/1 indicator matrix with {k} labels; {100 * multi:.1f}% of rows have several ones",
            "multihot",
            Task.MULTICLASS,
        )
    if v.min() >= 0 and np.all(np.abs(sums - 1.0) <= ROW_SUM_TOL):
        return Inference(
            Task.DISTRIBUTION,
            0.95,
            f"non-negative rows over {k} components summing to 1 (max deviation {np.abs(sums - 1).max():.1e})",
            "simplex",
            Task.MULTILABEL,
        )
    # Columns carry different units, so each is judged on its own: counts only if all are.
    per_column = [_vector(v[:, j], check_constant=False) for j in range(k)]
    if all(p.task == Task.COUNT for p in per_column):
        return Inference(
            Task.COUNT,
            0.75,
            f"{k} output columns, each of counts ({per_column[0].reason})",
            "matrix",
            Task.REGRESSION,
        )
    return Inference(
        Task.REGRESSION,
        0.85,
        f"{k} numeric output columns that are neither indicators nor distributions: multi-output regression",
        "matrix",
    )


def _poisson_decay(tail: np.ndarray) -> bool:
    """Successive ratios shrink, as Poisson's lambda/(j+1) do; class frequencies rarely do.

    Listing classes by decreasing frequency gives ratios that stay flat or grow
    ([.7, .2, .07, .03] -> .29, .35, .43), while Poisson(0.5) gives .5, .25, .17.
    """
    if tail.size < 4:  # two ratios from three classes prove little: [.6, .3, .1] would pass
        return False
    r = tail[1:] / tail[:-1]
    return bool(np.all(r[1:] < 0.8 * r[:-1])) and tail[-1] <= 0.05 * tail[0]


def _vector(v: np.ndarray, check_constant: bool = True) -> Inference:
    uniq, counts = np.unique(v, return_counts=True)
    k = uniq.size
    n = v.size
    if k < 2:
        if check_constant:
            raise _single_class(float(uniq[0]))
        return Inference(Task.REGRESSION, 0.5, "a constant column", "ordered")
    if k == 2:
        a, b = float(uniq[0]), float(uniq[1])
        if (a, b) == (0.0, 1.0):
            return Inference(Task.BINARY, 0.99, "two values, 0 and 1", "two")
        if (a, b) == (-1.0, 1.0):
            return Inference(
                Task.BINARY, 0.97, "two values, -1 and 1: binary with margin-style labels", "two"
            )
        return Inference(
            Task.BINARY, 0.85, f"exactly two distinct values ({a:g}, {b:g})", "two", Task.REGRESSION
        )
    integer = bool(np.all(np.mod(uniq, 1.0) == 0))
    if not integer:
        return Inference(
            Task.REGRESSION, 0.95, f"{k} distinct non-integer values: a continuous quantity", "real"
        )
    lo, hi = float(uniq[0]), float(uniq[-1])
    with np.errstate(all="ignore"):  # near-float-max values overflow; comparisons then fail safe
        mean = float(v.mean())
        std = float(v.std())
        z = (v - mean) / std if 0 < std < np.inf else np.zeros_like(v)
        skew = float(np.mean(z**3))
    mode = float(uniq[np.argmax(counts)])
    median = float(np.median(v))
    span_width = hi - lo
    contiguous = bool(np.isfinite(span_width)) and k == int(span_width) + 1
    label_like = (
        3 <= k <= MAX_CONTIGUOUS_CLASSES
        and contiguous
        and lo in (0.0, 1.0)
        and n >= MIN_ROWS_PER_CLASS * k
        and counts.min() >= 2
    ) or (k <= MAX_ARBITRARY_CLASSES and counts.min() >= MIN_ROWS_PER_CLASS)
    # A count distribution's largest values are rare; a class set's last class need not be.
    # Small samples cannot show a 2% tail, so a count-shaped pmf also passes: it rises to an
    # interior mode, then falls without rising again to a last value at most 1/5 of the mode.
    # (Classes listed by decreasing frequency peak at their first value, so they do not.)
    peak = int(np.argmax(counts))
    falling = bool(np.all(np.diff(counts[peak:]) <= 0))
    count_shaped = (
        k >= 5
        and falling
        and (
            (peak >= 1 and counts[-1] <= counts[peak] / 5)
            # Poisson(1) has P(0) = P(1), so its sample mode lands on 0 half the time
            or (peak == 0 and counts[1] >= 0.8 * counts[0] and counts[-1] <= counts[0] / 10)
        )
    )
    # With five values or fewer, decreasingly frequent classes look most like counts, so the
    # tail must be really thin: the largest value seen once, or in at most 1.5% of rows.
    if k <= 5:
        thinning_tail = (
            counts[-1] <= max(1.0, 0.015 * n) or count_shaped or _poisson_decay(counts[peak:])
        )
    else:
        thinning_tail = (
            counts[-1] <= max(2.0, 0.02 * n) or counts[-1] <= counts.max() / 20 or count_shaped
        )
    count_like = (
        lo >= 0
        and mean <= COUNT_MAX_MEAN
        and skew >= COUNT_MIN_SKEW
        and lo <= 0.5 * mean
        and mode <= median + max(1.0, 0.5 * std)  # the sample mode is noisy for large means
        and thinning_tail
    )
    span = f"{k} distinct integers over {lo:g}..{hi:g}"
    if count_like:
        return Inference(
            Task.COUNT,
            0.8,
            f"non-negative integers ({span}) with small mean {mean:.3g}, right skew {skew:.2f} and a thinning tail",
            "count",
            Task.MULTICLASS if label_like else Task.REGRESSION,
        )
    if label_like:
        runner = Task.COUNT if lo >= 0 and skew >= COUNT_MIN_SKEW else Task.REGRESSION
        return Inference(
            Task.MULTICLASS,
            0.85,
            f"{span}, at least {int(counts.min())} rows each: class indices",
            "labels",
            runner,
        )
    return Inference(
        Task.REGRESSION,
        0.85,
        f"{span}: many distinct ordered values (type_of_target would call this multiclass)",
        "ordered",
        Task.COUNT if lo >= 0 and mean <= COUNT_MAX_MEAN else None,
    )
