"""Feature preparation: what each column becomes, checked against pandas and scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.errors import (
    DTypeError,
    EmptyInputError,
    InvalidInputError,
    NonFiniteError,
    ShapeMismatchError,
)
from advisor.ingest.features import MAX_CATEGORIES, FeaturePreparer, read
from tests.ingest.frames import mixed


def _prepared(frame, **kwargs):
    table = read(frame, **kwargs)
    preparer = FeaturePreparer().fit(table)
    return table, preparer, preparer.report()


def test_every_column_is_reported_with_what_became_of_it():
    frame, _ = mixed()
    table, preparer, report = _prepared(frame)
    by_name = {c.name: c for c in report.columns}
    assert [c.name for c in report.columns] == list(frame.columns)
    assert by_name["customer_id"].action == "dropped" and "ID-like" in by_name["customer_id"].reason
    assert by_name["country"].action == "dropped" and "constant" in by_name["country"].reason
    assert by_name["comment"].action == "dropped" and "missing" in by_name["comment"].reason
    city = by_name["city"]
    assert (city.kind, city.action, city.n_distinct) == ("text", "encoded", 4)
    assert city.n_missing == int(frame["city"].isna().sum() + (frame["city"] == "").sum())
    assert set(city.outputs) == {f"city={c}" for c in ("north", "south", "east", "west", "(missing)")}
    income = by_name["income"]
    assert income.action == "imputed" and income.outputs == ["income", "income.missing"]
    assert by_name["member"].kind == "boolean" and by_name["member"].action == "encoded"
    assert by_name["plan_code"].action == "used"  # integers are numbers unless named
    assert by_name["signup"].kind == "datetime"
    assert by_name["signup"].outputs == ["signup.year", "signup.month", "signup.day", "signup.weekday"]
    x = preparer.transform(table)
    assert x.shape == (len(frame), report.n_output_columns) == (len(frame), len(preparer.output_names()))
    assert np.isfinite(x).all()


def test_outputs_equal_pandas_and_scikit_learn_computed_directly():
    frame, _ = mixed()
    table, preparer, _ = _prepared(frame)
    x = pd.DataFrame(preparer.transform(table), columns=preparer.output_names())
    income = frame["income"]
    np.testing.assert_allclose(x["income"], income.fillna(income.median()), rtol=1e-6)
    np.testing.assert_array_equal(x["income.missing"], income.isna().astype(float))
    np.testing.assert_array_equal(x["city=west"], (frame["city"] == "west").astype(float))
    missing_city = frame["city"].isna() | (frame["city"] == "")
    np.testing.assert_array_equal(x["city=(missing)"], missing_city.astype(float))
    np.testing.assert_array_equal(x["signup.month"], frame["signup"].dt.month.astype(float))
    np.testing.assert_array_equal(x["member=True"], frame["member"].astype(float))


@pytest.mark.parametrize("fit_on", ["all", "no-west", "half", "few"])
@pytest.mark.parametrize("transform_on", ["all", "shuffled", "one", "none"])
def test_transform_equals_the_fitted_scikit_learn_transformer(fit_on, transform_on):
    """The fitted ``ColumnTransformer``'s own ``transform`` is the reference: unseen and
    infrequent categories, missing cells in fitted rows or only outside them, any rows."""
    frame, _ = mixed(n=3_000)
    table = read(frame)
    rng = np.random.default_rng(7)
    n = len(frame)
    fitted = {
        "all": None,
        "no-west": np.flatnonzero(frame["city"].to_numpy() != "west"),
        "half": np.sort(rng.choice(n, n // 2, replace=False)),
        "few": np.arange(40),  # rare categories go infrequent; some never seen
    }[fit_on]
    rows = {
        "all": None,
        "shuffled": rng.permutation(n),
        "one": np.array([n - 1]),
        "none": np.array([], dtype=np.int64),
    }[transform_on]
    preparer = FeaturePreparer(min_category_rows=5, max_categories=4).fit(table, fitted)
    if rows is not None and rows.size == 0:  # scikit-learn refuses no rows: its width then
        expected = preparer.transformer_.transform(table.block(np.array([0])))[:0]
    else:
        expected = preparer.transformer_.transform(table.block(rows))
    got = preparer.transform(table, rows)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_transform_reads_in_blocks_and_checks_the_stop_signal_per_block(monkeypatch):
    import advisor.ingest.features as features
    from advisor.cancel import cancellable
    from advisor.errors import CancelledError

    frame, _ = mixed(n=1_000)
    table = read(frame)
    preparer = FeaturePreparer().fit(table)
    whole = preparer.transform(table)
    monkeypatch.setattr(features, "TRANSFORM_ROWS", 64)
    np.testing.assert_array_equal(preparer.transform(table), whole)
    calls = []
    with cancellable(lambda: calls.append(1) or len(calls) > 3), pytest.raises(CancelledError):
        preparer.transform(table)
    assert len(calls) == 4


def test_categorical_names_integer_codes_and_unknown_names_are_refused():
    frame, _ = mixed()
    *_, report = _prepared(frame, categorical=["plan_code"])
    code = next(c for c in report.columns if c.name == "plan_code")
    assert code.action == "encoded" and len(code.outputs) == 4
    with pytest.raises(InvalidInputError) as err:
        read(frame, categorical=["plan"])
    assert err.value.field == "categorical" and "plan_code" in str(err.value)


def test_categories_seen_only_outside_the_fitted_rows_get_no_column():
    frame, _ = mixed()
    table = read(frame)
    fitted = np.flatnonzero(frame["city"].to_numpy() != "west")
    preparer = FeaturePreparer().fit(table, fitted)
    names = preparer.output_names()
    assert "city=west" not in names
    x = pd.DataFrame(preparer.transform(table), columns=names)
    west = (frame["city"] == "west").to_numpy()
    city_columns = [n for n in names if n.startswith("city=")]
    assert (x.loc[west, city_columns].to_numpy() == 0).all()


def test_rare_categories_are_grouped_and_capped():
    rng = np.random.default_rng(1)
    n = 120_000
    common = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    rare = np.array([f"v{i}" for i in range(100_000)], dtype=object)
    values = np.where(rng.random(n) < 0.5, common, rare[rng.integers(0, 100_000, n)])
    frame = pd.DataFrame({"many": values, "x": rng.normal(size=n)})
    *_, report = _prepared(frame)
    many = report.columns[0]
    assert many.action == "encoded" and many.n_distinct > 40_000
    assert len(many.outputs) <= MAX_CATEGORIES and many.outputs[-1] == "many=(infrequent)"
    assert {"many=a", "many=b", "many=c"} <= set(many.outputs)
    # the report says how many categories got a column, not "all of them one-hot encoded"
    own = len(many.outputs) - 1
    assert many.reason.startswith(f"{own} of {many.n_distinct} categories one-hot encoded")
    assert "share one (infrequent) column" in many.reason
    assert any(note.startswith("many: ") and "no column of their own" in note for note in report.notes)


def test_a_column_of_few_categories_says_each_has_its_column():
    frame, _ = mixed()
    *_, report = _prepared(frame)
    city = next(c for c in report.columns if c.name == "city")
    assert city.reason.startswith("4 of 4 categories one-hot encoded")
    assert "infrequent" not in city.reason and not any(n.startswith("city:") for n in report.notes)


def test_text_that_reads_as_numbers_or_dates_or_booleans():
    frame = pd.DataFrame(
        {
            "amount": np.array(["1.5", "2", "NA", "4.25"] * 10, dtype=object),
            "day": np.array(["2024-01-05", "2024-02-11", "", "2024-03-30"] * 10, dtype=object),
            "flag": np.array(["True", "False", "True", None] * 10, dtype=object),
            "mixed": np.array([1, "x", 2.5, "y"] * 10, dtype=object),
        }
    )
    _, _, report = _prepared(frame)
    kinds = {c.name: (c.kind, c.action) for c in report.columns}
    assert kinds == {
        "amount": ("numeric", "imputed"),
        "day": ("datetime", "imputed"),
        "flag": ("boolean", "encoded"),
        "mixed": ("mixed", "encoded"),
    }
    assert any("mixed" in note for note in report.notes)


@pytest.mark.parametrize(
    ("features", "error", "field"),
    [
        ({"blob": np.array([b"a", b"b"] * 10, dtype=object)}, DTypeError, "features.blob"),
        ({"cell": np.array([{"a": 1}, "x"] * 10, dtype=object)}, DTypeError, "features.cell"),
        (
            {"when": np.array([pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02")] * 10, dtype=object)},
            DTypeError,
            "features.when",
        ),
        ({"x": np.array([1.0, np.inf] * 10)}, NonFiniteError, "features.x"),
        ({"x": np.array([1.0, -1e300] * 10)}, NonFiniteError, "features.x"),
        (pd.DataFrame(), EmptyInputError, "features"),
        (pd.DataFrame({"x": np.arange(5.0)}), ShapeMismatchError, "features"),
        ({"same": np.ones(20), "none": np.full(20, np.nan)}, EmptyInputError, "features"),
        ({"a": np.arange(20.0), "b": np.arange(19.0)}, ShapeMismatchError, "features.b"),
    ],
    ids=["bytes", "objects", "mixed-time-zones", "infinity", "beyond-float32", "empty", "rows", "no-usable-column", "ragged"],
)
def test_bad_tables_get_typed_errors_naming_the_column(features, error, field):
    with pytest.raises(error) as err:
        read(features, n_rows=20)
    assert err.value.field == field


@pytest.mark.parametrize(
    "container",
    ["frame", "dict", "structured", "arrow"],
)
def test_every_container_of_the_same_table_reads_alike(container):
    frame = mixed(n=200)[0][["city", "income", "plan_code"]]
    if container == "dict":
        given = {name: frame[name].to_numpy() for name in frame.columns}
    elif container == "structured":
        given = np.rec.fromarrays(
            [frame["city"].to_numpy(dtype=object), frame["income"].to_numpy(), frame["plan_code"].to_numpy()],
            names=["city", "income", "plan_code"],
        )
    elif container == "arrow":
        pa = pytest.importorskip("pyarrow")
        given = pa.Table.from_pandas(frame)
    else:
        given = frame
    *_, report = _prepared(given)
    _, _, expected = _prepared(frame)
    assert report == expected


def test_identifiers_with_dashes_are_text_and_dates_without_padding_are_dates():
    """UUIDs and "cust-0000123" have dashes but are no dates (they are dropped as ID-like,
    not parsed); "2024-1-5" is a date. Some of the UUIDs begin with eight digits."""
    import uuid

    rng = np.random.default_rng(3)
    n = 500
    frame = pd.DataFrame(
        {
            "uuid": [str(uuid.UUID(int=int(i))) for i in rng.integers(0, 2**40, n)],
            "customer": [f"cust-{i:07d}" for i in range(n)],
            "day": [f"2024-{1 + i % 12}-{1 + i % 28}" for i in range(n)],
            "x": rng.normal(size=n),
        }
    )
    columns = {c.name: c for c in read(frame).columns}
    assert (columns["uuid"].kind, columns["uuid"].role) == ("text", "dropped")
    assert (columns["customer"].kind, columns["customer"].role) == ("text", "dropped")
    assert columns["day"].kind == "datetime" and columns["day"].role == "numeric"
