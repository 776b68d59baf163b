"""Benchmark: preparing a mixed table of 1e6 rows × 20 columns (``advisor.ingest.features``).

The table holds what pipelines hand over: ten numeric columns with 5% missing cells, six
text columns of 4 to 40 categories with 3% missing, two booleans, integer codes and a
datetime column. Timed: ``read`` (every column looked at once: kinds, codes, screening) and
one ``FeaturePreparer`` fit + transform of every row. The anchor, timed in the same run, is
the preparation a user writes with pandas alone: ``fillna(median)`` plus an indicator per
numeric column with missing cells, and ``get_dummies`` of the text and boolean columns,
which fits on every row and has no frequency floor or category cap. Run with ``make bench``
or ``pytest benchmarks/test_ingest_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import numpy as np
import pytest

from advisor.ingest.features import FeaturePreparer, read

pd = pytest.importorskip("pandas")
pytest.importorskip("pytest_benchmark")
pytestmark = pytest.mark.benchmark(group="ingest", min_rounds=3)

N = 1_000_000
#: rounds per side: the first touch of a fresh half-gigabyte output costs 0.05 to 5 s on a
#: virtual machine, so the fastest of several rounds is the preparation's own cost
ROUNDS = 5
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    columns = {}
    for j in range(10):
        values = rng.normal(size=N)
        values[rng.random(N) < 0.05] = np.nan
        columns[f"num{j}"] = values
    for j, levels in enumerate((4, 6, 10, 16, 25, 40)):
        words = np.array([f"level{k}" for k in range(levels)], dtype=object)
        cells = words[rng.integers(0, levels, N)]
        cells[rng.random(N) < 0.03] = None
        columns[f"text{j}"] = cells
    columns["flag0"] = rng.random(N) < 0.3
    columns["flag1"] = rng.random(N) < 0.7
    columns["code"] = rng.integers(0, 8, N)
    columns["when"] = np.datetime64("2020-01-01") + rng.integers(0, 1500, N).astype("timedelta64[D]")
    return pd.DataFrame(columns)


def prepare(frame):
    table = read(frame)
    return FeaturePreparer().fit(table).transform(table)


def by_hand(frame):
    """The pandas-only preparation a user writes: medians, indicators, dummies, date parts."""
    numeric = frame.select_dtypes("number")
    parts = [numeric.fillna(numeric.median()), numeric.isna()[numeric.columns[numeric.isna().any()]]]
    parts.append(pd.get_dummies(frame.select_dtypes(exclude=["number", "datetime"]), dummy_na=True))
    when = frame["when"].dt
    parts.append(pd.DataFrame({"y": when.year, "m": when.month, "d": when.day, "w": when.day_of_week}))
    return pd.concat(parts, axis=1).to_numpy(dtype=np.float32)


@pytest.mark.parametrize("side", ["advisor", "pandas"])
def test_prepare_1e6_by_20_mixed(benchmark, table, side):
    fn = prepare if side == "advisor" else by_hand
    out = benchmark.pedantic(fn, args=(table,), rounds=ROUNDS, iterations=1)
    TIMES[side] = benchmark.stats.stats.min
    assert out.shape[0] == N and np.isfinite(out).all()
    if len(TIMES) == 2:
        print(
            f"\nprepare 1e6 x 20, fastest of {ROUNDS}: advisor {TIMES['advisor']:.2f} s, pandas by "
            f"hand {TIMES['pandas']:.2f} s, ratio {TIMES['advisor'] / TIMES['pandas']:.2f}"
        )


def test_read_only(benchmark, table):
    benchmark.pedantic(read, args=(table,), rounds=3, iterations=1)


@pytest.fixture(scope="module")
def identifiers():
    """1e6 distinct UUIDs and 1e6 "cust-0000123" codes beside a number: identifier columns
    with dashes, which must be read as text (and dropped) without a parse per label."""
    import uuid

    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "uuid": [str(uuid.UUID(int=int(i))) for i in rng.integers(0, 2**62, N)],
            "customer": [f"cust-{i:07d}" for i in range(N)],
            "x": rng.normal(size=N),
        }
    )


def test_read_identifier_columns(benchmark, identifiers):
    table = benchmark.pedantic(read, args=(identifiers,), rounds=3, iterations=1)
    assert [c.role for c in table.columns] == ["dropped", "dropped", "numeric"]
