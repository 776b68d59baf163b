"""Target, count, class, feature and prediction statistics against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import advisor
from advisor.profiler.classes import effective_beta

R = np.random.default_rng(0)


def test_robust_scale_and_modified_z_outliers():
    y = R.normal(0, 1, 2000)
    y[:100] = 50.0
    t = advisor.profile(y).targets
    mad = np.median(np.abs(y - np.median(y)))
    assert t.mad == pytest.approx(mad)
    assert t.robust_sigma == pytest.approx(1.4826 * mad)
    mz = 0.6745 * np.abs(y - np.median(y)) / mad
    assert t.outlier_share_mz == pytest.approx((mz > 3.5).mean())
    assert t.outlier_share_mz >= 0.05
    q1, q3 = np.percentile(y, [25, 75])
    iqr = q3 - q1
    assert t.outlier_share_iqr == pytest.approx(
        ((y < q1 - 1.5 * iqr) | (y > q3 + 1.5 * iqr)).mean()
    )
    assert t.heavy_tailed
    assert t.skew == pytest.approx(stats.skew(y))
    assert t.excess_kurtosis == pytest.approx(stats.kurtosis(y))


def test_clean_gaussian_is_not_heavy_tailed():
    t = advisor.profile(R.normal(3, 2, 5000)).targets
    assert not t.heavy_tailed
    assert t.outlier_share_mz < 0.01


def test_zero_mad_falls_back_to_a_positive_scale():
    y = np.zeros(100)
    y[:30] = R.gamma(2, 2, 30)
    t = advisor.profile(y).targets
    assert t.mad == 0
    assert t.robust_sigma > 0
    assert t.robust_sigma_method in ("iqr", "std")
    assert t.share_zeros == pytest.approx(0.7)


def test_missing_values_are_counted_and_excluded():
    y = R.normal(size=100)
    y[[3, 7, 11]] = np.nan
    p = advisor.profile(y)
    assert (p.targets.n, p.targets.n_missing, p.targets.n_used) == (100, 3, 97)
    assert p.targets.mean == pytest.approx(np.nanmean(y))
    assert any("3 of 100" in n for n in p.notes)


def test_count_dispersion_and_zero_inflation():
    y = R.negative_binomial(2, 0.2, 3000)  # mean 8, var 40
    c = advisor.profile(y).counts
    assert c.dispersion_index == pytest.approx(y.var(ddof=1) / y.mean())
    assert c.overdispersed and c.overdispersion_p_value < 0.01
    assert c.nb_alpha == pytest.approx((y.var(ddof=1) - y.mean()) / y.mean() ** 2)
    assert not c.zero_inflated
    zip_ = np.where(R.random(3000) < 0.5, 0, R.poisson(4, 3000))
    assert advisor.profile(zip_).counts.zero_inflated
    pois = advisor.profile(R.poisson(3, 3000)).counts
    assert not pois.overdispersed
    assert pois.expected_zero_share_poisson == pytest.approx(math.exp(-pois.mean))


def test_class_statistics_and_effective_numbers():
    y = np.array([0] * 80 + [1] * 15 + [2] * 5)
    c = advisor.profile(y).classes
    assert c.counts == [80, 15, 5]
    assert c.imbalance_ratio == pytest.approx(16.0)
    assert c.minority_share == pytest.approx(0.05)
    shares = np.array([0.8, 0.15, 0.05])
    assert c.normalized_entropy == pytest.approx(-(shares * np.log(shares)).sum() / np.log(3))
    beta = effective_beta(80)
    assert c.effective_beta == pytest.approx(beta)
    assert c.effective_numbers == pytest.approx([(1 - beta**n) / (1 - beta) for n in (80, 15, 5)])


def test_multilabel_and_distribution_statistics():
    y = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0]])
    m = advisor.profile(y).multilabel
    assert m.cardinality == pytest.approx(1.5)
    assert m.density == pytest.approx(0.5)
    assert m.positives == [2, 2, 2]
    assert m.empty_row_share == pytest.approx(0.25)
    d = advisor.profile(R.dirichlet(np.ones(4), 20)).distribution
    assert d.n_components == 4
    assert abs(d.row_sum_min - 1) < 1e-9 and abs(d.row_sum_max - 1) < 1e-9


def test_feature_outliers_find_a_planted_cluster_and_not_clean_data():
    x = R.normal(size=(3000, 8))
    clean = advisor.profile(R.normal(size=3000), features=x).features
    assert clean.outlier_share < 0.01
    x[:150] += 8.0
    dirty = advisor.profile(R.normal(size=3000), features=x).features
    assert 0.04 <= dirty.outlier_share <= 0.07
    assert (dirty.n_rows, dirty.n_features, dirty.n_missing) == (3000, 8, 0)


def test_feature_missing_cells_are_counted():
    x = R.normal(size=(50, 3))
    x[0, 1] = np.nan
    x[5, 2] = np.nan
    assert advisor.profile(R.normal(size=50), features=x).features.n_missing == 2


@pytest.mark.parametrize(
    ("make", "fmt", "enc"),
    [
        (lambda z: z, "logits", "scores"),
        (lambda z: np.exp(z) / np.exp(z).sum(1, keepdims=True), "probabilities", "scores"),
        (lambda z: z - np.log(np.exp(z).sum(1, keepdims=True)), "log_probabilities", "scores"),
        (lambda z: np.eye(3)[z.argmax(1)], "labels", "one_hot"),
        (lambda z: z.argmax(1), "labels", "index"),
    ],
)
def test_prediction_formats(make, fmt, enc):
    y = np.tile([0, 1, 2], 40)
    z = R.normal(size=(120, 3)) * 3
    z[0, 2] = 9.0  # argmax predictions reach class 2
    p = advisor.profile(y, predictions=make(z)).predictions
    assert (p.format, p.encoding) == (fmt, enc)


def test_regression_predictions_are_values():
    p = advisor.profile(R.normal(size=30), predictions=R.random(30)).predictions
    assert p.format == "values"


def test_outputs_on_different_scales_are_measured_apart_and_noted():
    from sklearn.datasets import load_linnerud

    measures = load_linnerud().target  # weight, waist and pulse
    profile = advisor.profile(measures)
    mad = np.median(np.abs(measures - np.median(measures, axis=0)), axis=0)
    assert profile.targets.output_scales == pytest.approx(list(1.4826 * mad))
    (note,) = [n for n in profile.notes if "robust scales" in n]
    assert "column 1" in note and "column 0" in note and "standardise each output" in note
    standardised = (measures - np.median(measures, axis=0)) / (1.4826 * mad)
    calm = advisor.profile(standardised)
    assert calm.targets.output_scales == pytest.approx([1.0, 1.0, 1.0])
    assert not any("robust scales" in n for n in calm.notes)
    assert advisor.profile(measures[:, 0]).targets.output_scales is None
