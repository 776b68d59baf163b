"""The advice benchmark (``advisor.advice``): 18 real data sets that ship with scikit-learn and
statsmodels, each with the loss its literature fits. Prints the table the README quotes:
inferred task and top-1 loss against the literature, and the top-1 against the task's
default loss under ``advisor.validate`` (same folds, seed and epochs; paired t-test).
Run with ``make bench`` or ``pytest benchmarks/advice --benchmark-only -s``; about 20 s on
two cores.
"""

from __future__ import annotations

import pytest

from advisor.advice import run

pytest.importorskip("statsmodels")
pytest.importorskip("pytest_benchmark")


def test_advice_on_real_data(benchmark):
    rows = benchmark.pedantic(run.run, rounds=1, iterations=1)
    print("\n" + run.table(rows))
    assert len(rows) == len(run.CASES) and all(r.metric for r in rows)
