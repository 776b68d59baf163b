"""``validate(backend="ray")`` against the local backend: same report, bit for bit."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import advisor
from advisor.errors import ParameterError

ray = pytest.importorskip("ray")
from advisor.validation.ray_backend import RayBackend, _split  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def report(*args, **kwargs):
    """Everything but the wall-clock time."""
    return advisor.validate(*args, **kwargs).model_dump(exclude={"elapsed_s"})


def regression(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    return x, x @ rng.normal(size=4) + rng.standard_t(3, n)


CANDIDATES = [
    "MSELoss",
    "L1Loss",
    {"loss": "HuberLoss", "params": {"delta": 0.5}},
    {"loss": "QuantileLoss", "params": {"quantiles": [0.1, 0.5, 0.9]}},  # a wider head
    "MarginRankingLoss",  # skipped: no row-wise probe
]


@pytest.mark.parametrize(
    "backend", ["ray", RayBackend(groups=2), RayBackend(groups=4)], ids=["default", "2", "4"]
)
def test_regression_reports_equal_the_local_backend(backend):
    x, y = regression()
    options = {"task": "regression", "folds": 3, "epochs": 6, "seed": 4}
    assert report(x, y, CANDIDATES, backend=backend, **options) == report(
        x, y, CANDIDATES, **options
    )


def test_multiclass_mlp_reports_equal_the_local_backend():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(240, 3))
    y = np.where(x[:, 0] > 0.5, 2, np.where(x[:, 0] < -0.5, 0, 1))
    candidates = ["CrossEntropyLoss", "NLLLoss", {"loss": "FocalLoss", "params": {"gamma": 1.0}}]
    options = {"task": "multiclass", "folds": 3, "epochs": 4, "model": "mlp", "seed": 2}
    local = report(x, y, candidates, **options)
    assert report(x, y, candidates, backend=RayBackend(groups=3), **options) == local


def test_progress_and_budget_end_every_group_at_the_same_epoch():
    x, y = regression(seed=5)
    seen = []
    options = {"task": "regression", "folds": 2, "epochs": 5}
    got = advisor.validate(
        x, y, CANDIDATES[:3], backend=RayBackend(groups=3), progress=lambda *a: seen.append(a),
        **options,
    )  # fmt: skip
    assert seen == [(e, 5, f"epoch {e}/5") for e in range(1, 6)]
    assert got.model_dump(exclude={"elapsed_s"}) == report(x, y, CANDIDATES[:3], **options)

    # One thread per task, so both groups run at once on the two CPUs.
    partial = advisor.validate(
        x, y, CANDIDATES[:2], task="regression", folds=2, epochs=100_000, budget_s=0.5,
        backend=RayBackend(groups=2, threads=1),
    )  # fmt: skip
    assert partial.partial and partial.stop_reason == "budget"
    assert 0 < partial.epochs_completed < 100_000
    assert {len(r.train_curve) for r in partial.results} == {partial.epochs_completed}


def test_cancel_stops_every_group():
    x, y = regression(seed=6)
    stop = threading.Event()
    partial = advisor.validate(
        x, y, CANDIDATES[:2], task="regression", folds=2, epochs=100_000, cancel=stop,
        progress=lambda step, total, message: stop.set(), backend=RayBackend(groups=2, threads=1),
    )  # fmt: skip
    assert partial.stop_reason == "cancelled" and partial.epochs_completed < 100_000
    assert {len(r.train_curve) for r in partial.results} == {partial.epochs_completed}


def test_groups_are_contiguous_and_never_empty():
    assert _split(5, 2) == [[0, 1, 2], [3, 4]]
    assert _split(2, 8) == [[0], [1]]
    assert _split(3, 1) == [[0, 1, 2]]


def test_bad_backends_raise_typed_errors():
    x, y = regression(n=20)
    with pytest.raises(ParameterError) as info:
        advisor.validate(x, y, ["MSELoss"], task="regression", epochs=1, backend="spark")
    assert info.value.field == "backend"
    with pytest.raises(ParameterError) as info:
        RayBackend(groups=0)
    assert info.value.field == "groups"
