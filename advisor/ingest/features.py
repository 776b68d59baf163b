"""Features: a table as it arrives, to the numeric matrix a model reads, with a report.

Two steps, so cross-validation can read a table once and fit once per fold:

1. ``read`` looks at every column once: numbers, booleans, text, categories, datetimes or a
   mix. Text and categories become integer codes (``pandas.factorize``), the missing
   markers of ``advisor.ingest.missing`` included; datetimes become their numeric parts.
   Columns that cannot help a model are screened out with a reason: all missing, constant,
   or ID-like (text with a distinct value in nearly every row, or integers counting rows).
   Screening reads feature values only, never the targets. The caller's stop signal
   (``advisor.cancel``, installed by ``advisor.profile``) is checked before each column.
2. ``FeaturePreparer.fit`` fits one scikit-learn ``ColumnTransformer`` on the rows it is
   given (a fold's training rows inside ``validate``), and ``transform`` writes what it
   outputs for any rows, straight from its fitted medians and categories (held equal to
   its own ``transform`` by the tests, at a fifth of the cost):

   - numeric columns: median imputation, plus a missing-indicator column where the fitted
     rows had missing values;
   - categorical columns: ``OneHotEncoder(handle_unknown="infrequent_if_exist")``, with
     categories rarer than ``min_category_rows`` grouped as "infrequent" and at most
     ``max_categories`` columns each. A missing value is a category of its own.

The medians and category lists come from at most ``fit_rows`` of those rows, drawn with a
fixed seed: a median from 100,000 rows is within a fraction of a percentile of the exact
one, and the fit stays a small part of preparing a million rows (0.2 s of about 0.8 s,
``benchmarks/test_ingest_bench.py``). ``fit_rows=None`` fits on all.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from advisor.cancel import check
from advisor.errors import DTypeError, EmptyInputError, InvalidInputError, NonFiniteError
from advisor.ingest.missing import TEXT_MARKERS, is_missing
from advisor.ingest.table import as_frame
from advisor.schema.profile import ColumnPreparation, FeaturePreparation

MAX_CATEGORIES = 32
MIN_CATEGORY_ROWS = 10
FIT_ROWS = 100_000
#: rows ``transform`` writes at a time: a block of 127 outputs is 2 MB, which stays in cache
TRANSFORM_ROWS = 4096
#: The largest float32: prepared features are float32, the dtype the models read.
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: text columns with more distinct values than this share of their rows are identifiers
ID_DISTINCT_SHARE = 0.9
#: fewer rows than this and "every value distinct" says nothing about identifiers
ID_MIN_ROWS = 20
#: the numeric parts of a datetime column: output name → pandas ``.dt`` attribute
DATETIME_PARTS = {
    "year": "year",
    "month": "month",
    "day": "day",
    "weekday": "day_of_week",
    "hour": "hour",
}


@dataclass
class Column:
    """One input column as read: its kind, and the values the transformer will see."""

    name: str
    kind: str  # ColumnPreparation.kind
    role: str  # "numeric", "categorical" or "dropped"
    reason: str
    n_missing: int
    n_distinct: int | None  # None: non-integer numbers, not counted
    values: list[np.ndarray] = field(default_factory=list)  # (n,) float64 arrays
    parts: list[str] = field(default_factory=list)  # output names of numeric values
    labels: list[Any] = field(default_factory=list)  # categorical: code → label


@dataclass
class ReadTable:
    """A table's columns, read once; ``FeaturePreparer`` fits on any subset of its rows."""

    columns: list[Column]
    n_rows: int
    notes: list[str]

    def numeric(self) -> list[tuple[Column, int]]:
        return [(c, j) for c in self.columns if c.role == "numeric" for j in range(len(c.values))]

    def categorical(self) -> list[Column]:
        return [c for c in self.columns if c.role == "categorical"]

    def block(self, rows: np.ndarray | None = None) -> np.ndarray:
        """(rows, inputs) float32: the numeric values, then the category codes.

        float32 is what the models read; it holds category codes exactly below 2**24.
        """
        arrays = [c.values[j] for c, j in self.numeric()]
        arrays += [c.values[0] for c in self.categorical()]
        n = self.n_rows if rows is None else len(rows)
        if rows is not None and n and rows[-1] - rows[0] == n - 1 and (np.diff(rows) == 1).all():
            rows = slice(int(rows[0]), int(rows[-1]) + 1)  # a run of rows: views, no gather
        out = np.empty((n, len(arrays)), dtype=np.float32)
        for j, a in enumerate(arrays):
            out[:, j] = a if rows is None else a[rows]
        return out


def read(
    features: Any,
    n_rows: int | None = None,
    categorical: Sequence[str] | None = None,
    *,
    screen: bool = True,
) -> ReadTable:
    """Read every column of ``features`` (any table ``as_frame`` takes) once.

    ``categorical`` names columns to encode as categories whatever they hold (integer codes,
    say); without it, text, category, boolean and mixed columns are categorical.
    ``screen=False`` keeps all-missing, constant and ID-like columns: for a matrix whose
    columns the caller already chose (scikit-learn estimators).
    """
    frame = as_frame(features, "features", n_rows)
    forced = set(categorical or ())
    unknown = sorted(forced - set(frame.columns))
    if unknown:
        raise InvalidInputError(
            f"names {unknown[0]!r}, which is not a column; columns are {', '.join(frame.columns)}",
            field="categorical",
            expected=list(frame.columns),
            got=unknown[0],
        )
    notes: list[str] = []
    columns = []
    for name in frame.columns:
        check()  # the caller's stop signal (advisor.cancel): a million rows' column is a step
        columns.append(_read_column(frame[name], name, name in forced, notes))
    if screen:
        for column in columns:
            _screen(column, int(frame.shape[0]))
    if not any(c.role != "dropped" for c in columns):
        reasons = "; ".join(f"{c.name}: {c.reason}" for c in columns[:5])
        raise EmptyInputError(
            f"no usable column is left ({reasons})",
            field="features",
            expected="at least one column that varies",
            got=[c.name for c in columns],
        )
    return ReadTable(columns, int(frame.shape[0]), notes)


def _read_column(series: Any, name: str, forced: bool, notes: list[str]) -> Column:
    """One column as read. Typed columns (numbers, booleans, datetimes) keep their type;
    everything else is read from its distinct values alone, so a column means the same
    whether it arrives typed by pandas, as a CSV file's text or as the wire's strings."""
    import pandas as pd
    from pandas.api import types

    where = f"features.{name}"
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # categories whatever they hold
        series, dtype, forced = series.astype(object), np.dtype(object), True
    if types.is_bool_dtype(dtype):
        return _categorical(series, name, "boolean")
    if types.is_datetime64_any_dtype(dtype):
        return _datetime(series, name)
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return _categorical(series, name, "numeric") if forced else _numeric(values, name, where)
    if types.is_timedelta64_dtype(dtype):
        values = series.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)
        return _numeric(values, name, where)
    inferred = types.infer_dtype(series, skipna=True)
    if inferred in ("bytes", "complex", "period", "interval", "decimal", "time"):
        raise DTypeError(
            f"column {name!r} holds {inferred} values, which are neither numbers nor text",
            field=where,
            expected="numbers, text, booleans or datetimes",
            got=inferred,
        )
    if inferred in ("datetime", "datetime64", "date"):  # date objects: read as their ISO text
        series = series.map(_iso_text)
    column = _categorical(series, name, "text")
    if not column.labels:  # nothing but missing cells, whichever way they were written
        return _numeric(np.full(len(series), np.nan), name, where)
    if all(isinstance(v, (bool, np.bool_)) or str(v).lower() in ("true", "false") for v in column.labels):
        column.kind = "boolean"  # pandas' booleans with holes, or a CSV's True/False text
        column.labels = [v if isinstance(v, (bool, np.bool_)) else str(v).lower() == "true" for v in column.labels]
        return column
    numbers = _label_numbers(column.labels)
    read_as_number = np.isfinite(numbers)
    if read_as_number.all():
        if forced:
            column.kind = "numeric"
            return column
        codes = column.values[0].astype(np.int64)
        values = np.where(codes >= 0, numbers[np.maximum(codes, 0)], np.nan)
        return _numeric(values, name, where)
    if read_as_number.any():
        column.kind = "mixed"
        notes.append(f"{name}: mixes numbers and text, so it was encoded as categories")
        return column
    stamps = None if forced else _as_datetimes(column.labels, name)
    if stamps is not None:
        codes = column.values[0].astype(np.int64)
        return _datetime(pd.Series(stamps.take(codes, allow_fill=True, fill_value=pd.NaT)), name)
    return column


def _numeric(values: np.ndarray, name: str, where: str) -> Column:
    values = np.ascontiguousarray(values, dtype=np.float64)
    missing = np.isnan(values)
    n_missing = int(np.count_nonzero(missing))
    present = values[~missing] if n_missing else values
    lo, hi = (float(present.min()), float(present.max())) if present.size else (0.0, 0.0)
    if np.isinf(lo) or np.isinf(hi):
        raise NonFiniteError(
            f"column {name!r} holds {int(np.isinf(present).sum())} infinite values",
            field=where,
            expected="finite numbers (NaN counts as missing)",
            got="inf",
        )
    if max(-lo, hi) > FLOAT32_MAX:  # the models read float32, where these become infinite
        beyond = int(np.count_nonzero(np.abs(present) > FLOAT32_MAX))
        raise NonFiniteError(
            f"column {name!r} holds {beyond} values beyond float32's range (±{FLOAT32_MAX:.3g}), "
            "which the models read; rescale the column (a log, or a change of unit)",
            field=where,
            expected=f"|values| <= {FLOAT32_MAX:.3g}",
            got=lo if -lo > hi else hi,
        )
    n_distinct = _distinct_numbers(present)
    column = Column(name, "numeric", "numeric", "", n_missing, n_distinct, [values], [name])
    if n_missing:
        column.reason = f"{n_missing} missing values imputed with the median, with an indicator"
    else:
        column.reason = "numeric, used as is"
    return column


def _distinct_numbers(values: np.ndarray) -> int | None:
    """Distinct values of integer-valued numbers (exact, by counting when their range is
    small); None for other numbers, whose count would cost a sort and decide nothing: a
    continuous column is neither constant (told by its range) nor a row counter."""
    if values.size == 0:
        return 0
    low, high = float(values.min()), float(values.max())
    if low == high:
        return 1
    head = values[:1024]  # most continuous columns show it in their first rows
    if not np.array_equal(head, np.round(head)) or not np.array_equal(values, np.round(values)):
        return None
    if high - low < 4 * values.size:
        return int(np.count_nonzero(np.bincount((values - low).astype(np.int64))))
    return int(np.unique(values).size)


def _categorical(series: Any, name: str, kind: str) -> Column:
    import pandas as pd

    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable cells (dicts, lists): the cell check names the first
        _check_cells(list(series), name)
        raise
    labels = uniques.tolist()
    if isinstance(uniques.dtype, pd.StringDtype):  # text only: markers found vectorised
        marker = pd.Series(uniques).str.strip().str.lower().isin(TEXT_MARKERS).to_numpy(dtype=bool)
    else:
        marker = np.array([is_missing(v) for v in labels], dtype=bool)
        _check_cells(labels, name)
    if marker.any():  # text markers ("", "NA") are missing values too
        remap = np.where(marker, -1, np.cumsum(~marker) - 1)
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        labels = [v for v, m in zip(labels, marker, strict=True) if not m]
    n_missing = int((codes < 0).sum())
    column = Column(
        name,
        kind,
        "categorical",
        "",
        n_missing,
        len(labels),
        [codes.astype(np.float64)],
        labels=[_plain(v) for v in labels],
    )
    column.reason = f"{len(labels)} categories one-hot encoded" + (
        f"; {n_missing} missing values are a category of their own" if n_missing else ""
    )
    return column


def _datetime(series: Any, name: str) -> Column:
    stamps = series.dt
    values = [
        getattr(stamps, attribute).to_numpy(dtype=np.float64, na_value=np.nan)
        for attribute in DATETIME_PARTS.values()
    ]
    n_missing = int(np.isnan(values[0]).sum())
    keep = [
        (part, v)
        for part, v in zip(DATETIME_PARTS, values, strict=True)
        if np.unique(v[~np.isnan(v)]).size > 1
    ]
    wall = series.dt.tz_localize(None) if series.dt.tz is not None else series
    n_distinct = int(wall.nunique(dropna=True))  # on the clock the parts read, as text is
    column = Column(name, "datetime", "numeric", "", n_missing, n_distinct)
    if not keep:  # distinct instants that share every part (seconds apart, say)
        keep = list(zip(DATETIME_PARTS, values, strict=True))
        column.reason = "its year, month, day, weekday and hour never change"
    column.values = [v for _, v in keep]
    column.parts = [f"{name}.{part}" for part, _ in keep]
    column.reason = column.reason or f"datetimes as their {', '.join(p for p, _ in keep)}" + (
        f"; {n_missing} missing imputed with the median" if n_missing else ""
    )
    return column


def _screen(column: Column, n: int) -> None:
    """Drop a column no model can learn from: all missing, constant, or an identifier."""
    n_present = n - column.n_missing
    if column.n_missing == n:
        _drop(column, f"all {n} values are missing")
    elif column.n_distinct == 1 and column.n_missing == 0:
        _drop(column, "constant: one value in every row")
    elif column.kind == "datetime" and column.reason.startswith("its year"):
        _drop(column, column.reason)
    elif column.kind == "numeric" and column.n_distinct == n >= ID_MIN_ROWS:
        distinct = np.unique(column.values[0])
        if np.all(distinct == np.round(distinct)) and np.all(np.diff(distinct) == 1):
            _drop(column, f"ID-like: {n} distinct consecutive integers, one per row")
    elif (
        column.kind in ("text", "mixed")
        and n_present >= ID_MIN_ROWS
        and column.n_distinct > MAX_CATEGORIES
        and column.n_distinct >= ID_DISTINCT_SHARE * n_present
    ):
        _drop(column, f"ID-like: {column.n_distinct} distinct values in {n_present} rows")


def _drop(column: Column, reason: str) -> None:
    column.role, column.reason, column.values, column.parts = "dropped", reason, [], []


def _check_cells(labels: list[Any], name: str) -> None:
    for v in labels:
        if not isinstance(v, (str, bool, int, float, np.number, np.bool_)) and not is_missing(v):
            raise DTypeError(
                f"column {name!r} holds a {type(v).__name__} value; cells must be numbers or text",
                field=f"features.{name}",
                expected="numbers, text, booleans or datetimes",
                got=type(v).__name__,
            )


#: text that reads as a finite decimal number ("3", "-2.5", " 1e3 ", ".5")
_NUMBER = r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*"


def _label_numbers(labels: list[Any]) -> np.ndarray:
    """Each label as a float64, NaN where it is not a finite number nor text that reads as
    one: a column's labels all read as numbers, none do (text), or some do (mixed).

    Text is matched against ``_NUMBER`` by pandas' vectorised string methods (in C++ where
    pandas keeps text in Arrow) and only matches are parsed: an identifier column's million
    distinct labels (UUIDs, "cust-0012345") cost a pass of a regular expression, not a
    million failed parses.
    """
    import pandas as pd

    cells = pd.Series(labels, dtype=object)
    text = cells.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    numbers = np.full(len(labels), np.nan)
    if text.any():
        words = pd.Series(cells[text].tolist(), dtype="str")
        match = words.str.fullmatch(_NUMBER).to_numpy(dtype=bool, na_value=False)
        numbers[np.flatnonzero(text)[match]] = pd.to_numeric(words[match]).to_numpy(dtype=np.float64)
    others = np.flatnonzero(~text)
    plain = [
        i
        for i in others
        if isinstance(labels[i], (int, float, np.integer, np.floating))
        and not isinstance(labels[i], (bool, np.bool_))  # bools are not numbers here
    ]
    numbers[plain] = [float(labels[i]) for i in plain]
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers


#: how text dates begin; ``_as_datetimes`` looks at ``DATE_PROBE`` labels before parsing all
_DATE = re.compile(r"\s*\d{4}-\d{1,2}(?:-\d{1,2})?(?:$|[T\s])")
DATE_PROBE = 64
#: a time of day followed by its zone: "Z", "+02:00", "+0200" or "+02"
_ZONE = re.compile(r"(\d\d:\d\d(?::\d\d(?:\.\d*)?)?)\s*(?:Z|[+-]\d\d(?::?\d\d)?)$")


def _as_datetimes(labels: list[Any], name: str) -> Any:
    """The labels as a DatetimeIndex when every one is ISO 8601 text ("2024-05-01",
    "2024-05-01T10:00:00+02:00"): dates in CSV files and on the wire arrive as text.

    Text with zones reads as the wall time it states, as pandas reads a zoned column's
    parts: a zone's summer and winter offsets (+01:00, +02:00) are one column. Some labels
    with a zone and others without cannot be placed on one clock: ``DTypeError``.
    """
    import pandas as pd

    if not all(isinstance(v, str) and _DATE.match(v) for v in labels[:DATE_PROBE]):
        return None  # a look at the first labels spares identifiers with dashes (UUIDs) a parse
    if not all(isinstance(v, str) and "-" in v for v in labels):
        return None
    try:
        return pd.DatetimeIndex(pd.to_datetime(labels, format="ISO8601"))
    except (TypeError, ValueError, OverflowError):
        pass  # mixed offsets, or not dates at all
    zoned = [bool(_ZONE.search(v.strip())) for v in labels]
    wall = [_ZONE.sub(r"\1", v.strip()) for v in labels]
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(wall, format="ISO8601"))
    except (TypeError, ValueError, OverflowError):
        return None
    if any(zoned) and not all(zoned):
        raise DTypeError(
            f"column {name!r} mixes time-zone-aware and naive datetimes",
            field=f"features.{name}",
            expected="datetimes that all carry a time zone, or none",
            got="mixed time zones",
        )
    return stamps


def _iso_text(value: Any) -> Any:
    """A date or datetime object as ISO 8601 text (missing cells stay as they are)."""
    return value.isoformat() if hasattr(value, "isoformat") and not is_missing(value) else value


def _plain(value: Any) -> Any:
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


class FeaturePreparer:
    """One ``ColumnTransformer`` over a ``ReadTable``: fit on some rows, transform any.

    ``fit_rows`` bounds the rows the medians and category lists are taken from (None: all).
    """

    def __init__(
        self,
        *,
        max_categories: int = MAX_CATEGORIES,
        min_category_rows: int = MIN_CATEGORY_ROWS,
        fit_rows: int | None = FIT_ROWS,
        seed: int = 0,
    ) -> None:
        self.max_categories = max_categories
        self.min_category_rows = min_category_rows
        self.fit_rows = fit_rows
        self.seed = seed

    def fit(self, table: ReadTable, rows: np.ndarray | None = None) -> FeaturePreparer:
        """Fit on ``rows`` of ``table`` (all rows when None).

        ``transformer_`` is the fitted scikit-learn ``ColumnTransformer``: a
        ``SimpleImputer`` (medians, which columns get an indicator) over the numeric inputs
        and a ``OneHotEncoder`` (categories, the infrequent group, the cap) over the
        category codes. ``transform`` applies what they fitted.
        """
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import OneHotEncoder

        chosen = np.arange(table.n_rows) if rows is None else np.asarray(rows)
        if self.fit_rows is not None and chosen.size > self.fit_rows:
            rng = np.random.default_rng(self.seed)
            chosen = np.sort(rng.choice(chosen, self.fit_rows, replace=False))
        n_numeric = len(table.numeric())
        n_categorical = len(table.categorical())
        steps = []
        if n_numeric:
            imputer = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
            steps.append(("numeric", imputer, list(range(n_numeric))))
        if n_categorical:
            encoder = OneHotEncoder(
                handle_unknown="infrequent_if_exist",
                min_frequency=self.min_category_rows,
                max_categories=self.max_categories,
                sparse_output=False,
                dtype=np.float32,
            )
            steps.append(
                ("categorical", encoder, list(range(n_numeric, n_numeric + n_categorical)))
            )
        self.transformer_ = ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)
        with warnings.catch_warnings():
            # scikit-learn warns when a category list is shorter than max_categories
            warnings.simplefilter("ignore", UserWarning)
            self.transformer_.fit(table.block(chosen))
        fitted = self.transformer_.named_transformers_
        self.imputer_ = fitted["numeric"] if n_numeric else None
        self.encoder_ = fitted["categorical"] if n_categorical else None
        self.table_ = table
        self.fitted_rows_ = int(chosen.size)
        return self

    def transform(self, table: ReadTable, rows: np.ndarray | None = None) -> np.ndarray:
        """(rows, outputs) float32 of ``table``, read the way the fitted table was.

        What ``transformer_.transform`` outputs (the tests hold the two equal), written
        straight into one array: scikit-learn's transform of a million rows builds a float32
        copy of the table, an encoded copy and a stacked copy, and searches every cell's
        code among the categories; here a category code indexes a lookup table of output
        columns. Rows go in blocks of ``TRANSFORM_ROWS``, each block's columns written
        while it is in cache: a row holds every output column, so writing one column of a
        million rows touches every cache line of the whole array. The caller's stop signal
        (``advisor.cancel``) is checked before each block.
        """
        chosen = np.arange(table.n_rows) if rows is None else np.asarray(rows)
        whole = rows is None  # blocks of consecutive rows are read as slices, not gathered
        numeric = [column.values[part] for column, part in table.numeric()]
        medians = self.imputer_.statistics_.astype(np.float32) if self.imputer_ else None
        indicator = self.imputer_.indicator_ if self.imputer_ else None
        flagged = [] if indicator is None else list(indicator.features_)
        categorical = [column.values[0] for column in table.categorical()]
        lookups = [self._lookup(i, len(c.labels)) for i, c in enumerate(table.categorical())]
        offsets = np.cumsum([len(numeric) + len(flagged)] + [lut.max(initial=-1) + 1 for lut in lookups])
        out = np.zeros((chosen.size, int(offsets[-1])), dtype=np.float32)
        for start in range(0, chosen.size, TRANSFORM_ROWS):
            check()
            block = chosen[start : start + TRANSFORM_ROWS]
            if whole:
                block = slice(start, start + TRANSFORM_ROWS)
            part = out[start : start + TRANSFORM_ROWS]
            for j, values in enumerate(numeric):
                part[:, j] = values[block]
            if numeric:
                holes = np.isnan(part[:, : len(numeric)])
                np.copyto(part[:, : len(numeric)], medians, where=holes)
                part[:, len(numeric) : offsets[0]] = holes[:, flagged]
            cells = part.reshape(-1)  # a view: the block's rows are contiguous
            row_starts = np.arange(part.shape[0]) * part.shape[1]
            for codes, lookup, at in zip(categorical, lookups, offsets, strict=False):
                target = lookup[codes[block].astype(np.int64) + 1]
                hit = target >= 0
                cells[(row_starts + at + target)[hit]] = 1.0
        return out

    def _categories(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Categorical input ``i`` as the fitted encoder lays it out: its frequent category
        codes in output order (-1 is the missing category), and the codes it groups as
        infrequent, which share one column after them."""
        assert self.encoder_ is not None
        categories = self.encoder_.categories_[i].astype(np.int64)
        rare = self.encoder_.infrequent_categories_[i]
        rare_codes = np.zeros(0, dtype=np.int64) if rare is None else rare.astype(np.int64)
        return categories[~np.isin(categories, rare_codes)], rare_codes

    def _lookup(self, i: int, n_labels: int) -> np.ndarray:
        """Categorical input ``i`` of ``n_labels`` labels: output column (from 0) per code
        + 1, -1 for none.

        The encoder's layout (``_categories``): its frequent categories in order, then one
        column for the infrequent group, which also takes codes it never saw when it exists;
        without it an unseen code sets no column. Codes run from -1 (missing) to the table's
        label count.
        """
        frequent, rare_codes = self._categories(i)
        lookup = np.full(n_labels + 1, len(frequent) if rare_codes.size else -1, dtype=np.int64)
        lookup[frequent + 1] = np.arange(len(frequent))
        return lookup

    def output_names(self) -> list[str]:
        """A readable name per output column: ``age``, ``age.missing``, ``city=Paris``."""
        return [name for _, name in self._outputs()]

    def report(self) -> FeaturePreparation:
        """What became of each input column."""
        outputs: dict[str, list[str]] = {}
        for column, name in self._outputs():
            outputs.setdefault(column, []).append(name)
        columns = []
        notes = list(self.table_.notes)
        encoded = {c.name: i for i, c in enumerate(self.table_.categorical())}
        for c in self.table_.columns:
            out = outputs.get(c.name, [])
            reason = c.reason
            if c.name in encoded:
                reason, note = self._encoding(c, encoded[c.name])
                notes += [note] if note else []
            action = (
                "dropped"
                if c.role == "dropped"
                else "encoded"
                if c.role == "categorical"
                else "imputed"
                if c.n_missing
                else "used"
            )
            columns.append(
                ColumnPreparation(
                    name=c.name,
                    kind=c.kind,
                    action=action,
                    reason=reason,
                    n_missing=c.n_missing,
                    n_distinct=c.n_distinct,
                    outputs=out,
                )
            )
        return FeaturePreparation(
            columns=columns,
            n_input_columns=len(columns),
            n_output_columns=sum(len(c.outputs) for c in columns),
            fitted_rows=self.fitted_rows_,
            max_categories=self.max_categories,
            min_category_rows=self.min_category_rows,
            notes=notes,
        )

    def _encoding(self, column: Column, i: int) -> tuple[str, str | None]:
        """What the fitted encoder made of categorical input ``i``: the reason, and a note
        when most of its categories share the infrequent column (an identifier-like column
        that the screening kept, say)."""
        frequent, rare_codes = self._categories(i)
        n_own = int(np.count_nonzero(frequent >= 0))
        n_rare = int(np.count_nonzero(rare_codes >= 0))
        unseen = (column.n_distinct or 0) - n_own - n_rare
        parts = [f"{n_own} of {column.n_distinct} categories one-hot encoded"]
        if n_rare:
            parts.append(
                f"{n_rare} rarer than {self.min_category_rows} rows or past the cap of "
                f"{self.max_categories} columns share one (infrequent) column"
            )
        if unseen:
            where = "join the (infrequent) column" if rare_codes.size else "set no column"
            parts.append(f"{unseen} absent from the {self.fitted_rows_} fitted rows {where}")
        if column.n_missing:
            parts.append(f"{column.n_missing} missing values are a category of their own")
        note = None
        if n_rare + unseen > max(self.max_categories, (column.n_distinct or 0) // 2):
            note = (
                f"{column.name}: {n_rare + unseen} of its {column.n_distinct} categories have no "
                "column of their own; pass it as a numeric code or drop it if it identifies rows"
            )
        return "; ".join(parts), note

    def _outputs(self) -> list[tuple[str, str]]:
        """(input column, output name) per output column, in the transformer's order."""
        table = self.table_
        numeric = table.numeric()
        names: list[tuple[str, str]] = []
        if numeric:
            names += [(column.name, column.parts[j]) for column, j in numeric]
            indicator = self.imputer_.indicator_
            for k in indicator.features_ if indicator is not None else []:
                column, j = numeric[k]
                names.append((column.name, f"{column.parts[j]}.missing"))
        categorical = table.categorical()
        for i, column in enumerate(categorical):
            frequent, rare_codes = self._categories(i)
            for code in frequent:
                label = "(missing)" if code < 0 else str(column.labels[int(code)])
                names.append((column.name, f"{column.name}={label}"))
            if rare_codes.size:
                names.append((column.name, f"{column.name}=(infrequent)"))
        return names
