"""Flatten a profile and goal into named facts: what table conditions test and templates quote.

One flat namespace keeps the decision table declarative (a condition is "fact op value") and
guarantees that every number in a rationale is a measured one: templates can only format
facts, and facts only come from the profile. Shares are also given in percent (``*_pct``)
because that is how people read them.
"""

from __future__ import annotations

import math
from typing import Any

from advisor.profiler.residuals import HEAVY_SHARE
from advisor.schema.profile import DataProfile, ResidualStats, TargetStats
from advisor.schema.recommendation import Goal

#: confident mistakes beyond this share of rows read as label noise
LABEL_NOISE_SHARE = 0.03


def _pct(x: float | None) -> float | None:
    return None if x is None else 100.0 * x


def _credible(
    share: float | None, n: int, max_abs_mz: float | None, floor: float = 0.01
) -> bool | None:
    """One borderline point in a small sample is 1/n of it; only call outliers when there
    are at least two, or one clear one (modified z >= 5), and ``floor`` of the rows."""
    if share is None:
        return None
    return share >= floor and (share * n >= 1.5 or (max_abs_mz or 0.0) >= 5.0)


def _residual_facts(f: dict[str, Any], r: ResidualStats) -> dict[str, Any]:
    """With features, the tail facts the rules read are the residuals' (the errors a loss
    sees); the targets' own stay available as ``y_*`` so rationales can set them side by side."""
    r2 = "" if r.r2 is None else f", R² {r.r2:.2f}"
    return {
        "has_residuals": True,
        "y_outlier_pct_mz": f["outlier_pct_mz"],
        "y_kurtosis": f["kurtosis"],
        "y_outliers_credible": f["outliers_credible"],
        "y_heavy_tailed": f["heavy_tailed"],
        "errors_of": f"the out-of-fold residuals of a {r.model} on the features ({r.n_rows} rows{r2})",
        "outlier_pct_mz": _pct(r.outlier_share_mz),
        "outlier_pct_iqr": _pct(r.outlier_share_iqr),
        "outlier_severity": r.outlier_severity,
        "max_abs_mz": r.max_abs_mz,
        "kurtosis": r.excess_kurtosis,
        # a quick model's few large misses inflate the kurtosis of Gaussian noise; the
        # fences are robust to them (``advisor.profiler.residuals``)
        "tails": None if r.outlier_share_iqr is None else f"{100 * r.outlier_share_iqr:.1f}% outside the IQR fences",
        "heavy_tailed": r.heavy_tailed,
        # a quick model's misses of a steep signal put up to 1.2% of Gaussian noise past
        # modified z 3.5; Student-t noise with 3 degrees of freedom puts 3% there
        "outliers_credible": _credible(r.outlier_share_mz, r.n_rows, r.max_abs_mz, HEAVY_SHARE),
        "resid_r2": r.r2,
        "resid_scale_trend": r.scale_trend,
        "heteroscedastic": r.heteroscedastic,
    }


def _dispersion_facts(f: dict[str, Any], r: ResidualStats) -> dict[str, Any]:
    """With features, counts are over- or equidispersed given X: the dispersion facts the
    rules read are the baseline's; the marginal ones stay as ``y_*``."""
    return {
        "has_residuals": True,
        "y_dispersion_index": f.get("dispersion_index"),
        "y_overdispersed": f.get("overdispersed"),
        "dispersion_what": f"given the features, Pearson chi-square/df of a {r.model} ({r.n_rows} rows)",
        "dispersion_index": r.pearson_dispersion,
        "overdispersion_p": r.dispersion_p_value,
        "overdispersed": r.overdispersed,
        "nb_alpha": r.nb_alpha,
    }


def _skew_se(n: int) -> float | None:
    """Standard error of the sample skewness of n normal values (Cramér 1946; the one
    D'Agostino's test and most packages quote): sqrt(6n(n - 1) / ((n - 2)(n + 1)(n + 3)))."""
    if n < 3:
        return None
    return math.sqrt(6.0 * n * (n - 1) / ((n - 2) * (n + 1) * (n + 3)))


def _shape_facts(t: TargetStats) -> dict[str, Any]:
    """How right-skewed strictly positive targets are, against the skew a Gamma of their mean
    and spread has (2 × the coefficient of variation) and against the sampling noise of the
    skewness itself; None where the targets are not all positive."""
    if t.min is None or t.min <= 0 or not t.mean or t.std is None or t.skew is None:
        return {}
    cv = t.std / t.mean
    se = _skew_se(t.n_used)
    return {
        "cv": cv,
        "gamma_skew": 2.0 * cv,
        "skew_vs_gamma": t.skew / (2.0 * cv) if cv > 0 else None,
        "skew_z": t.skew / se if se else None,
    }


def facts(profile: DataProfile, goal: Goal | None) -> dict[str, Any]:
    t = profile.targets
    at_bounds = None if t.share_zeros is None or t.share_ones is None else t.share_zeros + t.share_ones
    f: dict[str, Any] = {
        "task": profile.task.task.value,
        "task_confidence": profile.task.confidence,
        "reading": profile.task.reading,
        "n": t.n,
        "n_used": t.n_used,
        "n_missing": t.n_missing,
        "missing_pct": 100.0 * t.n_missing / t.n,
        "n_distinct": t.n_distinct,
        "is_integer": t.is_integer,
        "min": t.min,
        "max": t.max,
        "mean": t.mean,
        "skew": t.skew,
        "kurtosis": t.excess_kurtosis,
        "mad": t.mad,
        "robust_sigma": t.robust_sigma,
        "outlier_pct_mz": _pct(t.outlier_share_mz),
        "outlier_pct_iqr": _pct(t.outlier_share_iqr),
        "outlier_severity": t.outlier_severity,
        "max_abs_mz": t.max_abs_mz,
        "heavy_tailed": t.heavy_tailed,
        "outliers_credible": _credible(t.outlier_share_mz, t.n_used, t.max_abs_mz),
        "errors_of": "targets",
        "tails": None if t.excess_kurtosis is None else f"excess kurtosis {t.excess_kurtosis:.2f}",
        "has_residuals": False,
        "has_features": profile.features is not None,
        "zero_pct": _pct(t.share_zeros),
        "bound_pct": _pct(at_bounds),
        "negative_pct": _pct(t.share_negative),
        "n_outputs": t.shape[1] if len(t.shape) == 2 else 1,
        "goal": None if goal is None else goal.kind,
        "goal_quantiles": None if goal is None else goal.quantiles,
        "goal_text": None if goal is None else str(goal),
        **_shape_facts(t),
    }
    c = profile.counts
    if c is not None:
        f.update(
            count_mean=c.mean,
            count_variance=c.variance,
            dispersion_index=c.dispersion_index,
            overdispersion_p=c.overdispersion_p_value,
            overdispersed=c.overdispersed,
            nb_alpha=c.nb_alpha,
            zero_pct_expected_nb=100.0 * c.expected_zero_share_nb,
            zero_pct_expected_poisson=100.0 * c.expected_zero_share_poisson,
            excess_zero_pct=100.0 * c.excess_zero_share,
            zero_inflated=c.zero_inflated,
            dispersion_what="variance/mean",
        )
    k = profile.classes
    if k is not None:
        pairs = ", ".join(
            f"{lab}: {cnt}" for lab, cnt in zip(k.labels[:6], k.counts[:6], strict=False)
        )
        f.update(
            n_classes=k.n_classes,
            imbalance_ratio=k.imbalance_ratio,
            minority_pct=100.0 * k.minority_share,
            majority_pct=100.0 * k.majority_share,
            norm_entropy=k.normalized_entropy,
            label_style=k.label_style,
            class_encoding=k.encoding,
            class_counts=pairs + (", ..." if k.n_classes > 6 else ""),
            effective_beta=k.effective_beta,
        )
        if k.n_classes == 2:
            n_pos = k.counts[1]
            f.update(n_pos=n_pos, n_neg=k.counts[0], positive_label=k.positive_label)
    m = profile.multilabel
    if m is not None:
        f.update(
            n_labels=m.n_labels,
            ml_cardinality=m.cardinality,
            ml_density_pct=100.0 * m.density,
            ml_min_label_pct=100.0 * m.min_label_share,
        )
    d = profile.distribution
    if d is not None:
        f.update(n_components=d.n_components, row_sum_min=d.row_sum_min, row_sum_max=d.row_sum_max)
    x = profile.features
    if x is not None:
        f.update(n_features=x.n_features, feature_outlier_pct=_pct(x.outlier_share))
    r = profile.residuals
    if r is not None and r.pearson_dispersion is not None:
        f.update(_dispersion_facts(f, r))
    elif r is not None and r.confident_mistake_share is not None:
        f.update(
            has_residuals=True,
            errors_of=f"the out-of-fold probabilities of a {r.model} on the features "
            f"({r.n_rows} rows, accuracy {r.accuracy:.2f})",
            confident_mistake_pct=100.0 * r.confident_mistake_share,
            label_noise=r.confident_mistake_share >= LABEL_NOISE_SHARE,
        )
    elif r is not None:
        f.update(_residual_facts(f, r))
    p = profile.predictions
    if p is not None:
        f.update(pred_format=p.format, pred_encoding=p.encoding, pred_min=p.min, pred_max=p.max)
    return f
