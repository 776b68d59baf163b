"""Distribution facts of numeric targets: scale, tails and outliers, measured robustly.

The recommender's regression rows hinge on "are there outliers, and how bad": classical
mean/std are themselves dragged by the outliers being looked for, so outliers are flagged
by the modified z-score (median and MAD, Iglewicz & Hoaglin's 3.5 cut-off) and by Tukey's
IQR fences, and the robust scale 1.4826·MAD is what Huber's delta is later derived from.
Multi-output targets are measured column by column (their units differ), then pooled.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import stats as sstats

MZ_CUTOFF = 3.5  # Iglewicz & Hoaglin's recommended cut-off for the modified z-score
MAD_TO_SIGMA = 1.4826  # makes the MAD a consistent estimate of sigma for normal data
HEAVY_KURTOSIS = 3.0  # excess kurtosis of the Laplace distribution: beyond it, tails are heavy
HEAVY_OUTLIER_SHARE = 0.05


def _finite(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _column_stats(x: np.ndarray) -> dict[str, Any]:
    med = float(np.median(x))
    abs_dev = np.abs(x - med)
    mad = float(np.median(abs_dev))
    q1, q3 = (float(v) for v in np.percentile(x, [25, 75]))
    iqr = q3 - q1
    std = float(x.std())
    if mad > 0:
        sigma, method = MAD_TO_SIGMA * mad, "mad"
        mz = 0.6745 * abs_dev / mad
    else:
        # More than half the values tie at the median (e.g. zero-heavy targets): the MAD
        # is 0, so fall back to the mean absolute deviation variant of the modified z.
        mean_ad = float(abs_dev.mean())
        mz = abs_dev / (1.253314 * mean_ad) if mean_ad > 0 else np.zeros_like(x)
        if iqr > 0:
            sigma, method = iqr / 1.349, "iqr"
        elif std > 0:
            sigma, method = std, "std"
        else:
            sigma, method = None, None
    outliers = mz > MZ_CUTOFF
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        skew = _finite(sstats.skew(x)) if std > 0 else 0.0
        kurt = _finite(sstats.kurtosis(x)) if std > 0 else 0.0
    return {
        "median": med,
        "mad": mad,
        "sigma": sigma,
        "method": method,
        "mz_share": float(outliers.mean()),
        "iqr_share": float(((x < q1 - 1.5 * iqr) | (x > q3 + 1.5 * iqr)).mean()),
        "severity": float(np.median(mz[outliers])) if outliers.any() else 0.0,
        "max_mz": float(mz.max()) if x.size else 0.0,
        "skew": skew or 0.0,
        "kurt": kurt or 0.0,
    }


def numeric_stats(values: np.ndarray) -> dict[str, Any]:
    """Fields of ``TargetStats`` for numeric targets (1-D, or 2-D pooled over columns).

    Values near the float64 limits overflow in squares and sums; such statistics are
    reported as ``None`` (unknown) rather than inf, which JSON cannot carry.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = _numeric_stats(values)
    return {k: (_finite(v) if isinstance(v, float) else v) for k, v in out.items()}


def _numeric_stats(values: np.ndarray) -> dict[str, Any]:
    cols = [values] if values.ndim == 1 else [values[:, j] for j in range(values.shape[1])]
    per = [_column_stats(c) for c in cols]
    flat = values.ravel()
    sigmas = [p["sigma"] for p in per if p["sigma"] is not None]
    methods = [p["method"] for p in per if p["method"] is not None]
    # Pool: the worst column decides the shape facts (a loss applies to every output),
    # the typical column the scale.
    skew = max((p["skew"] for p in per), key=abs)
    kurt = max(p["kurt"] for p in per)
    mz_share = float(np.mean([p["mz_share"] for p in per]))
    out = {
        "min": float(flat.min()),
        "max": float(flat.max()),
        "mean": float(flat.mean()),
        "std": float(flat.std()),
        "median": float(np.median([p["median"] for p in per])),
        "skew": skew,
        "excess_kurtosis": kurt,
        "mad": float(np.median([p["mad"] for p in per])),
        "robust_sigma": float(np.median(sigmas)) if sigmas else None,
        "robust_sigma_method": methods[0] if methods else None,
        "outlier_share_mz": mz_share,
        "outlier_share_iqr": float(np.mean([p["iqr_share"] for p in per])),
        "outlier_severity": max(p["severity"] for p in per),
        "max_abs_mz": max(p["max_mz"] for p in per),
        "heavy_tailed": bool(kurt > HEAVY_KURTOSIS or mz_share > HEAVY_OUTLIER_SHARE),
        "share_zeros": float((flat == 0).mean()),
        "share_ones": float((flat == 1).mean()),
        "share_negative": float((flat < 0).mean()),
    }
    if values.ndim == 2:
        out["output_scales"] = [_finite(p["sigma"]) if p["sigma"] is not None else None for p in per]
    return out


def is_integer_valued(values: np.ndarray) -> bool:
    return bool(np.all(np.mod(values, 1.0) == 0))
