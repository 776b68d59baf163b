"""Columns whose meaning hangs on their cells, not their dtype: a category dtype, numbers
mixed with text, booleans with holes, text that reads as numbers, zoned datetimes across a
daylight-saving change. Typed by pandas, written to CSV and read back, or sent through the
light client, each reads the same; cells that are neither numbers nor text are refused
naming the column, in the library and over the wire alike."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

import advisor
from advisor.errors import DTypeError
from advisor.io import read_table, select
from advisor.schema.profile import FeaturePreparation


def _frame(n: int = 240) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(5)
    plan = rng.choice(np.array(["basic", "plus", "pro"], dtype=object), n)
    plan[::17] = None
    mixed = np.array([1, "x", 2.5, "y", None, "z"] * (n // 6), dtype=object)
    flag = np.array([True, False, None, True] * (n // 4), dtype=object)
    amount = np.array(["1.5", "2", "NA", "4.25", "7", ""] * (n // 6), dtype=object)
    # six-hourly across the spring change: offsets +01:00 then +02:00
    when = pd.Series(pd.date_range("2024-03-28", periods=n, freq="6h", tz="Europe/Paris"))
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "plan": pd.Categorical(plan),
            "mixed": mixed,
            "flag": flag,
            "amount": amount,
            "when": when,
            "x": x,
        }
    )
    return frame, x + rng.normal(size=n)


def _expected(frame: pd.DataFrame, y: np.ndarray) -> FeaturePreparation:
    return advisor.profile(y, features=frame).features.preparation


def test_the_kinds_follow_the_cells():
    frame, y = _frame()
    kinds = {c.name: (c.kind, c.action) for c in _expected(frame, y).columns}
    assert kinds == {
        "plan": ("text", "encoded"),
        "mixed": ("mixed", "encoded"),
        "flag": ("boolean", "encoded"),
        "amount": ("numeric", "imputed"),
        "when": ("datetime", "used"),
        "x": ("numeric", "used"),
    }
    when = next(c for c in _expected(frame, y).columns if c.name == "when")
    assert when.n_distinct == len(frame)  # spring forward: every wall time distinct


def test_a_csv_file_reads_like_the_typed_frame(tmp_path):
    frame, y = _frame()
    path = tmp_path / "t.csv"
    frame.assign(y=y).to_csv(path, index=False)
    target, features = select(read_table(path), "y", None)
    got = advisor.profile(target, features=features).features.preparation
    assert got == _expected(frame, y)


def test_the_light_client_sends_the_frame_as_the_library_reads_it(client):
    frame, y = _frame()
    got = client.profile(y, features=frame).features.preparation
    assert got == _expected(frame, y)


def test_the_wall_clock_parts_of_a_zoned_column_survive_text():
    """The hour a zoned column's parts read is its local one, before and after the change."""
    frame, _ = _frame()
    text = frame.assign(when=frame["when"].astype(str))
    assert text["when"].str.endswith("+01:00").any() and text["when"].str.endswith("+02:00").any()
    from advisor.ingest.features import FeaturePreparer, read

    typed, as_text = read(frame), read(text)
    np.testing.assert_array_equal(
        FeaturePreparer().fit(typed).transform(typed), FeaturePreparer().fit(as_text).transform(as_text)
    )


BAD_CELLS = {
    "bytes": [b"a", b"b"],
    "object": [object(), object()],
    "list": [[1, 2], [3]],
    "zones": [pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02")],
    "zone_text": ["2024-01-01T00:00:00+00:00", "2024-01-02T00:00:00"],
    "date_objects": [datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), datetime.datetime(2024, 1, 2)],
}


@pytest.mark.parametrize("kind", list(BAD_CELLS))
@pytest.mark.parametrize("door", ["library", "service"])
def test_cells_neither_numbers_nor_text_are_refused_naming_the_column(kind, door, client):
    n = 40
    cells = np.empty(n, dtype=object)
    for i in range(n):
        cells[i] = BAD_CELLS[kind][i % 2]
    frame = pd.DataFrame({"x": np.arange(n, dtype=float) % 7, "bad": cells})
    y = np.random.default_rng(0).normal(size=n)
    call = advisor.profile if door == "library" else client.profile
    with pytest.raises(DTypeError) as err:
        call(y, features=frame)
    # the library names the column; the wire names the request field that carried it
    assert err.value.field in ("features.bad", "features_table.columns[1].values"), err.value.field


BAD_TABLES = {
    "no-usable-column": lambda n: {"same": np.ones(n), "none": np.full(n, np.nan)},
    "rows-differ": lambda n: {"x": np.arange(n - 3, dtype=float)},
    "empty-frame": lambda n: pd.DataFrame(index=range(n)),
}


@pytest.mark.parametrize("case", list(BAD_TABLES))
@pytest.mark.parametrize("door", ["library", "service"])
def test_bad_tables_are_refused_alike_in_the_library_and_over_the_wire(case, door, client):
    from advisor.errors import AdvisorError

    y = np.random.default_rng(1).normal(size=40)
    call = advisor.profile if door == "library" else client.profile
    with pytest.raises(AdvisorError) as err:
        call(y, features=BAD_TABLES[case](40))
    assert err.value.field is not None and err.value.field.startswith(("features", "features_table"))


@pytest.mark.parametrize("door", ["library", "service"])
def test_a_target_with_every_value_missing_is_refused_naming_it(door, client):
    from advisor.errors import AdvisorError

    y = pd.Series(["", "NA", None, np.nan] * 10, dtype=object)
    call = advisor.recommend if door == "library" else client.recommend
    with pytest.raises(AdvisorError) as err:
        call(y)
    assert err.value.field == "targets"
