"""Validation on synthetic data where the truth is known, plus partial runs, errors, seeds, plots."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
import torch

import advisor
from advisor.errors import (
    InvalidInputError,
    NonFiniteError,
    ParameterError,
    ShapeMismatchError,
    UnknownLossError,
)
from advisor.validation.heads import head_for
from advisor.vocabulary import Task

FAST = {"folds": 3, "epochs": 40}


def linear_data(n=1500, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    return rng, x, x @ rng.normal(size=d)


def test_robust_loss_beats_mse_under_gross_outliers():
    rng, x, signal = linear_data()
    y = signal + rng.normal(size=len(signal)) * 0.3
    gross = rng.random(len(y)) < 0.10
    y[gross] += rng.choice([-1, 1], gross.sum()) * rng.uniform(20, 60, gross.sum())
    report = advisor.validate(x, y, ["MSELoss", "L1Loss", "HuberLoss"], task="regression", **FAST)
    mae = {r.loss: r.mean["mae"] for r in report.results}
    assert min(mae["L1Loss"], mae["HuberLoss"]) < mae["MSELoss"]
    assert report.ranking[0] in {"L1Loss", "HuberLoss"}
    assert report.metric == "mae" and not report.greater_is_better


def test_mse_is_within_noise_of_the_best_under_gaussian_noise():
    rng, x, signal = linear_data(seed=1)
    y = signal + rng.normal(size=len(signal))
    report = advisor.validate(
        x, y, ["MSELoss", "L1Loss", "HuberLoss"], task="regression", metric="rmse", **FAST
    )
    mse = next(r for r in report.results if r.loss == "MSELoss")
    assert report.ranking[0] == "MSELoss" or mse.paired.within_noise
    assert report.metric == "rmse"


def test_weighted_losses_beat_plain_bce_on_balanced_accuracy_with_one_percent_positives():
    rng = np.random.default_rng(2)
    n = 6000
    x = rng.normal(size=(n, 3))
    y = np.zeros(n, dtype=int)
    pos = rng.choice(n, n // 100, replace=False)
    y[pos] = 1
    x[pos] += 1.5  # positives are separable, but rare
    ratio = float((y == 0).sum() / (y == 1).sum())
    candidates = [
        "BCEWithLogitsLoss",
        {"loss": "BCEWithLogitsLoss", "params": {"pos_weight": [ratio]}},
        {"loss": "FocalLoss", "params": {"gamma": 2.0, "alpha": 0.9}},
    ]
    report = advisor.validate(x, y, candidates, task="binary", metric="balanced_accuracy", **FAST)
    plain, weighted, focal = (r.mean["balanced_accuracy"] for r in report.results)
    assert max(weighted, focal) > plain + 0.05
    assert (
        report.results[0].label != report.results[1].label
    )  # same loss twice gets distinct labels


def test_poisson_beats_mse_on_poisson_deviance_for_counts():
    rng, x, signal = linear_data(n=2000, d=3, seed=3)
    y = rng.poisson(np.exp(0.6 * signal / signal.std() + 0.5)).astype(float)
    report = advisor.validate(x, y, ["PoissonNLLLoss", "MSELoss"], task="count", **FAST)
    dev = {r.loss: r.mean["poisson_deviance"] for r in report.results}
    assert dev["PoissonNLLLoss"] < dev["MSELoss"]
    assert report.metric == "poisson_deviance"


def test_bce_trains_on_shares_through_a_logit_and_predicts_inside_the_unit_interval():
    rng, x, signal = linear_data(n=1500, d=3, seed=9)
    p = 1.0 / (1.0 + np.exp(-(1.5 * signal / signal.std() - 1.5)))
    y = rng.binomial(20, p) / 20  # fractions of 20 trials, many near and at 0
    report = advisor.validate(x, y, ["BCEWithLogitsLoss", "BCELoss", "MSELoss"], **FAST)
    assert report.task == "regression" and report.metric == "mae"
    assert report.recommended == "BCEWithLogitsLoss"  # the profile reads the shares
    mae = {r.loss: r.mean["mae"] for r in report.results}
    assert mae["BCEWithLogitsLoss"] < mae["MSELoss"]  # the logit follows the curve a line cannot
    assert mae["BCELoss"] == pytest.approx(mae["BCEWithLogitsLoss"], rel=0.05)  # the same loss, unfused
    assert report.results[0].mean["r2"] > 0.8
    head = head_for("BCEWithLogitsLoss", {}, Task.REGRESSION, 1)
    shares = head.predict(torch.tensor([[-40.0], [0.0], [40.0]]))
    assert shares.tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_a_share_loss_on_targets_past_the_unit_interval_is_skipped_with_the_reason():
    _, x, signal = linear_data(n=300, d=3, seed=10)
    report = advisor.validate(x, signal, ["BCEWithLogitsLoss", "MSELoss"], folds=3, epochs=5)
    bce = next(r for r in report.results if r.loss == "BCEWithLogitsLoss")
    assert bce.skipped and "takes regression targets in [0, 1]" in bce.reason
    assert report.ranking == ["MSELoss"]


def test_multiclass_and_mlp_probe_and_skipped_losses():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(600, 2))
    y = np.where(x[:, 0] > 0.5, "high", np.where(x[:, 0] < -0.5, "low", "mid"))
    report = advisor.validate(
        x, y, ["CrossEntropyLoss", "NLLLoss", "MarginRankingLoss"], model="mlp", **FAST
    )
    assert report.task == "multiclass" and report.model == "mlp"
    ce = next(r for r in report.results if r.loss == "CrossEntropyLoss")
    assert ce.mean["accuracy"] > 0.8
    skipped = next(r for r in report.results if r.loss == "MarginRankingLoss")
    assert skipped.skipped and "row-wise" in skipped.reason
    assert "MarginRankingLoss" not in report.ranking


def test_defaults_validate_the_recommendation_and_report_agreement():
    rng, x, signal = linear_data(n=800, seed=5)
    report = advisor.validate(x, signal + rng.normal(size=800), folds=3, epochs=20)
    rec = advisor.recommend(signal + rng.normal(size=800))
    assert report.recommended is not None
    assert {r.loss for r in report.results} <= {c.loss for c in rec.candidates} | {
        report.recommended
    } | set(advisor.losses.names())
    assert (
        report.agrees_with_recommendation is (report.results[0].loss == report.recommended)
        or report.disagreement
    )
    first = report.results[0]
    assert len(first.train_curve) == 20 == len(first.validation_curve) == len(first.validation_curve_std)
    # three folds' held-out losses differ, but by less than the losses themselves
    assert all(0 < s < m for s, m in zip(first.validation_curve_std, first.validation_curve, strict=True))
    assert report.table().startswith("regression")


def test_budget_and_cancel_return_partial_reports():
    _, x, signal = linear_data(n=500, seed=6)
    report = advisor.validate(
        x, signal, ["MSELoss"], task="regression", folds=2, epochs=10_000, budget_s=0.3
    )
    assert report.partial and report.stop_reason == "budget"
    assert 0 < report.epochs_completed < 10_000
    assert np.isfinite(report.results[0].mean["mae"])

    stop = threading.Event()
    seen = []

    def progress(step, total, message):
        seen.append((step, total, message))
        if step == 3:
            stop.set()

    report = advisor.validate(
        x,
        signal,
        ["MSELoss"],
        task="regression",
        folds=2,
        epochs=50,
        cancel=stop,
        progress=progress,
    )
    assert report.partial and report.stop_reason == "cancelled" and report.epochs_completed == 3
    assert seen[0] == (1, 50, "epoch 1/50")


def test_a_cancel_within_an_epoch_stops_at_the_next_step():
    """An epoch over many rows takes seconds: the signal is read before every step, and the
    epoch it cut short is left out of the curves."""
    _, x, signal = linear_data(n=4_000, seed=6)
    step_reads = []

    def cancel() -> bool:  # set when the training loop reads it before its third step
        if sys._getframe(2).f_code.co_name == "train":  # is_set's caller: the step loop
            step_reads.append(True)
        return len(step_reads) >= 3

    report = advisor.validate(
        x, signal, ["MSELoss"], task="regression", folds=2, epochs=5, batch_size=100, cancel=cancel
    )
    assert report.partial and report.stop_reason == "cancelled" and report.epochs_completed == 0
    assert len(step_reads) == 3  # 40 steps an epoch: none after the signal was seen
    assert report.results[0].validation_curve == [] and np.isfinite(report.results[0].mean["mae"])


def test_results_are_reproducible_under_a_seed():
    rng, x, signal = linear_data(n=400, seed=7)
    y = signal + rng.normal(size=400)

    def run(seed):
        report = advisor.validate(
            x, y, ["MSELoss", "HuberLoss"], task="regression", folds=3, epochs=15, seed=seed
        )
        return report.model_dump(exclude={"elapsed_s"})

    assert run(0) == run(0)
    assert run(0) != run(1)


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"folds": 1}, ParameterError, "folds"),
        ({"folds": 10_000}, ParameterError, "folds"),
        ({"model": "tree"}, ParameterError, "model"),
        ({"epochs": 0}, ParameterError, "epochs"),
        ({"budget_s": -1}, ParameterError, "budget_s"),
        ({"task": "weather"}, ParameterError, "task"),
        ({"metric": "auc"}, ParameterError, "metric"),
        ({"candidates": ["HuberLos"]}, UnknownLossError, "candidates[0].loss"),
        (
            {"candidates": [{"loss": "HuberLoss", "params": {"delta": -1}}]},
            ParameterError,
            "candidates[0].params.delta",
        ),
        ({"candidates": []}, ParameterError, "candidates"),
    ],
)
def test_bad_options_raise_typed_errors(kwargs, error, field):
    _, x, signal = linear_data(n=100, seed=8)
    kwargs = {"candidates": ["MSELoss"], "task": "regression", "epochs": 2, **kwargs}
    with pytest.raises(error) as info:
        advisor.validate(x, signal, kwargs.pop("candidates"), **kwargs)
    assert info.value.field == field


def test_bad_data_raise_typed_errors():
    _, x, signal = linear_data(n=100, seed=9)
    bad = x.copy()
    bad[3, 1] = np.inf  # NaN is a missing cell, imputed; infinity is an error
    with pytest.raises(NonFiniteError) as info:
        advisor.validate(bad, signal, ["MSELoss"], task="regression", epochs=2)
    assert info.value.field == "features.x1"
    with pytest.raises(ShapeMismatchError) as info:
        advisor.validate(x, signal[:50], ["MSELoss"], task="regression", epochs=2)
    assert info.value.field in {"features", "targets"}
    assert "100" in str(info.value) and "50" in str(info.value)
    with pytest.raises(InvalidInputError) as info:
        advisor.validate(x, signal - 100.0, ["PoissonNLLLoss"], task="count", epochs=2)
    assert info.value.field == "targets" and "negative" in str(info.value)
    with pytest.raises(NonFiniteError) as info:  # float32 overflow: NaN metrics, notes of divergence
        advisor.validate(x, signal * 1e300, ["MSELoss"], task="regression", epochs=2)
    assert info.value.field == "targets" and "float32" in str(info.value)


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    _, x, signal = linear_data(n=300, seed=10)
    report = advisor.validate(
        x, signal, ["MSELoss", "L1Loss"], task="regression", folds=2, epochs=5
    )
    path = report.plot(str(tmp_path / "curves.png"))
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_several_values_per_row_train_one_probe_each_output_in_its_own_units():
    # three outputs a thousandfold apart in scale: each output's median and scale start its
    # column, and the held-out fit matches ordinary least squares on the same folds
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold, cross_val_predict

    rng, x, _ = linear_data(n=1200, d=4, seed=21)
    weights = rng.normal(size=(4, 3))
    y = (x @ weights + 0.3 * rng.normal(size=(1200, 3))) * np.array([1.0, 1000.0, 0.001]) + np.array([0.0, 5e4, -3.0])
    report = advisor.validate(x, y, ["MSELoss", "L1Loss", "GaussianNLLLoss", "QuantileLoss"], task="regression", **FAST)
    assert report.task == "regression" and all(not r.skipped for r in report.results)
    ols = cross_val_predict(LinearRegression(), x, y, cv=KFold(3, shuffle=True, random_state=0))
    reference = r2_score(y, ols)  # uniform average over the outputs, as the report's r2
    for r in report.results:
        assert r.mean["r2"] == pytest.approx(reference, abs=0.005), r.loss
    head = head_for("GaussianNLLLoss", {}, Task.REGRESSION, 3)
    shift, mult = head.affine((1.0, 2.0, 3.0), (10.0, 20.0, 30.0), (0.0, 0.0, 0.0))
    assert head.width == 6 and mult[:3] == [10.0, 20.0, 30.0] and shift[:3] == [1.0, 2.0, 3.0]
    assert shift[3:] == pytest.approx([2 * np.log(10.0), 2 * np.log(20.0), 2 * np.log(30.0)])


def test_several_counts_per_row_and_quantile_levels_that_cannot_fit_them():
    rng, x, signal = linear_data(n=1500, d=3, seed=22)
    rate = np.exp(0.5 * signal / signal.std())
    y = np.stack([rng.poisson(rate), rng.poisson(3.0 * rate)], axis=1).astype(float)
    report = advisor.validate(
        x,
        y,
        ["PoissonNLLLoss", "MSELoss", {"loss": "QuantileLoss", "params": {"quantiles": [0.1, 0.9]}}],
        task="count",
        **FAST,
    )
    dev = {r.loss: r.mean.get("poisson_deviance") for r in report.results}
    assert dev["PoissonNLLLoss"] < dev["MSELoss"]
    quantile = next(r for r in report.results if r.loss == "QuantileLoss")
    assert quantile.skipped and "2 per row" in quantile.reason


def test_a_bundled_multi_output_table_validates():
    from sklearn.datasets import load_linnerud

    bundle = load_linnerud(as_frame=True)  # three physiological measures per athlete
    report = advisor.validate(bundle.data, bundle.target, folds=3, epochs=20)
    assert report.task == "regression" and report.ranking
    assert all(np.isfinite(r.mean["mae"]) for r in report.results if not r.skipped)
