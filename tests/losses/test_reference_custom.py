"""Losses that torch.nn lacks, against scikit-learn, SciPy, NumPy formulas or limiting cases.

Values are checked in float32 and float64 for every reduction; gradients with
``torch.autograd.gradcheck`` (analytic against finite differences, float64) and float32
gradients against float64 ones.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats
from sklearn.metrics import f1_score, hinge_loss, mean_pinball_loss, mean_tweedie_deviance

from advisor import losses

from .helpers import DTYPES, REDUCTIONS, TOLERANCE, assert_matches

RNG = np.random.default_rng(42)


def reduce_np(values: np.ndarray, reduction: str) -> np.ndarray:
    return {"none": values, "mean": values.mean(), "sum": values.sum()}[reduction]


def assert_value(got: torch.Tensor, expected, dtype) -> None:
    expected = torch.as_tensor(np.asarray(expected, dtype=np.float64)).to(dtype)
    tol = dict(TOLERANCE[dtype])
    if dtype == torch.float64:  # references computed through NumPy/SciPy special functions
        tol = {"rtol": 1e-10, "atol": 1e-10}
    torch.testing.assert_close(got.detach(), expected.reshape(got.shape), **tol)


def check_gradients(name: str, inputs: tuple, params: dict, grad_idx=(0,)) -> None:
    """gradcheck in float64, then float32 gradients against the float64 ones."""
    x64 = [
        torch.as_tensor(x, dtype=torch.float64)
        if isinstance(x, np.ndarray) and x.dtype.kind == "f"
        else x
        for x in inputs
    ]
    x64 = [
        x.clone().requires_grad_(i in grad_idx)
        if isinstance(x, torch.Tensor) and x.is_floating_point()
        else x
        for i, x in enumerate(x64)
    ]

    def fn(*diff):
        it = iter(diff)
        args = [next(it) if i in grad_idx else x for i, x in enumerate(x64)]
        return losses.compute(name, *args, **params)

    assert torch.autograd.gradcheck(
        fn, tuple(x64[i] for i in grad_idx), eps=1e-6, atol=1e-5, rtol=1e-4
    )
    x32 = [
        x.detach().float().requires_grad_(i in grad_idx)
        if isinstance(x, torch.Tensor) and x.is_floating_point()
        else x
        for i, x in enumerate(x64)
    ]
    g64 = torch.autograd.grad(losses.compute(name, *x64, **params), [x64[i] for i in grad_idx])
    g32 = torch.autograd.grad(losses.compute(name, *x32, **params), [x32[i] for i in grad_idx])
    for a, b in zip(g32, g64, strict=True):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-6)


def cast_np(x, dtype):
    return torch.as_tensor(x).to(dtype) if np.asarray(x).dtype.kind == "f" else torch.as_tensor(x)


# ---------------------------------------------------------------- regression


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logcosh_matches_numpy(dtype, reduction):
    x, y = RNG.normal(size=50) * 3, RNG.normal(size=50)
    got = losses.compute("LogCoshLoss", cast_np(x, dtype), cast_np(y, dtype), reduction=reduction)
    assert_value(got, reduce_np(np.log(np.cosh(x - y)), reduction), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", ["LogCoshLoss", "AdaptiveRobustLoss"])
def test_small_residuals_keep_relative_accuracy(dtype, name):
    """Per-sample losses of residuals from 1e-6 to 1, relative to float64 references.

    Near convergence log cosh r and Barron's loss are about r^2 / 2: forms that subtract
    numbers close to log 2 or to 1 keep only absolute accuracy there, percents off in float32.
    """
    r = np.concatenate([np.geomspace(1e-6, 1.0, 40), -np.geomspace(1e-6, 1.0, 40)])
    rtol = 1e-5 if dtype == torch.float32 else 1e-10
    if name == "LogCoshLoss":
        cases = [({}, np.log1p(2 * np.sinh(r / 2) ** 2))]  # log(cosh r) itself rounds cosh r to 1 + ulps
    else:  # the general case (b/a)((z2/b + 1)^(a/2) - 1), its limits aside, in log1p/expm1 form
        cases = [({"alpha": a}, abs(a - 2) / a * np.expm1(a / 2 * np.log1p(r**2 / abs(a - 2)))) for a in (1.0, -2.0, 4.0, 0.5)]
    for params, expected in cases:
        got = losses.compute(name, cast_np(r, dtype), torch.zeros(r.size, dtype=dtype), reduction="none", **params)
        np.testing.assert_allclose(got.double().numpy(), expected, rtol=rtol, atol=0, err_msg=str(params))


def test_logcosh_is_finite_far_out():
    got = losses.compute("LogCoshLoss", torch.tensor([1e4, -1e4]), torch.zeros(2), reduction="none")
    torch.testing.assert_close(got, torch.full((2,), 1e4 - np.log(2), dtype=torch.float32))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_quantile_matches_sklearn_pinball(dtype, q):
    y, p = RNG.normal(size=40), RNG.normal(size=40)
    got = losses.compute("QuantileLoss", cast_np(p, dtype), cast_np(y, dtype), quantiles=[q])
    assert_value(got, mean_pinball_loss(y, p, alpha=q), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_quantile_matches_sklearn_per_level(dtype, reduction):
    qs = [0.1, 0.5, 0.9]
    y, p = RNG.normal(size=30), RNG.normal(size=(30, 3))
    got = losses.compute(
        "QuantileLoss", cast_np(p, dtype), cast_np(y, dtype), quantiles=qs, reduction=reduction
    )
    per_level = np.stack(
        [np.maximum(q * (y - p[:, j]), (q - 1) * (y - p[:, j])) for j, q in enumerate(qs)], axis=1
    )
    assert_value(got, reduce_np(per_level, reduction), dtype)
    if reduction == "mean":
        assert_value(
            got, np.mean([mean_pinball_loss(y, p[:, j], alpha=q) for j, q in enumerate(qs)]), dtype
        )


def test_median_quantile_is_half_l1():
    y, p = torch.randn(20, dtype=torch.float64), torch.randn(20, dtype=torch.float64)
    torch.testing.assert_close(losses.compute("QuantileLoss", p, y), 0.5 * F.l1_loss(p, y))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("power", [1.2, 1.5, 1.8])
def test_tweedie_matches_sklearn_deviance(dtype, reduction, power):
    y = np.where(RNG.random(60) < 0.4, 0.0, RNG.gamma(2.0, 2.0, 60))  # zero-inflated positive
    log_mu = RNG.normal(size=60) * 0.5 + 1.0
    got = losses.compute(
        "TweedieLoss", cast_np(log_mu, dtype), cast_np(y, dtype), power=power, reduction=reduction
    )
    mu = np.exp(log_mu)
    unit = 2 * (
        np.power(y, 2 - power) / ((1 - power) * (2 - power))
        - y * np.power(mu, 1 - power) / (1 - power)
        + np.power(mu, 2 - power) / (2 - power)
    )
    assert_value(got, reduce_np(unit, reduction), dtype)
    if reduction == "mean":
        assert_value(got, mean_tweedie_deviance(y, mu, power=power), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dispersion", [0.1, 1.0, 5.0])
def test_negative_binomial_matches_scipy(dtype, reduction, dispersion):
    y = RNG.negative_binomial(2, 0.3, 50).astype(np.float64)
    log_mu = RNG.normal(size=50) * 0.5 + 1.5
    got = losses.compute(
        "NegativeBinomialNLLLoss",
        cast_np(log_mu, dtype),
        cast_np(y, dtype),
        dispersion=dispersion,
        reduction=reduction,
    )
    r = 1.0 / dispersion
    mu = np.exp(log_mu)
    nll = -stats.nbinom.logpmf(y, r, r / (r + mu))
    if dtype == torch.float32:
        torch.testing.assert_close(
            got.double(),
            torch.as_tensor(reduce_np(nll, reduction)).reshape(got.shape),
            rtol=1e-5,
            atol=1e-5,
        )
    else:
        assert_value(got, reduce_np(nll, reduction), dtype)


def test_negative_binomial_accepts_the_mean_itself():
    y = torch.tensor([0.0, 3.0, 7.0], dtype=torch.float64)
    mu = torch.tensor([0.5, 2.0, 9.0], dtype=torch.float64)
    torch.testing.assert_close(
        losses.compute("NegativeBinomialNLLLoss", mu, y, log_input=False, eps=1e-12),
        losses.compute("NegativeBinomialNLLLoss", mu.log(), y),
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_adaptive_robust_limits(dtype, reduction):
    x, y = RNG.normal(size=40) * 3, RNG.normal(size=40)
    d = x - y
    xt, yt = cast_np(x, dtype), cast_np(y, dtype)
    cases = {
        2.0: 0.5 * d**2,  # L2 / 2
        1.0: np.sqrt(d**2 + 1) - 1,  # pseudo-Huber (Charbonnier)
        0.0: np.log(0.5 * d**2 + 1),  # Cauchy / Lorentzian
        -2.0: 2 * d**2 / (d**2 + 4),  # Geman-McClure
        float("-inf"): 1 - np.exp(-0.5 * d**2),  # Welsch
    }
    for alpha, expected in cases.items():
        got = losses.compute("AdaptiveRobustLoss", xt, yt, alpha=alpha, reduction=reduction)
        assert_value(got, reduce_np(expected, reduction), dtype)
    half_mse = losses.compute("MSELoss", xt, yt, reduction=reduction) / 2
    torch.testing.assert_close(
        losses.compute("AdaptiveRobustLoss", xt, yt, alpha=2.0, reduction=reduction), half_mse
    )


def test_adaptive_robust_scale_and_continuity():
    x = torch.linspace(-5, 5, 41, dtype=torch.float64)
    zero = torch.zeros_like(x)
    scaled = losses.compute("AdaptiveRobustLoss", x, zero, alpha=1.0, scale=2.0, reduction="none")
    torch.testing.assert_close(scaled, torch.sqrt((x / 2) ** 2 + 1) - 1)
    near_two = losses.compute("AdaptiveRobustLoss", x, zero, alpha=2.0 - 1e-7, reduction="none")
    torch.testing.assert_close(near_two, 0.5 * x**2, rtol=1e-5, atol=1e-6)
    near_zero = losses.compute("AdaptiveRobustLoss", x, zero, alpha=1e-7, reduction="none")
    torch.testing.assert_close(near_zero, torch.log1p(0.5 * x**2), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- classification


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("labels", [(0, 1), (-1, 1)], ids=["01", "pm1"])
def test_hinge_matches_sklearn(dtype, reduction, labels):
    y = RNG.choice(labels, 50)
    s = RNG.normal(size=50) * 2
    got = losses.compute("HingeLoss", cast_np(s, dtype), torch.as_tensor(y), reduction=reduction)
    signed = np.where(y > 0, 1.0, -1.0)
    assert_value(got, reduce_np(np.maximum(0, 1 - signed * s), reduction), dtype)
    if reduction == "mean":
        assert_value(got, hinge_loss(y, s), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_gamma_zero_is_cross_entropy(dtype, reduction):
    logits, target = torch.randn(12, 4, dtype=dtype), torch.randint(0, 4, (12,))
    weight = torch.rand(4, dtype=dtype) + 0.2
    assert_matches(
        lambda x: losses.compute("FocalLoss", x, target, gamma=0.0, reduction=reduction),
        lambda x: F.cross_entropy(x, target, reduction=reduction),
        (logits,),
        (0,),
        dtype,
    )
    assert_matches(
        lambda x: losses.compute(
            "FocalLoss", x, target, gamma=0.0, alpha=weight, reduction=reduction
        ),
        lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction),
        (logits,),
        (0,),
        dtype,
    )
    spatial, starget = torch.randn(2, 3, 4, 4, dtype=dtype), torch.randint(0, 3, (2, 4, 4))
    starget[0, 0, 0] = -100
    assert_matches(
        lambda x: losses.compute("FocalLoss", x, starget, gamma=0.0, reduction=reduction),
        lambda x: F.cross_entropy(x, starget, reduction=reduction),
        (spatial,),
        (0,),
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_gamma_zero_is_bce(dtype, reduction):
    logits, target = torch.randn(10, 3, dtype=dtype) * 3, (torch.rand(10, 3) > 0.7).to(dtype)
    assert_matches(
        lambda x: losses.compute("FocalLoss", x, target, gamma=0.0, reduction=reduction),
        lambda x: F.binary_cross_entropy_with_logits(x, target, reduction=reduction),
        (logits,),
        (0,),
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_matches_lin_et_al_formula(dtype, reduction):
    gamma, alpha = 2.0, 0.25
    z, y = RNG.normal(size=30) * 3, (RNG.random(30) > 0.8).astype(np.float64)
    p = 1 / (1 + np.exp(-z))
    p_t = np.where(y == 1, p, 1 - p)
    a_t = np.where(y == 1, alpha, 1 - alpha)
    expected = -a_t * (1 - p_t) ** gamma * np.log(p_t)
    got = losses.compute(
        "FocalLoss",
        cast_np(z, dtype),
        cast_np(y, dtype),
        gamma=gamma,
        alpha=alpha,
        reduction=reduction,
    )
    assert_value(got, reduce_np(expected, reduction), dtype)

    logits, target = RNG.normal(size=(20, 5)) * 2, RNG.integers(0, 5, 20)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    pt = probs[np.arange(20), target]
    expected = -((1 - pt) ** gamma) * np.log(pt)
    got = losses.compute(
        "FocalLoss",
        cast_np(logits, dtype),
        torch.as_tensor(target),
        gamma=gamma,
        reduction=reduction,
    )
    assert_value(got, reduce_np(expected, reduction), dtype)


def effective_weights_np(counts, beta):
    w = (1 - beta) / (1 - np.power(beta, counts))
    return w * len(counts) / w.sum()


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_balanced_matches_weighted_ce_and_bce(dtype, reduction):
    counts, beta = np.array([500.0, 40.0, 7.0]), 0.99
    w = torch.as_tensor(effective_weights_np(counts, beta)).to(dtype)
    logits, target = torch.randn(16, 3, dtype=dtype), torch.randint(0, 3, (16,))
    assert_matches(
        lambda x: losses.compute(
            "ClassBalancedLoss",
            x,
            target,
            samples_per_class=counts,
            beta=beta,
            base="ce",
            reduction=reduction,
        ),
        lambda x: F.cross_entropy(x, target, weight=w, reduction=reduction),
        (logits,),
        (0,),
        dtype,
    )
    assert_matches(
        lambda x: losses.compute(
            "ClassBalancedLoss",
            x,
            target,
            samples_per_class=counts,
            beta=beta,
            base="focal",
            gamma=0.0,
            reduction=reduction,
        ),
        lambda x: F.cross_entropy(x, target, weight=w, reduction=reduction),
        (logits,),
        (0,),
        dtype,
    )
    bcounts = np.array([900.0, 12.0])
    bw = torch.as_tensor(effective_weights_np(bcounts, beta)).to(dtype)
    z, y = torch.randn(16, dtype=dtype), (torch.rand(16) > 0.7).to(dtype)
    assert_matches(
        lambda x: losses.compute(
            "ClassBalancedLoss",
            x,
            y,
            samples_per_class=bcounts,
            beta=beta,
            base="bce",
            reduction=reduction,
        ),
        lambda x: F.binary_cross_entropy_with_logits(
            x, y, weight=bw[y.long()], reduction=reduction
        ),
        (z,),
        (0,),
        dtype,
    )


def test_class_balanced_beta_zero_is_unweighted():
    logits, target = torch.randn(16, 3, dtype=torch.float64), torch.randint(0, 3, (16,))
    torch.testing.assert_close(
        losses.compute(
            "ClassBalancedLoss", logits, target, samples_per_class=[100, 10, 1], beta=0.0, base="ce"
        ),
        F.cross_entropy(logits, target),
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logit_adjusted_matches_shifted_ce(dtype, reduction):
    priors = np.array([0.7, 0.2, 0.08, 0.02])
    tau = 1.5
    logits, target = torch.randn(20, 4, dtype=dtype), torch.randint(0, 4, (20,))
    shift = torch.as_tensor(tau * np.log(priors)).to(dtype)
    assert_matches(
        lambda x: losses.compute(
            "LogitAdjustedLoss", x, target, class_priors=priors, tau=tau, reduction=reduction
        ),
        lambda x: F.cross_entropy(x + shift, target, reduction=reduction),
        (logits,),
        (0,),
        dtype,
    )
    assert_matches(
        lambda x: losses.compute(
            "LogitAdjustedLoss", x, target, class_priors=priors, tau=0.0, reduction=reduction
        ),
        lambda x: F.cross_entropy(x, target, reduction=reduction),
        (logits,),
        (0,),
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_dice_on_hard_predictions_is_one_minus_sample_f1(dtype, reduction):
    y = (RNG.random((25, 6)) > 0.6).astype(np.int64)
    y[:, 0] = 1  # every sample has a label, so F1 is defined
    pred = (RNG.random((25, 6)) > 0.5).astype(np.int64)
    got = losses.compute(
        "DiceLoss",
        cast_np(pred.astype(np.float64), dtype),
        torch.as_tensor(y),
        smooth=0.0,
        from_logits=False,
        reduction=reduction,
    )
    per_sample = np.array([1 - f1_score(y[i], pred[i]) for i in range(25)])
    assert_value(got, reduce_np(per_sample, reduction), dtype)
    if reduction == "mean":
        assert_value(got, 1 - f1_score(y, pred, average="samples"), dtype)


def test_dice_multiclass_segmentation_uses_one_hot_targets():
    logits = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    target = torch.randint(0, 3, (2, 4, 4))
    got = losses.compute("DiceLoss", logits, target, mode="multiclass", reduction="none")
    probs = logits.softmax(1)
    onehot = F.one_hot(target, 3).permute(0, 3, 1, 2).double()
    inter = (probs * onehot).sum((1, 2, 3))
    expected = 1 - (2 * inter + 1) / (probs.sum((1, 2, 3)) + onehot.sum((1, 2, 3)) + 1)
    torch.testing.assert_close(got, expected)


# ---------------------------------------------------------------- gradients

GRADIENT_CASES = [
    ("LogCoshLoss", (RNG.normal(size=8), RNG.normal(size=8)), {}),
    ("QuantileLoss", (RNG.normal(size=(8, 2)), RNG.normal(size=8)), {"quantiles": [0.2, 0.8]}),
    ("TweedieLoss", (RNG.normal(size=8), RNG.gamma(1.0, 2.0, 8)), {"power": 1.4}),
    (
        "NegativeBinomialNLLLoss",
        (RNG.normal(size=8), RNG.poisson(3.0, 8).astype(np.float64)),
        {"dispersion": 0.5},
    ),
    ("AdaptiveRobustLoss", (RNG.normal(size=8), RNG.normal(size=8)), {"alpha": 0.5, "scale": 0.7}),
    ("AdaptiveRobustLoss", (RNG.normal(size=8), RNG.normal(size=8)), {"alpha": -2.0}),
    ("HingeLoss", (RNG.normal(size=8), RNG.choice([-1.0, 1.0], 8)), {}),
    ("FocalLoss", (RNG.normal(size=(6, 4)), RNG.integers(0, 4, 6)), {"gamma": 2.0}),
    ("FocalLoss", (RNG.normal(size=6), RNG.choice([0.0, 1.0], 6)), {"gamma": 1.5, "alpha": 0.3}),
    (
        "ClassBalancedLoss",
        (RNG.normal(size=(6, 3)), RNG.integers(0, 3, 6)),
        {"samples_per_class": [50, 5, 2]},
    ),
    (
        "LogitAdjustedLoss",
        (RNG.normal(size=(6, 3)), RNG.integers(0, 3, 6)),
        {"class_priors": [0.6, 0.3, 0.1]},
    ),
    ("DiceLoss", (RNG.normal(size=(4, 5)), RNG.choice([0.0, 1.0], (4, 5))), {}),
]


@pytest.mark.parametrize(
    ("name", "inputs", "params"), GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES]
)
def test_custom_gradients(name, inputs, params):
    check_gradients(name, inputs, params)


def test_every_custom_loss_has_value_and_gradient_tests():
    custom = {s.name for s in losses.specs() if not s.torch_class}
    assert custom == {c[0] for c in GRADIENT_CASES}
