"""Benchmark: profile + recommend on 1e6 targets with 20 features.

Lives outside ``testpaths`` so ``pytest tests`` never collects it; run it with
``pytest benchmarks --benchmark-only`` (``make bench``) or by naming this file. Features are
scored for outliers on a subsample, so the time is dominated by the exact target statistics
(sorts for medians and distinct values); about 0.3 s per call on two CPU cores.
"""

from __future__ import annotations

import numpy as np
import pytest

import advisor

pytest.importorskip("pytest_benchmark")
pytestmark = pytest.mark.benchmark(group="profile-recommend", min_rounds=3)

N, D = 1_000_000, 20


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, D))
    y = x @ rng.normal(size=D) + rng.standard_t(3, N)
    return y, x


def test_profile_and_recommend_1e6_by_20(benchmark, data):
    y, x = data
    rec = benchmark.pedantic(advisor.recommend, args=(y, x), rounds=3, iterations=1)
    assert rec.profile.task.task.value == "regression"
    assert rec.profile.features is not None and rec.profile.features.n_rows == N
    assert rec.best.loss in {"HuberLoss", "SmoothL1Loss", "L1Loss", "MSELoss"}


def test_profile_and_recommend_1e6_binary(benchmark, data):
    _, x = data
    y = (x[:, 0] + 0.5 * x[:, 1] > 1.5).astype(np.int64)
    rec = benchmark.pedantic(advisor.recommend, args=(y, x), rounds=3, iterations=1)
    assert rec.profile.task.task.value == "binary"
