"""Residuals: the errors a quick model of the features leaves, which is what a loss sees.

The guides' "outliers → L1/Huber" is about a model's errors, not about y: a strong signal
can hide heavy-tailed noise behind a nearly Gaussian y, and a skewed y can come from
Gaussian errors around a skewed signal. When features are given, a baseline is cross-fitted
on at most ``SAMPLE_ROWS`` of the scored rows (3 folds, seeded) and the outlier and tail
facts are measured on its out-of-fold residuals, with the definitions ``targets`` uses.

Two baselines are fitted, and the one with the smaller out-of-fold median absolute residual
speaks: a ridge regression (standardised features, its penalty by generalised
cross-validation), which a linear signal needs, and, from ``MIN_TREE_ROWS`` rows on,
scikit-learn's ``HistGradientBoostingRegressor`` (50 rounds), which non-linear signal needs.
Heteroscedasticity is the Spearman correlation of |residual| with the prediction.

Heavy tails are read from the outlier share alone (``HEAVY_SHARE`` beyond modified z 3.5;
Gaussian errors put 0.05% there), not from the kurtosis: where a quick model misses the
extremes of a steep signal, a few residuals are huge and the kurtosis with them, though the
noise is Gaussian (y = exp(x) + N(0, 0.3²): residual kurtosis near 380, outliers 0.7%;
Student-t noise with 3 degrees of freedom: 3.6%).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from advisor.profiler import targets
from advisor.schema.profile import Tails

SAMPLE_ROWS = 10_000
MIN_ROWS = 50
MIN_TREE_ROWS = 1_000
FOLDS = 3
TREE_ROUNDS = 50
TREND_MIN = 0.2
TREND_P = 0.01
HEAVY_SHARE = 0.02

def residual_stats(y: np.ndarray, x: np.ndarray, seed: int = 0) -> dict[str, Any] | None:
    """Fields of ``ResidualStats`` for 1-D numeric targets ``y`` and prepared features ``x``
    (rows aligned); None when there are too few rows to cross-fit."""
    if y.ndim != 1 or y.size < MIN_ROWS or x.shape[1] == 0:
        return None
    rng = np.random.default_rng(seed)
    if y.size > SAMPLE_ROWS:
        rows = np.sort(rng.choice(y.size, SAMPLE_ROWS, replace=False))
        y, x = y[rows], x[rows]
    x = x.astype(np.float64)
    fitted = {name: _out_of_fold(model, x, y, seed) for name, model in _baselines(y.size, seed)}
    name, prediction = min(fitted.items(), key=lambda kv: float(np.median(np.abs(y - kv[1]))))
    residual = y - prediction
    out = {k: v for k, v in targets.numeric_stats(residual).items() if k in Tails.model_fields}
    out["heavy_tailed"] = bool((out["outlier_share_mz"] or 0.0) > HEAVY_SHARE)
    variance = float(np.var(y))
    trend, p_value = _scale_trend(residual, prediction)
    return {
        "model": name,
        "method": f"{FOLDS}-fold cross-fitted on {y.size} rows (seed {seed}), out-of-fold residuals",
        "n_rows": int(y.size),
        "r2": 1.0 - float(np.mean(residual**2)) / variance if variance > 0 else None,
        **out,
        "scale_trend": trend,
        "heteroscedastic": bool(
            trend is not None and abs(trend) >= TREND_MIN and p_value is not None and p_value < TREND_P
        ),
    }


def _baselines(n: int, seed: int) -> list[tuple[str, Any]]:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    models = [("ridge regression", make_pipeline(StandardScaler(), RidgeCV(np.logspace(-3, 3, 7))))]
    if n >= MIN_TREE_ROWS:
        tree = HistGradientBoostingRegressor(max_iter=TREE_ROUNDS, early_stopping=False, random_state=seed)
        models.append(("gradient-boosting model", tree))
    return models


def _out_of_fold(model: Any, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.model_selection import KFold, cross_val_predict

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ill-conditioned ridge solves on constant-ish columns
        return cross_val_predict(model, x, y, cv=KFold(FOLDS, shuffle=True, random_state=seed))


def _scale_trend(residual: np.ndarray, prediction: np.ndarray) -> tuple[float | None, float | None]:
    from scipy import stats

    if np.ptp(prediction) == 0 or np.ptp(residual) == 0:
        return None, None
    result = stats.spearmanr(np.abs(residual), prediction)
    rho, p_value = float(result.statistic), float(result.pvalue)
    return (rho, p_value) if np.isfinite(rho) else (None, None)
