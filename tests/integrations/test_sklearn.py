"""The probe estimators behave as scikit-learn estimators: clone, params, CV, grid search."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import advisor
from advisor.errors import ParameterError
from advisor.integrations import LossProbeClassifier, LossProbeRegressor, cross_val_loss_scores

FAST = {"epochs": 30}


def outliers(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = x @ [1.0, -2.0, 0.5] + rng.normal(size=n) * 0.3
    gross = rng.random(n) < 0.1
    y[gross] += rng.uniform(20, 60, gross.sum())
    return x, y


def three_classes(n=300, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    return x, np.where(x[:, 0] > 0.5, "high", np.where(x[:, 0] < -0.5, "low", "mid"))


@pytest.mark.parametrize(
    "estimator",
    [
        LossProbeRegressor("HuberLoss", {"delta": 2.0}, probe="mlp", epochs=7, seed=3),
        LossProbeClassifier("FocalLoss", {"gamma": 1.0}, lr=0.1, batch_size=64),
    ],
)
def test_clone_and_params_roundtrip(estimator):
    params = estimator.get_params()
    copy = clone(estimator)
    assert copy is not estimator and copy.get_params() == params
    again = type(estimator)().set_params(**params)
    assert again.get_params() == params


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")  # pandas, array API
@pytest.mark.parametrize("estimator", [LossProbeRegressor(**FAST), LossProbeClassifier(**FAST)])
def test_passes_scikit_learns_estimator_checks(estimator):
    check_estimator(estimator)


def test_cross_val_score_ranks_a_robust_loss_above_mse_under_outliers():
    x, y = outliers()
    cv = KFold(4, shuffle=True, random_state=0)
    mae = {
        loss: -cross_val_score(
            LossProbeRegressor(loss, **FAST), x, y, cv=cv, scoring="neg_mean_absolute_error"
        ).mean()
        for loss in ("MSELoss", "L1Loss")
    }
    assert mae["L1Loss"] < mae["MSELoss"]


def test_classifier_predicts_labels_and_probabilities():
    x, y = three_classes()
    model = LossProbeClassifier(**FAST).fit(x, y)
    assert list(model.classes_) == ["high", "low", "mid"]
    proba = model.predict_proba(x)
    assert proba.shape == (300, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.score(x, y) > 0.8
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(restored.predict(x), model.predict(x))
    binary = LossProbeClassifier("BCEWithLogitsLoss", **FAST).fit(x, y == "high")
    assert binary.predict_proba(x).shape == (300, 2)


def test_grid_search_over_the_loss_inside_a_pipeline():
    x, y = outliers(seed=2)
    pipe = make_pipeline(StandardScaler(), LossProbeRegressor(**FAST))
    grid = GridSearchCV(
        pipe,
        {"lossproberegressor__loss": ["MSELoss", "L1Loss"]},
        cv=3,
        scoring="neg_mean_absolute_error",
    )
    grid.fit(x, y)
    assert grid.best_params_ == {"lossproberegressor__loss": "L1Loss"}


def test_cross_val_loss_scores_takes_a_recommendation():
    x, y = outliers(seed=3)
    rec = advisor.recommend(y, features=x, top_k=3)
    scores = cross_val_loss_scores(x, y, rec, cv=3, scoring="neg_mean_absolute_error", **FAST)
    assert list(scores) == [c.loss for c in rec.candidates]
    assert all(s.shape == (3,) and np.isfinite(s).all() for s in scores.values())
    named = cross_val_loss_scores(
        x, y, ["L1Loss", {"loss": "L1Loss"}], cv=3, estimator=LossProbeRegressor(epochs=5)
    )
    assert list(named) == ["L1Loss", "L1Loss#1"]
    np.testing.assert_array_equal(named["L1Loss"], named["L1Loss#1"])  # seeded


def test_a_loss_without_a_row_wise_probe_is_refused():
    x, y = outliers(n=50)
    with pytest.raises(ParameterError) as info:
        LossProbeRegressor("MarginRankingLoss", epochs=1).fit(x, y)
    assert info.value.field == "loss"
    with pytest.raises(ParameterError):
        LossProbeRegressor(probe="tree").fit(x, y)


def test_a_share_loss_fits_shares_and_refuses_targets_past_the_unit_interval():
    x, y = outliers(n=200)
    shares = 1.0 / (1.0 + np.exp(-(x @ [1.0, -0.5, 0.2])))
    predicted = LossProbeRegressor("BCEWithLogitsLoss", **FAST).fit(x, shares).predict(x)
    assert ((predicted > 0) & (predicted < 1)).all()
    assert np.corrcoef(predicted, shares)[0, 1] > 0.9
    with pytest.raises(ParameterError) as info:
        LossProbeRegressor("BCEWithLogitsLoss", epochs=1).fit(x, y)
    assert info.value.field == "loss" and "[0, 1]" in str(info.value)
