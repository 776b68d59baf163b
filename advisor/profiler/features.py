"""Outliers in feature space: leverage points that pull a squared-error fit.

scikit-learn's IsolationForest scores each row by how quickly random splits isolate it
(score near -0.5 is ordinary, towards -1 isolated). Its default threshold of -0.5 marks a
few percent of any data set, clean Gaussians included, which would make every profile look
contaminated; the stricter -0.6 used here reports 0% on clean Gaussian data and all of a
planted shifted cluster. A robust covariance (MinCovDet) was tried and rejected: its
chi-square cut-off assumes Gaussian features and flagged half of breast_cancer. The forest
runs on a fixed-seed subsample, so a 1e6 x 20 input costs well under a second and the
answer is reproducible. It reads the table as ``validate``'s probes do: categories one-hot
encoded, missing cells imputed (``advisor.ingest.features``). The caller's stop signal
(``advisor.cancel``) is checked between reading, preparing and scoring.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from advisor.cancel import check
from advisor.ingest.features import FeaturePreparer, read

FIT_ROWS = 4_096
SCORE_ROWS = 20_000
MIN_ROWS = 10
SCORE_CUTOFF = -0.6


def feature_stats(
    features: Any, n_rows: int, kept: np.ndarray, categorical: Sequence[str] | None = None
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Outliers among the rows whose target is present (``kept``), after the preparation
    ``validate`` gives its probes (``advisor.ingest.features``), and that preparation; with
    the prepared rows it scored and their positions among the kept rows (for ``residuals``)."""
    table = read(features, n_rows, categorical)
    check()  # the caller's stop signal (advisor.cancel), between the steps
    rows = np.flatnonzero(kept)
    preparer = FeaturePreparer(fit_rows=SCORE_ROWS).fit(table, rows)
    check()
    rng = np.random.default_rng(0)
    scored = (
        rows if rows.size <= SCORE_ROWS else np.sort(rng.choice(rows, SCORE_ROWS, replace=False))
    )
    x = preparer.transform(table, scored).astype(np.float64)
    check()
    share, method, n_scored = _outlier_share(x)
    report = preparer.report()
    stats = {
        "n_rows": int(n_rows),
        "n_features": report.n_output_columns,
        "n_missing": sum(c.n_missing for c in report.columns),
        "outlier_share": share,
        "outlier_method": method,
        "n_scored": n_scored,
        "preparation": report,
    }
    return stats, x, np.searchsorted(rows, scored)


def _outlier_share(x: np.ndarray) -> tuple[float | None, str | None, int]:
    if x.shape[0] < MIN_ROWS:
        return None, None, 0
    rng = np.random.default_rng(0)
    x = x[:, x.std(axis=0) > 0]
    if x.shape[1] == 0:
        return 0.0, "constant features", int(x.shape[0])
    from sklearn.ensemble import IsolationForest

    fit = x[rng.permutation(x.shape[0])[:FIT_ROWS]]  # rows may arrive sorted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forest = IsolationForest(n_estimators=100, random_state=0).fit(fit)
        scores = forest.score_samples(x)
    return (
        float((scores < SCORE_CUTOFF).mean()),
        f"IsolationForest score < {SCORE_CUTOFF}",
        int(x.shape[0]),
    )
