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

For counts the baselines are a Poisson GLM (``PoissonRegressor``) and, from ``MIN_TREE_ROWS``
rows on, gradient boosting with the Poisson loss; the better by out-of-fold Poisson deviance
gives the dispersion given X: Pearson's chi-square over its degrees of freedom, tested
against Poisson's 1 as ``counts`` tests the marginal variance/mean, and the negative
binomial's alpha by moments ((y - mu)² - y) / mu² (Cameron & Trivedi). Covariates alone make
a marginal count overdispersed; what a count loss must absorb is the dispersion left given X.

For classes the baselines are a logistic regression and, from ``MIN_TREE_ROWS`` rows on,
gradient boosting, the better by out-of-fold log-loss. A confident mistake is a row whose
true class gets probability below ``MISTAKE_P`` while another class gets at least
``CONFIDENT_P``: a model that separates the classes that well elsewhere is more likely
looking at a wrong label than at a hard row, so their share estimates label noise.

For integer targets, ``reading_fits`` asks the linear baselines (each reading the same kind of
model, and cheap: a gradient-boosting classifier grows a tree per code and round, twelve
seconds at 19 codes on 10,000 rows) which reading of the integers fits better on held-out rows: as class indices (the classifier's out-of-fold probability of
the true code), as counts (the count baseline's mean under a negative binomial whose alpha is
the moments estimate above; Poisson when that is 0) or as a measured quantity (the regression
baseline's prediction under a normal of the out-of-fold residuals' spread, integrated over
the unit interval the integer was rounded from). Codes with gaps (a survey's 0, 1, 2, 3, 5,
10, 20 times) are scored as the bands they stand for, each reaching to the next code and the
last one open. All three are probabilities of the same integers, so their log-likelihoods per
row compare directly, row by row.

Heavy tails are read from the outlier share alone (``HEAVY_SHARE`` beyond modified z 3.5;
Gaussian errors put 0.05% there), not from the kurtosis: where a quick model misses the
extremes of a steep signal, a few residuals are huge and the kurtosis with them, though the
noise is Gaussian (y = exp(x) + N(0, 0.3²): residual kurtosis near 380, outliers 0.7%;
Student-t noise with 3 degrees of freedom: 3.6%).

Each baseline is fitted fold by fold with the caller's stop signal (``advisor.cancel``) checked
before each fit, and a gradient-boosting classifier's between steps of ``TREES_PER_CHECK``
trees (grown on with ``warm_start``: the same trees as one fit), so a cancelled profile stops
within a fraction of a second.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from advisor.cancel import check
from advisor.profiler import targets
from advisor.schema.profile import Tails

SAMPLE_ROWS = 10_000
#: Rows the integer readings are compared on: the paired per-row log-likelihoods settle a
#: reading with a lead of two standard errors, and 5,000 rows halve the classifier's cost.
READING_ROWS = 5_000
MIN_ROWS = 50
MIN_TREE_ROWS = 1_000
FOLDS = 3
TREE_ROUNDS = 50
#: Trees a gradient-boosting classifier grows between two checks of the caller's stop signal
#: (a fraction of a second on a fold of ``SAMPLE_ROWS``); it grows one per class each round
TREES_PER_CHECK = 100
TREND_MIN = 0.2
TREND_P = 0.01
HEAVY_SHARE = 0.02
MISTAKE_P = 0.1
CONFIDENT_P = 0.8

def residual_stats(
    y: np.ndarray, x: np.ndarray, count: bool = False, seed: int = 0
) -> dict[str, Any] | None:
    """Fields of ``ResidualStats`` for 1-D numeric targets ``y`` and prepared features ``x``
    (rows aligned), of a regression or (``count``) of counts; None when there are too few
    rows to cross-fit."""
    from sklearn.metrics import mean_poisson_deviance
    from sklearn.model_selection import KFold

    if y.ndim != 1 or y.size < MIN_ROWS or x.shape[1] == 0:
        return None
    y, x = _sample(y, x, seed)
    folds = KFold(FOLDS, shuffle=True, random_state=seed)
    fitted = _out_of_fold("count" if count else "regression", x, y, folds, "predict", seed)
    if count:
        name, prediction = min(
            fitted.items(), key=lambda kv: mean_poisson_deviance(y, np.maximum(kv[1], 1e-9))
        )
    else:
        name, prediction = min(fitted.items(), key=lambda kv: float(np.median(np.abs(y - kv[1]))))
    residual = y - prediction
    out = {k: v for k, v in targets.numeric_stats(residual).items() if k in Tails.model_fields}
    out["heavy_tailed"] = bool((out["outlier_share_mz"] or 0.0) > HEAVY_SHARE)
    variance = float(np.var(y))
    trend, p_value = _scale_trend(residual, prediction)
    dispersion = _dispersion(y, prediction, x.shape[1]) if count else {}
    return {
        **dispersion,
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


def reading_fits(
    y: np.ndarray, x: np.ndarray, readings: tuple[str, ...], seed: int = 0
) -> dict[str, np.ndarray] | None:
    """Per reading ("class index", "count", "measured quantity"), the out-of-fold
    log-likelihood of each of (at most ``READING_ROWS``) integer targets ``y``; None when
    there are too few rows. Codes with gaps are scored as bands reaching to the next code."""
    from scipy import stats
    from sklearn.model_selection import KFold, StratifiedKFold

    if y.ndim != 1 or y.size < MIN_ROWS or x.shape[1] == 0:
        return None
    y, x = _sample(y, x, seed, READING_ROWS)
    folds = KFold(FOLDS, shuffle=True, random_state=seed)
    out: dict[str, np.ndarray] = {}
    tiny = 1e-12
    codes_seen = np.unique(y)
    # codes with gaps (0, 1, 2, 3, 5, 10, 20 times) stand for bands up to the next code, the
    # last one open; contiguous integers stand for themselves
    if codes_seen.size == int(codes_seen[-1] - codes_seen[0]) + 1:
        upper = y + 1.0
    else:
        upper = np.append(codes_seen[1:], np.inf)[np.searchsorted(codes_seen, y)]
    if "class index" in readings:
        codes = np.unique(y, return_inverse=True)[1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # codes rarer than the folds: their rows score ~0
            strata = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
            fitted = _out_of_fold("classes", x, codes, strata, "predict_proba", seed, trees=False)
        rows = np.arange(codes.size)
        out["class index"] = max(
            (np.log(np.maximum(p[rows, codes], tiny)) for p in fitted.values()), key=np.mean
        )
    if "count" in readings and y.min() >= 0:
        fitted = _out_of_fold("count", x, y, folds, "predict", seed, trees=False)
        best = []
        for prediction in fitted.values():
            mu = np.maximum(prediction, 1e-9)
            alpha = _dispersion(y, mu, x.shape[1])["nb_alpha"]
            if alpha > 1e-9:
                r = 1.0 / alpha
                dist = stats.nbinom(r, r / (r + mu))
            else:
                dist = stats.poisson(mu)
            best.append(np.log(np.maximum(dist.cdf(upper - 1.0) - dist.cdf(y - 1.0), tiny)))
        out["count"] = max(best, key=np.mean)
    if "measured quantity" in readings:
        fitted = _out_of_fold("regression", x, y, folds, "predict", seed, trees=False)
        best = []
        for prediction in fitted.values():
            scale = max(float(np.std(y - prediction)), 1e-9)
            p = stats.norm.cdf(upper - 0.5, prediction, scale) - stats.norm.cdf(y - 0.5, prediction, scale)
            best.append(np.log(np.maximum(p, tiny)))
        out["measured quantity"] = max(best, key=np.mean)
    return out


def label_noise_stats(codes: np.ndarray, x: np.ndarray, seed: int = 0) -> dict[str, Any] | None:
    """Fields of ``ResidualStats`` for class indices ``codes`` (0..C-1) and prepared features
    ``x``: the baseline's out-of-fold accuracy and share of confident mistakes."""
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    if codes.size < MIN_ROWS or x.shape[1] == 0:
        return None
    codes, x = _sample(codes, x, seed)
    present, codes = np.unique(codes, return_inverse=True)
    if present.size < 2 or np.bincount(codes).min() < FOLDS:
        return None  # too few rows of some class to hold one out in every fold
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    fitted = _out_of_fold("classes", x, codes, folds, "predict_proba", seed)
    classes = np.arange(present.size)
    name, proba = min(fitted.items(), key=lambda kv: log_loss(codes, kv[1], labels=classes))
    rows = np.arange(codes.size)
    p_true = proba[rows, codes]
    others = proba.copy()
    others[rows, codes] = -1.0
    confident = (p_true < MISTAKE_P) & (others.max(axis=1) >= CONFIDENT_P)
    return {
        "model": name,
        "method": f"{FOLDS}-fold cross-fitted on {codes.size} rows (seed {seed}), out-of-fold probabilities",
        "n_rows": int(codes.size),
        "r2": None,
        "accuracy": float(np.mean(proba.argmax(axis=1) == codes)),
        "confident_mistake_share": float(confident.mean()),
    }


def _sample(y: np.ndarray, x: np.ndarray, seed: int, at_most: int = SAMPLE_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``at_most`` aligned rows, drawn with the seed; features as float64."""
    if y.size > at_most:
        rows = np.sort(np.random.default_rng(seed).choice(y.size, at_most, replace=False))
        y, x = y[rows], x[rows]
    return y, x.astype(np.float64)


def _baselines(kind: str, n: int, seed: int, trees: bool = True) -> list[tuple[str, Any]]:
    """The linear baseline of ``kind`` ("regression", "count", "classes") on standardised
    features, and from ``MIN_TREE_ROWS`` rows on (unless not ``trees``) the gradient-boosting one."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, PoissonRegressor, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rounds = {"max_iter": TREE_ROUNDS, "early_stopping": False, "random_state": seed}
    name, linear, tree_name, tree = {
        "regression": (
            "ridge regression",
            RidgeCV(np.logspace(-3, 3, 7)),
            "gradient-boosting model",
            HistGradientBoostingRegressor(**rounds),
        ),
        "count": (
            "Poisson GLM",
            PoissonRegressor(alpha=1e-4, max_iter=300),
            "gradient-boosting model (Poisson loss)",
            HistGradientBoostingRegressor(loss="poisson", **rounds),
        ),
        "classes": (
            "logistic regression",
            LogisticRegression(max_iter=500, tol=1e-3),  # 1e-4 costs 2.5x for digits of no use here
            "gradient-boosting model",
            HistGradientBoostingClassifier(**rounds),
        ),
    }[kind]
    models = [(name, make_pipeline(StandardScaler(), linear))]
    return [*models, (tree_name, tree)] if trees and n >= MIN_TREE_ROWS else models


def _out_of_fold(
    kind: str, x: np.ndarray, y: np.ndarray, folds: Any, method: str, seed: int, trees: bool = True
) -> dict[str, np.ndarray]:
    """Each baseline's out-of-fold ``method`` output, by name: what scikit-learn's
    ``cross_val_predict`` returns (a class missing from a fold's training rows gets
    probability 0 there), fitted fold by fold so that the caller's stop signal is checked
    between the fits (``_fit``)."""
    from sklearn.base import clone

    splits = list(folds.split(x, y))
    fitted = {}
    for name, model in _baselines(kind, y.size, seed, trees):
        out: np.ndarray | None = None
        for train, test in splits:
            with warnings.catch_warnings():
                # ill-conditioned ridge solves on constant-ish columns, convergence notes
                warnings.simplefilter("ignore")
                fold_model = _fit(clone(model), x[train], y[train])
                part = getattr(fold_model, method)(x[test])
            if method == "predict_proba":  # a column per class: y holds the codes 0..C-1
                whole = np.zeros((test.size, int(y.max()) + 1), dtype=part.dtype)
                whole[:, np.asarray(fold_model.classes_, dtype=np.int64)] = part
                part = whole
            if out is None:
                out = np.empty((y.size, *part.shape[1:]), dtype=part.dtype)
            out[test] = part
        assert out is not None
        fitted[name] = out
    return fitted


def _fit(model: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """``model.fit(x, y)``, the caller's stop signal checked first (``advisor.cancel``). A
    gradient-boosting classifier grows a tree per class each round, so with many classes one
    fit takes seconds: it grows ``TREES_PER_CHECK`` trees at a time (``warm_start``: the same
    trees as one fit), the signal checked before each step."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rounds = getattr(model, "max_iter", 0)
    per_round = np.unique(y).size if isinstance(model, HistGradientBoostingClassifier) else 1
    step = max(1, TREES_PER_CHECK // (per_round if per_round > 2 else 1))
    if step >= rounds:
        check()
        return model.fit(x, y)
    model.set_params(warm_start=True)
    for done in range(step, rounds + step, step):
        check()
        model.set_params(max_iter=min(done, rounds)).fit(x, y)
    return model


def _dispersion(y: np.ndarray, prediction: np.ndarray, d: int) -> dict[str, Any]:
    """Pearson chi-square / df given X, its test against 1, and the NB alpha by moments."""
    from scipy import stats

    from advisor.profiler.counts import OVERDISPERSION_ALPHA, OVERDISPERSION_EFFECT

    mu = np.maximum(prediction, 1e-9)
    df = max(y.size - d - 1, 1)
    chi2 = float(np.sum((y - mu) ** 2 / mu))
    dispersion = chi2 / df
    p_value = float(stats.chi2.sf(chi2, df))
    alpha = max(float(np.sum(((y - mu) ** 2 - y) / mu**2)) / df, 0.0)
    return {
        "pearson_dispersion": dispersion,
        "dispersion_p_value": p_value,
        "overdispersed": bool(p_value < OVERDISPERSION_ALPHA and dispersion > OVERDISPERSION_EFFECT),
        "nb_alpha": alpha,
    }


def _scale_trend(residual: np.ndarray, prediction: np.ndarray) -> tuple[float | None, float | None]:
    from scipy import stats

    if np.ptp(prediction) == 0 or np.ptp(residual) == 0:
        return None, None
    result = stats.spearmanr(np.abs(residual), prediction)
    rho, p_value = float(result.statistic), float(result.pvalue)
    return (rho, p_value) if np.isfinite(rho) else (None, None)
