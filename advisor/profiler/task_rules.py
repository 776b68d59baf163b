"""Task inference: explicit, ordered rules that fix the known misses of common heuristics.

scikit-learn's ``type_of_target`` calls any integer target "multiclass" (the diabetes target,
25..346, becomes a 214-class problem) and any 2-D 0/1 matrix "multilabel-indicator" (one-hot
multiclass included); AutoGluon-style rules call anything with unique/rows <= 0.05
multiclass. For choosing a loss those are the wrong questions: what matters is whether values
are ordered quantities, counts, or unordered labels. The rules, first match wins:

==========  =====================================================================  ===========
rule        condition                                                              task
==========  =====================================================================  ===========
hint        ``task=`` given                                                        the hint
strings     text labels (2 distinct: binary)                                       multiclass
bool        boolean dtype, 1-D                                                     binary
onehot      2-D, entries in {0, 1}, every row sums to 1                            multiclass
multihot    2-D, entries in {0, 1}, rows with 0 or several ones                    multilabel
simplex     2-D, entries >= 0, every row sums to 1 (tolerance 1e-3)                distribution
matrix      any other 2-D numeric                                                  regression
two         exactly two distinct values ({0,1}, {0.,1.}, {-1,1} margin-style, ...)  binary
proportion  non-integer values, all in [0, 1], more than 10 distinct, not           regression
            one row at 0 and one at 1 (a min-max rescaling): shares (reading
            "proportion")
real        any other non-integer values                                           regression
count       non-negative integers, mean <= 100, right skew >= 0.1 and >= half a      count
            negative binomial's of the same moments (or >= 20% zeros), not clear of zero (a count of
            these moments would reach below the minimum), min <= mean/2,
            mode <= median + max(1, std/2), and a thinning tail: the largest value in
            <= max(2, 2%) rows or <= 1/20 of the mode's (6+ values; with <= 5 values:
            once or in <= 1.5%, or count ratios shrinking as Poisson's do to <= 5%), or,
            with 5+ values, an interior (or flat-topped) mode with counts falling
            monotonically to a last value <= 1/5 (1/10) of the mode's; or 4..10
            codes with gaps from 0 whose frequencies fall from the first two (the
            last may pool the tail): a how-many-times answer, coarsened (ambiguous
            with regression on fewer than 50 rows with no zero)
labels      integers, 3..50 values contiguous from 0 or 1, >= 5 rows per value on  multiclass
            average and >= 2 each, or <= 10 integer values with >= 5 rows each
            (an interior, unimodal mode over <= 10 codes: an ordinal code, ambiguous
            with regression)
ordered     any other integer target: many distinct ordered values (ambiguous with    regression
            count when the mean is past 100 but the skew is a count's)
==========  =====================================================================  ===========

Integer rules also name a reading (class index, ordinal code, count, measured quantity) and
its runner-up; ``advisor.profiler.integers`` revises them from held-out fits when features
are given (rule ``held-out``). Non-integer values in [0, 1] are read as a proportion (a
share or probability), with a measured quantity as the runner-up; the task stays regression,
and the recommender reads the reading.

ranking, embedding and sequence have no target signature, so they only come from the hint.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from advisor.errors import LabelOutOfRangeError
from advisor.ingest.labels import plain
from advisor.ingest.targets import Cleaned
from advisor.profiler.residuals import MIN_ROWS as HELD_OUT_ROWS
from advisor.vocabulary import Task

ROW_SUM_TOL = 1e-3
COUNT_MAX_MEAN = 100.0
COUNT_MIN_SKEW = 0.1  # Poisson's skew 1/sqrt(mean) stays above it up to mean 100
MAX_CONTIGUOUS_CLASSES = 50
MAX_ARBITRARY_CLASSES = 10
MIN_ROWS_PER_CLASS = 5
SKLEARN_SAMPLE = 20_000


#: what integer values stand for; ``advisor.profiler.integers`` names and maps them to tasks
CLASS_INDEX, ORDINAL, COUNT_READING, MEASURED = "class index", "ordinal code", "count", "measured quantity"
#: what non-integer values confined to [0, 1] stand for (``_continuous``)
PROPORTION = "proportion"
FLOOR_P = 1e-3  # below this chance of seeing no value under the minimum, the values sit clear of 0
SKEW_SHARE = 0.5  # counts are at least half as right-skewed as a negative binomial of their moments
ZERO_MASS = 0.2  # ... unless this share of the rows is zero: zero-inflated counts are less skewed


@dataclass(frozen=True)
class Inference:
    task: Task
    confidence: float
    reason: str
    rule: str
    runner_up: Task | None = None
    reading: str | None = None
    runner_up_reading: str | None = None
    ambiguous: bool = False
    ruled_out: tuple[str, ...] = ()  # readings the codes exclude, whatever a model fits


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
        return _continuous(uniq, counts, n)
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
    offset = _clear_of_zero(v, lo, mean, std)
    nb_skew = _nb_skew(mean, std)
    count_like = (
        lo >= 0
        and mean <= COUNT_MAX_MEAN
        and skew >= COUNT_MIN_SKEW
        and lo <= 0.5 * mean
        and mode <= median + max(1.0, 0.5 * std)  # the sample mode is noisy for large means
        and thinning_tail
        and offset is None
        # zeros in excess lower the skew a count's moments predict (half the rows at 0, the
        # rest Poisson), and a heavy zero mass is itself a count's mark
        and (skew >= SKEW_SHARE * nb_skew or (lo == 0 and counts[0] >= ZERO_MASS * n))
    )
    span = f"{k} distinct integers over {lo:g}..{hi:g}"
    # Survey answers such as 0, 1, 2, 3, 5, 10, 20 "times": codes with gaps are not class
    # indices, and a frequency falling from the lowest codes is a count's, coarsened. The last
    # answer often pools the tail ("20 or more"), so its frequency is not held to the fall.
    coded_counts = (
        not contiguous
        and lo == 0
        and 4 <= k <= MAX_ARBITRARY_CLASSES
        and peak <= 1
        and bool(np.all(np.diff(counts[peak:-1]) <= 0))
        and skew >= COUNT_MIN_SKEW
    )
    if count_like or coded_counts:
        # Without features, class indices whose frequencies fall like a count's cannot be told
        # from counts; ``integers`` asks a quick model when features are given. On fewer rows
        # than that takes, and with no zero (a count's own mark), a count's shape is not told
        # from a skewed measurement's either (stack loss, ten times a percentage, 7 to 42 on
        # 21 rows): both readings stand, the count first.
        few = n < HELD_OUT_ROWS and lo >= 1 and not label_like  # (class-like codes: classes are the runner-up)
        ambiguous = bool(label_like and contiguous) or few
        if coded_counts and not count_like:
            why = f"non-negative codes with gaps ({span}, {k} of the {int(span_width) + 1} values in range) whose frequencies fall from {lo:g}: a count, coarsened"
        else:
            why = f"non-negative integers ({span}) with small mean {mean:.3g}, right skew {skew:.2f} and a thinning tail"
        if few:
            why += (
                f"; but on {n} rows with no zero a count's shape is not told from a skewed measurement's"
            )
        return Inference(
            Task.COUNT,
            0.6 if ambiguous else 0.8,
            why,
            "count",
            Task.MULTICLASS if label_like else Task.REGRESSION,
            COUNT_READING,
            CLASS_INDEX if label_like else MEASURED,
            ambiguous,
        )
    if label_like:
        runner = Task.COUNT if lo >= 0 and skew >= COUNT_MIN_SKEW else Task.REGRESSION
        # A few contiguous codes whose frequencies rise to an interior mode and fall again read
        # as a latent quantity cut into bands (a 1..5 scale): classes with an order, for which
        # a regression loss that uses the order is the honest alternative.
        rising = bool(np.all(np.diff(counts[: peak + 1]) >= 0))
        ordinal = contiguous and k <= MAX_ARBITRARY_CLASSES and 0 < peak < k - 1 and rising and falling
        if ordinal:
            return Inference(
                Task.MULTICLASS,
                0.6,
                f"{span}, at least {int(counts.min())} rows each, frequencies rising to {uniq[peak]:g} and "
                "falling: an ordinal code (ordered classes)",
                "labels",
                Task.REGRESSION,
                ORDINAL,
                MEASURED,
                True,
            )
        return Inference(
            Task.MULTICLASS,
            0.85,
            f"{span}, at least {int(counts.min())} rows each: class indices",
            "labels",
            runner,
            CLASS_INDEX,
            COUNT_READING if runner == Task.COUNT else MEASURED,
        )
    why = f"{span}: many distinct ordered values (type_of_target would call this multiclass)"
    if offset is not None:
        why += f"; {offset}"
    elif lo >= 0 and skew < SKEW_SHARE * nb_skew and skew >= COUNT_MIN_SKEW:
        why += (
            f"; right skew {skew:.2f} is short of the {nb_skew:.2f} a count of this mean and variance "
            "(negative binomial) would show: a measured quantity"
        )
    # Past COUNT_MAX_MEAN a Poisson count is as symmetric as a measurement, so the shape no
    # longer tells them apart; an overdispersed count keeps its skew, though (bills referred
    # to a committee: mean 101, skew 1.1 against the negative binomial's 1.9), and then
    # neither reading can be ruled out from the values alone.
    count_skewed = (
        lo >= 0 and offset is None and mean > COUNT_MAX_MEAN and skew >= max(COUNT_MIN_SKEW, SKEW_SHARE * nb_skew)
    )
    if count_skewed:
        why += (
            f"; a mean of {mean:.4g} is past the {COUNT_MAX_MEAN:g} up to which counts and measurements differ "
            f"in shape, yet the right skew {skew:.2f} is what a count of this mean and variance shows (negative "
            f"binomial: {nb_skew:.2f}), so counts are as likely"
        )
    countable = offset is None and lo >= 0 and (mean <= COUNT_MAX_MEAN or count_skewed)
    return Inference(
        Task.REGRESSION,
        0.6 if count_skewed else 0.85,
        why,
        "ordered",
        Task.COUNT if countable else None,
        MEASURED,
        COUNT_READING if countable else None,
        ambiguous=count_skewed,
        ruled_out=(COUNT_READING,) if offset is not None else (),
    )


def _continuous(uniq: np.ndarray, counts: np.ndarray, n: int) -> Inference:
    """Non-integer values: a measured quantity, or shares when they all lie in [0, 1].

    Values confined to the unit interval are read as shares or probabilities (a fraction of
    trials, of a population, of a budget), whose mean a Bernoulli quasi-likelihood fits
    whatever their distribution on [0, 1], bounds included (Papke & Wooldridge 1996). Not
    when the values are a handful of codes (a rating rescaled to [0, 1] is an ordered code,
    not a share), nor when exactly one row sits at 0 and one at 1: that is what rescaling a
    quantity by its minimum and maximum leaves, and a share reaches a bound either never (a
    continuous share) or in many rows (a fraction of few trials).
    """
    k = uniq.size
    lo, hi = float(uniq[0]), float(uniq[-1])
    plain = Inference(
        Task.REGRESSION, 0.95, f"{k} distinct non-integer values: a continuous quantity", "real"
    )
    if lo < 0.0 or hi > 1.0 or k <= MAX_ARBITRARY_CLASSES:
        return plain
    at_zero = int(counts[0]) if lo == 0.0 else 0
    at_one = int(counts[-1]) if hi == 1.0 else 0
    if at_zero == 1 and at_one == 1:
        return Inference(
            Task.REGRESSION,
            0.85,
            f"{k} distinct non-integer values over exactly [0, 1], with one row at 0 and one at 1: "
            "a quantity rescaled by its minimum and maximum, not shares",
            "real",
            reading=MEASURED,
            runner_up_reading=PROPORTION,
        )
    at = [f"{100 * rows / n:.1f}% of rows exactly at {end}" for end, rows in ((0, at_zero), (1, at_one)) if rows]
    bounds = " and ".join(at) or "none exactly at 0 or 1"
    return Inference(
        Task.REGRESSION,
        0.9,
        f"{k} distinct non-integer values, every one within [0, 1] ({lo:.4g} to {hi:.4g}; {bounds}): "
        "shares or probabilities, a regression whose predictions must stay inside the unit interval",
        "proportion",
        reading=PROPORTION,
        runner_up_reading=MEASURED,
    )


def _nb_skew(mean: float, std: float) -> float:
    """Skew of the negative binomial (Poisson when not overdispersed) with this mean and
    standard deviation: (2·var/mean - 1)/sd; the least right skew a count of them shows."""
    if not (mean > 0 and 0 < std < np.inf):
        return 0.0
    dispersion = max(std**2 / mean, 1.0)
    return (2.0 * dispersion - 1.0) / std


def _clear_of_zero(v: np.ndarray, lo: float, mean: float, std: float) -> str | None:
    """Why the values are not counts because they keep clear of zero, or None.

    A count of this mean and variance (negative binomial; counts are often truncated at 0,
    so its zeros are set aside) reaches below the smallest value seen; when seeing no such
    row in n is less likely than ``FLOOR_P``, the values are measured from an offset (ages
    from 18), not counted from 0.
    """
    if not (lo >= 2 and mean > 0 and 0 < std < np.inf):
        return None
    from scipy import stats

    var = std**2
    if var > mean:
        r = mean**2 / (var - mean)
        dist = stats.nbinom(r, r / (r + mean))
    else:
        dist = stats.poisson(mean)
    p0 = float(dist.pmf(0))
    below = (float(dist.cdf(lo - 1)) - p0) / max(1.0 - p0, 1e-300)
    chance = float(np.exp(v.size * np.log1p(-min(below, 1.0 - 1e-16))))
    if chance >= FLOOR_P:
        return None
    return (
        f"a count of this mean and variance puts {100 * below:.1f}% of its non-zero values below {lo:g}, "
        f"yet none of {v.size} rows is there: values measured from an offset, not counted from 0"
    )
