"""The rules that read shares (``proportion-bce``, ``proportion-bounded-pull``) and Gamma-like
positive targets (``tweedie-skewed-positive``, ``gamma-targets-alone``), on seeded synthetic
data with a known truth and on negative controls that must not fire them."""

from __future__ import annotations

import numpy as np
import pytest

import advisor

N = 1000


def _rules(rec):
    return {rule for c in rec.candidates for rule in c.rules}


def _logistic(seed: int, noise: float = 0.3):
    r = np.random.default_rng(seed)
    x = r.normal(size=(N, 3))
    return r, x, 1.0 / (1.0 + np.exp(-(x @ [1.0, -0.6, 0.4] + noise * r.normal(size=N))))


def test_beta_shares_get_bce_on_soft_targets_with_mse_as_an_alternative():
    y = np.random.default_rng(0).beta(2.0, 5.0, N)
    rec = advisor.recommend(y)
    assert rec.best.loss == "BCEWithLogitsLoss" and rec.best.rules == ["proportion-bce"]
    assert rec.best.params == {}
    said = rec.best.rationale[0]
    assert f"({y.min():.4g} to {y.max():.4g}, mean {y.mean():.3g}, 0.0% exactly at 0 or 1)" in said
    assert "Papke & Wooldridge 1996" in said
    assert "MSELoss" in [c.loss for c in rec.candidates[1:3]]


def test_shares_with_features_get_bce():
    _, x, y = _logistic(1)
    rec = advisor.recommend(y, features=x)
    assert rec.profile.task.reading == "proportion"
    assert rec.best.loss == "BCEWithLogitsLoss"


def test_outlying_residuals_of_shares_keep_bce_ahead_of_huber():
    r, x, y = _logistic(2, noise=0.1)
    wild = r.random(N) < 0.08
    y[wild] = r.random(wild.sum())  # rows whose share has nothing to do with x
    rec = advisor.recommend(y, features=x)
    assert "huber-outliers" in _rules(rec)
    assert rec.best.loss == "BCEWithLogitsLoss"
    assert {"proportion-bce", "proportion-bounded-pull"} <= set(rec.best.rules)
    bounded = next(s for s in rec.best.rationale if "sigmoid(z) - y" in s)
    assert "out-of-fold residuals" in bounded


def test_predicted_shares_pair_with_bce_on_probabilities_and_logits_with_the_fused_form():
    r = np.random.default_rng(9)
    y = r.beta(2.0, 5.0, N)
    shares = np.clip(y + r.normal(0.0, 0.05, N), 0.0, 1.0)
    rec = advisor.recommend(y, predictions=shares)
    assert rec.profile.predictions.format == "probabilities"
    assert rec.best.loss == "BCELoss" and "proportion-predicted-shares" in rec.best.rules
    assert [a.loss for a in rec.avoid] == ["BCEWithLogitsLoss"]
    logits = np.log(shares + 1e-3) - np.log(1.0 - shares + 1e-3)
    rec = advisor.recommend(y, predictions=logits)
    assert rec.profile.predictions.format == "logits"
    assert rec.best.loss == "BCEWithLogitsLoss" and not rec.avoid
    # a plain regression's predictions stay values
    assert advisor.recommend(100 * y, predictions=100 * shares).profile.predictions.format == "values"


@pytest.mark.parametrize(("goal", "best"), [("median", "QuantileLoss"), ("quantile:0.9", "QuantileLoss")])
def test_a_goal_about_where_the_fit_sits_outranks_the_share_reading(goal, best):
    y = np.random.default_rng(3).beta(2.0, 5.0, N)
    rec = advisor.recommend(y, goal=goal)
    assert rec.best.loss == best and "proportion-bce" not in _rules(rec)


def test_min_max_rescaled_and_percent_targets_get_no_share_loss():
    r = np.random.default_rng(4)
    z = r.normal(size=N)
    for y in ((z - z.min()) / (z.max() - z.min()), 100 * r.beta(2.0, 5.0, N)):
        rec = advisor.recommend(y, top_k=10)
        assert "BCEWithLogitsLoss" not in [c.loss for c in rec.candidates]
        assert rec.best.loss == "MSELoss"


@pytest.mark.parametrize("shape", [1.5, 2.0, 5.0])
def test_gamma_targets_alone_get_tweedie_near_gamma(shape):
    y = np.random.default_rng(5).gamma(shape, 3.0, N)
    rec = advisor.recommend(y)
    assert rec.best.loss == "TweedieLoss"
    assert {"tweedie-skewed-positive", "gamma-targets-alone"} <= set(rec.best.rules)
    assert rec.best.params["power"] == pytest.approx(1.9)
    cv = y.std() / y.mean()
    assert f"2 × coefficient of variation {cv:.2f}" in " ".join(rec.best.rationale)


@pytest.mark.parametrize("n", [N, 30])
def test_with_features_a_gamma_shape_only_nudges_tweedie(n):
    # With features, the targets' skew may be signal the features explain, whether or not
    # there are rows enough (50) to measure a quick model's residuals: the Gamma shape of y
    # only brings TweedieLoss into the list.
    r = np.random.default_rng(6)
    x = r.normal(size=(n, 3))
    mean = np.exp(1.0 + x @ [0.9, -0.6, 0.3])
    y = r.gamma(4.0, mean / 4.0)
    rec = advisor.recommend(y, features=x, top_k=10)
    assert (rec.profile.residuals is None) == (n < 50)
    tweedie = next(c for c in rec.candidates if c.loss == "TweedieLoss")
    assert "tweedie-skewed-positive" in tweedie.rules
    assert "gamma-targets-alone" not in _rules(rec)


@pytest.mark.parametrize(
    "name", ["normal", "uniform", "left-skewed", "zero-mass", "counts", "integers", "shares"]
)
def test_what_is_not_gamma_like_gets_no_gamma_rule(name):
    r = np.random.default_rng(7)
    y = {
        "normal": r.normal(100.0, 10.0, N),  # positive, not skewed
        "uniform": r.uniform(1.0, 10.0, N),
        "left-skewed": 100.0 - r.gamma(2.0, 3.0, N),
        "zero-mass": np.where(r.random(N) < 0.3, 0.0, r.gamma(2.0, 3.0, N)),  # not strictly positive
        "counts": r.poisson(3.0, N),  # a count, not a regression
        "integers": np.round(40.0 + r.gamma(2.0, 30.0, N)),  # a measured quantity of integers
        "shares": r.beta(1.0, 6.0, N),  # right-skewed and positive, but a share
    }[name]
    rec = advisor.recommend(y, top_k=10)
    assert not {"tweedie-skewed-positive", "gamma-targets-alone"} & _rules(rec)


def test_a_stated_goal_outranks_the_gamma_shape():
    y = np.random.default_rng(8).gamma(2.0, 3.0, N)
    assert advisor.recommend(y, goal="median").best.loss in ("QuantileLoss", "L1Loss")
    assert advisor.recommend(y, goal="robust").best.loss in ("HuberLoss", "AdaptiveRobustLoss")
