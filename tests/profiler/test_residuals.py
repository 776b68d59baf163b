"""Advice from what a quick model leaves unexplained, checked against scikit-learn and numpy."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import advisor

N = 4000
WEIGHTS = np.array([3.0, 2.0, -2.0, 1.0, 4.0])
ROBUST = {"HuberLoss", "L1Loss", "SmoothL1Loss", "AdaptiveRobustLoss", "LogCoshLoss"}


def _x(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(N, 5))


def test_heavy_tailed_noise_under_a_strong_signal_gets_a_robust_loss():
    x = _x(1)
    y = x @ WEIGHTS + np.random.default_rng(2).standard_t(3, N)
    marginal = advisor.recommend(y)
    conditional = advisor.recommend(y, features=x)
    assert marginal.best.loss == "MSELoss"  # y alone looks nearly Gaussian
    assert conditional.best.loss in ROBUST
    residuals = conditional.profile.residuals
    assert residuals.heavy_tailed and residuals.r2 > 0.8
    said = " ".join(r for c in conditional.candidates for r in c.rationale)
    assert "the targets look well-behaved" in said and "out-of-fold residuals" in said


def test_a_skewed_signal_with_gaussian_errors_keeps_the_squared_error():
    x = _x(3)
    y = np.exp(x[:, 0]) + np.random.default_rng(4).normal(0, 0.3, N)
    assert advisor.recommend(y).best.loss in ROBUST  # the marginal y is skewed, with outliers
    conditional = advisor.recommend(y, features=x)
    assert conditional.best.loss == "MSELoss"
    said = " ".join(r for c in conditional.candidates for r in c.rationale)
    assert "the tails are signal the features explain" in said


def test_noise_that_grows_with_the_prediction_is_reported_and_points_to_a_variance_loss():
    x = _x(5)
    signal = x @ WEIGHTS
    y = signal + np.random.default_rng(6).normal(size=N) * 0.3 * (signal - signal.min() + 0.5)
    rec = advisor.recommend(y, features=x, top_k=8)
    assert rec.profile.residuals.heteroscedastic and rec.profile.residuals.scale_trend > 0.2
    gaussian = next(c for c in rec.candidates if c.loss == "GaussianNLLLoss")
    assert any("Spearman rho" in r for r in gaussian.rationale)


def test_outliers_whose_spread_follows_the_prediction_get_l1_over_huber():
    # Huber's delta is one scale for every row; where the spread grows with the prediction
    # and outliers come on top, the scale-free L1 ranks first, and Huber says why it does not
    x = _x(13)
    signal = x @ WEIGHTS
    y = signal + np.random.default_rng(14).standard_t(3, N) * 0.3 * (signal - signal.min() + 0.5)
    rec = advisor.recommend(y, features=x, top_k=8)
    residuals = rec.profile.residuals
    assert residuals.heteroscedastic and residuals.heavy_tailed
    assert rec.best.loss == "L1Loss"
    assert "l1-heteroscedastic-outliers" in rec.best.rules
    huber = next(c for c in rec.candidates if c.loss == "HuberLoss")
    assert any(r.startswith("against: ") and "one residual scale" in r for r in huber.rationale)
    # the same noise at a constant spread keeps Huber first
    steady = advisor.recommend(signal + np.random.default_rng(14).standard_t(3, N), features=x)
    assert not steady.profile.residuals.heteroscedastic
    assert steady.best.loss == "HuberLoss"


def test_residual_facts_equal_a_ridge_fit_by_hand():
    x = _x(7)
    y = x @ WEIGHTS + np.random.default_rng(8).standard_t(3, N)
    residuals = advisor.profile(y, features=x).residuals
    assert residuals.model == "ridge regression"  # a linear signal: the ridge fits best
    ridge = make_pipeline(StandardScaler(), RidgeCV(np.logspace(-3, 3, 7)))
    oof = y - cross_val_predict(ridge, x, y, cv=KFold(3, shuffle=True, random_state=0))
    median = np.median(oof)
    mad = np.median(np.abs(oof - median))
    share = np.mean(0.6745 * np.abs(oof - median) / mad > 3.5)
    # the profile reads the features as the models do, in float32
    assert residuals.mad == pytest.approx(mad, rel=1e-5)
    assert residuals.outlier_share_mz == pytest.approx(share, abs=1 / N)
    assert residuals.r2 == pytest.approx(1 - np.mean(oof**2) / np.var(y), rel=1e-5)
    rec = advisor.recommend(y, features=x)
    huber = next(c for c in rec.candidates if c.loss == "HuberLoss")
    assert huber.params["delta"] == pytest.approx(1.345 * 1.4826 * mad, rel=1e-5)


def test_no_residuals_without_features():
    x = _x(9)
    assert advisor.profile(x[:, 0]).residuals is None
    assert advisor.profile((x[:, 0] > 0).astype(int)).residuals is None


def _counts(seed: int, alpha: float | None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, 3))
    mu = np.exp(0.5 + 0.8 * x[:, 0] - 0.5 * x[:, 1])
    if alpha is None:
        return rng.poisson(mu), x
    return rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu)), x


def test_counts_overdispersed_only_through_their_covariates_get_poisson():
    y, x = _counts(10, None)
    marginal = advisor.recommend(y)
    assert marginal.profile.counts.overdispersed and marginal.best.loss == "NegativeBinomialNLLLoss"
    conditional = advisor.recommend(y, features=x)
    residuals = conditional.profile.residuals
    assert residuals.overdispersed is False
    assert residuals.pearson_dispersion == pytest.approx(1.0, abs=0.15)
    assert conditional.best.loss == "PoissonNLLLoss"
    assert "dispersion-from-covariates" in conditional.best.rules


def test_counts_overdispersed_given_their_covariates_get_the_negative_binomial_alpha():
    y, x = _counts(11, 0.8)
    rec = advisor.recommend(y, features=x)
    assert rec.profile.residuals.overdispersed
    assert rec.best.loss == "NegativeBinomialNLLLoss"
    assert rec.best.params["dispersion"] == pytest.approx(0.8, rel=0.25)
    assert rec.profile.counts.nb_alpha > 1.5 * rec.best.params["dispersion"]  # the marginal one mixes in X


def test_flipped_labels_show_as_confident_mistakes_and_bring_label_smoothing():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(N, 4))
    clean = (3 * x[:, 0] - 2 * x[:, 1] + 0.3 * rng.logistic(size=N) > 0).astype(int)
    flipped = np.where(rng.random(N) < 0.1, 1 - clean, clean)
    quiet = advisor.recommend(clean, features=x).profile.residuals
    assert quiet.confident_mistake_share < 0.01 and quiet.accuracy > 0.9
    noisy = advisor.recommend(flipped, features=x, top_k=8)
    assert noisy.profile.residuals.confident_mistake_share > 0.03
    ce = next(c for c in noisy.candidates if c.loss == "CrossEntropyLoss")
    assert "label-noise" in ce.rules and 0.05 <= ce.params["label_smoothing"] <= 0.3
    share = noisy.profile.residuals.confident_mistake_share
    assert any(f"{100 * share:.1f}% of rows are confident mistakes" in r for r in ce.rationale)


@pytest.mark.filterwarnings("ignore:.*(least populated|Number of classes)")
def test_baselines_fitted_fold_by_fold_give_cross_val_predicts_outputs():
    """The folds are fitted one at a time (a stop signal is checked between them); what comes
    out is scikit-learn's, a class missing from a fold's training rows included (probability 0)."""
    from sklearn.model_selection import StratifiedKFold

    from advisor.profiler.residuals import _baselines, _out_of_fold

    rng = np.random.default_rng(13)
    x = rng.normal(size=(900, 4))
    y = x @ WEIGHTS[:4] + rng.normal(size=900)
    folds = KFold(3, shuffle=True, random_state=0)
    ours = _out_of_fold("regression", x, y, folds, "predict", 0)
    for name, model in _baselines("regression", y.size, 0):  # the ridge (too few rows for trees)
        assert np.array_equal(ours[name], cross_val_predict(clone(model), x, y, cv=folds))
    codes = np.digitize(x[:, 0], [-1.0, 0.0, 1.0])
    codes[0] = 4  # a class of one row: the folds that hold it out train without it
    strata = StratifiedKFold(3, shuffle=True, random_state=0)
    theirs = cross_val_predict(_baselines("classes", 1, 0)[0][1], x, codes, cv=strata, method="predict_proba")
    ours = _out_of_fold("classes", x, codes, strata, "predict_proba", 0, trees=False)
    assert np.array_equal(ours["logistic regression"], theirs) and theirs[0, 4] == 0


def test_a_many_class_boosting_fit_grows_in_checked_steps_to_the_same_trees(monkeypatch):
    """A classifier grows a tree per class each round: with ten classes and twenty trees
    between checks, the fit stops for the signal every two rounds, and grows the very trees
    one fit does."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from advisor.cancel import cancellable
    from advisor.errors import CancelledError
    from advisor.profiler import residuals

    monkeypatch.setattr(residuals, "TREES_PER_CHECK", 20)
    rng = np.random.default_rng(14)
    x = rng.normal(size=(300, 3))
    codes = np.digitize(x[:, 0] + 0.3 * rng.normal(size=300), np.linspace(-1.5, 1.5, 9))
    model = HistGradientBoostingClassifier(max_iter=5, early_stopping=False, random_state=0)
    checks: list[int] = []
    with cancellable(lambda: bool(checks.append(1))):
        stepped = residuals._fit(clone(model), x, codes)
    assert len(checks) == 3  # five rounds, two at a time
    assert np.array_equal(stepped.predict_proba(x), clone(model).fit(x, codes).predict_proba(x))
    with cancellable(lambda: len(checks) > 4 or bool(checks.append(1))), pytest.raises(CancelledError):
        residuals._fit(clone(model), x, codes)  # the signal comes after the second step
    assert len(checks) == 5
