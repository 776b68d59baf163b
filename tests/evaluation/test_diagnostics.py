"""Diagnostics against direct computations with torch.nn, autograd and numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import advisor
from advisor.evaluation import diagnostics as diag
from advisor.evaluation import dispatch
from advisor.losses import build
from tests.evaluation.data import binary_data, multiclass_data, regression_data


def _per_sample(loss_cls, x, y, **kw):
    xr = x.detach().clone().requires_grad_(True)
    none = loss_cls(reduction="none", **kw)(xr, y)
    (g,) = torch.autograd.grad(none.sum(), xr)
    return none.detach(), g


def test_regression_quantiles_and_gradients_match_autograd():
    x, y = regression_data(501)
    x[::50] += 8.0  # outliers
    r = advisor.evaluate(x, y, ["MSELoss", {"loss": "HuberLoss", "params": {"delta": 0.5}}]).results
    for res, (cls, kw) in zip(r, [(torch.nn.MSELoss, {}), (torch.nn.HuberLoss, {"delta": 0.5})], strict=True):
        none, g = _per_sample(cls, x, y, **kw)
        d = res.diagnostics
        q = np.quantile(none.numpy(), [0.5, 0.9, 0.99], method="lower")
        assert [d.loss_quantiles.p50, d.loss_quantiles.p90, d.loss_quantiles.p99] == pytest.approx(q.tolist(), rel=1e-6)
        assert d.loss_quantiles.max == pytest.approx(float(none.max()), rel=1e-6)
        assert d.grad_mean == pytest.approx(float(g.abs().mean()), rel=1e-5)
        assert d.grad_max == pytest.approx(float(g.abs().max()), rel=1e-6)
        top = np.sort(g.abs().numpy())[::-1][: math.ceil(0.01 * len(g))].sum() / g.abs().sum().item()
        assert d.top1pct_grad_share == pytest.approx(float(top), rel=1e-5)
        assert d.nonfinite_losses == 0 and d.nonfinite_grads == 0
        assert d.saturation is None
    # outliers dominate MSE's gradient far more than Huber's bounded one
    assert r[0].diagnostics.top1pct_grad_share > 2 * r[1].diagnostics.top1pct_grad_share


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize(
    ("loss", "params", "pm1"),
    [
        ("BCEWithLogitsLoss", {}, False),
        ("BCEWithLogitsLoss", {"pos_weight": [2.5]}, False),
        ("SoftMarginLoss", {}, True),
        ("FocalLoss", {"gamma": 2.0}, False),
        ("FocalLoss", {"gamma": 0.5, "alpha": 0.3}, False),
    ],
)
def test_binary_gradients_at_logits_of_exactly_zero(loss, params, pm1, mode):
    """An untrained model's logits are often exactly 0, where |x| and relu have kinks that
    cancel in the loss: the gradient there is torch's (1/2 for BCE), not the kinks' 0 or 1."""
    x, y = binary_data(400)
    x[::3] = 0.0
    if pm1:
        y = 2 * y - 1
    with dispatch.mode(mode):
        d = advisor.evaluate(x, y, [{"loss": loss, "params": params}]).results[0].diagnostics
    xr = x.detach().clone().requires_grad_(True)
    module = build(loss, **{**params, "reduction": "none"})
    (g,) = torch.autograd.grad(module(xr, y).sum(), xr)
    g = g.abs()
    assert d.grad_mean == pytest.approx(float(g.mean()), rel=1e-5)
    assert d.grad_max == pytest.approx(float(g.max()), rel=1e-5)
    assert d.zero_grad_fraction == float((g == 0).float().mean())


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize(
    ("loss", "params"),
    [
        ("L1Loss", {}),
        ("HuberLoss", {"delta": 0.5}),
        ("SmoothL1Loss", {"beta": 0.5}),
        ("LogCoshLoss", {}),
        ("QuantileLoss", {"quantiles": [0.2]}),
        ("QuantileLoss", {"quantiles": [0.5]}),
        ("AdaptiveRobustLoss", {"alpha": 0.5}),
    ],
)
def test_regression_gradients_at_residuals_of_exactly_zero(loss, params, mode):
    """Perfect predictions sit on each loss's kink or minimum: the gradient there is the
    reference's autograd (the pinball loss's slope q at 0, not a maximum's split)."""
    x, y = regression_data(300)
    x[::4] = y[::4]
    with dispatch.mode(mode):
        d = advisor.evaluate(x, y, [{"loss": loss, "params": params}]).results[0].diagnostics
    xr = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(build(loss, **{**params, "reduction": "none"})(xr, y).sum(), xr)
    g = g.abs()
    assert d.grad_mean == pytest.approx(float(g.mean()), rel=1e-5)
    assert d.grad_max == pytest.approx(float(g.max()), rel=1e-5)
    assert d.zero_grad_fraction == float((g == 0).float().mean())


def test_multiclass_gradient_is_the_row_norm():
    x, y = multiclass_data(64, 5)
    res = advisor.evaluate(x, y, [{"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1}}]).results[0]
    _, g = _per_sample(torch.nn.CrossEntropyLoss, x, y, label_smoothing=0.1)
    norms = g.norm(dim=1)
    assert res.diagnostics.grad_mean == pytest.approx(float(norms.mean()), rel=1e-5)
    assert res.diagnostics.grad_max == pytest.approx(float(norms.max()), rel=1e-5)
    assert res.diagnostics.n_samples == 64


def test_hinge_dead_zone_and_saturation():
    x, y = binary_data(200, 1)
    x = x * 10
    r = advisor.evaluate(x, y, ["BCEWithLogitsLoss", "HingeLoss"]).results
    hinge = r[1].diagnostics
    signed = torch.where(y > 0, 1.0, -1.0)
    expected_dead = float((signed * x >= 1.0).float().mean())
    assert hinge.zero_grad_fraction == pytest.approx(expected_dead)
    assert hinge.saturation is None
    p = torch.sigmoid(x)
    eps = torch.finfo(torch.float32).eps
    expected_sat = float(((p <= eps) | (p >= 1 - eps)).float().mean())
    assert r[0].diagnostics.saturation == pytest.approx(expected_sat)
    assert expected_sat > 0


def test_skill_score_against_the_baseline():
    x, y = regression_data(400)
    d = advisor.evaluate(x, y, ["MSELoss", "L1Loss"]).results
    mse_base = float(((y - y.mean()) ** 2).mean())
    assert d[0].diagnostics.baseline_value == pytest.approx(mse_base, rel=1e-5)
    assert d[0].diagnostics.skill == pytest.approx(1 - d[0].value / mse_base, rel=1e-5)
    med = float(np.quantile(y.numpy(), 0.5, method="lower"))
    assert d[1].diagnostics.baseline_value == pytest.approx(float((y - med).abs().mean()), rel=1e-5)
    # a perfect prediction has skill 1, the baseline itself skill 0
    perfect = advisor.evaluate(y, y, ["MSELoss"]).results[0].diagnostics
    assert perfect.skill == pytest.approx(1.0)
    const = advisor.evaluate(torch.full_like(y, float(y.mean())), y, ["MSELoss"]).results[0].diagnostics
    assert const.skill == pytest.approx(0.0, abs=1e-5)


def test_classification_skill_uses_the_class_prior():
    x, y = multiclass_data(300, 4)
    res = advisor.evaluate(x * 0, y, ["CrossEntropyLoss"]).results[0].diagnostics
    counts = torch.bincount(y, minlength=4).double() + 0.5
    prior = counts / counts.sum()
    expected = float(torch.nn.CrossEntropyLoss()(prior.log().float().expand(300, 4), y))
    assert res.baseline == "class prior"
    assert res.baseline_value == pytest.approx(expected, rel=1e-5)
    assert res.skill < 0.05


def test_nonfinite_losses_are_counted():
    x, y = multiclass_data(10, 3)
    x[0, y[0]] = float("-inf")  # impossible true class: infinite loss
    d = advisor.evaluate(x, y, ["CrossEntropyLoss"]).results[0].diagnostics
    assert d.nonfinite_losses == 1
    assert d.loss_quantiles is not None


def test_top_share_and_quantiles_of_written_rows():
    """The state and sample of one row of losses and gradients, as the catalog path takes them."""
    g = torch.tensor([1.0] * 99 + [101.0])
    assert diag.rows_diagnostics(g, g, None)["top1pct_grad_share"] == pytest.approx(101.0 / 200.0)
    ties = torch.ones(200)
    assert diag.rows_diagnostics(ties, ties, None)["top1pct_grad_share"] == pytest.approx(0.01)
    assert diag.rows_diagnostics(torch.zeros(5), torch.zeros(5), None)["top1pct_grad_share"] is None
    v = torch.arange(10.0)
    assert diag.lower_quantiles(v, [0.9]) == [float(np.quantile(v.numpy(), 0.9, method="lower"))]
    bad = torch.tensor([1.0, float("nan"), 3.0, float("inf")])
    got = diag.rows_diagnostics(bad, bad, None)
    assert got["nonfinite_losses"] == 2 and got["nonfinite_grads"] == 2
    assert got["loss_quantiles"].max == 3.0 and got["grad_mean"] == 2.0


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_fused_baselines_equal_the_catalogs(mode):
    """Baselines computed in fused groups equal ``baselines.baseline`` through the catalog.

    The candidates mix constants (mean, median, quantile; class prior with and without an
    ignored class), so some share a baseline group and some do not.
    """
    from advisor import losses
    from advisor.evaluation import baselines, dispatch

    xr, yr = regression_data(3000)
    xc, yc = multiclass_data(3000, 6)
    cases = [
        (xr, yr, ["MSELoss", "L1Loss", {"loss": "HuberLoss", "params": {"delta": 0.3}}, {"loss": "QuantileLoss", "params": {"quantiles": [0.8]}}]),
        (xc, yc, [
            "CrossEntropyLoss",
            {"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1, "weight": [0.5, 1, 2, 1, 1, 3]}},
            {"loss": "CrossEntropyLoss", "params": {"ignore_index": 2}},
            {"loss": "FocalLoss", "params": {"gamma": 2.0}},
            {"loss": "LogitAdjustedLoss", "params": {"tau": 1.0}},
        ]),
    ]
    for x, y, cands in cases:
        with dispatch.mode(mode):
            results = advisor.evaluate(x, y, cands).results
        for cand, res in zip(cands, results, strict=True):
            cand = {"loss": cand, "params": {}} if isinstance(cand, str) else cand
            spec = losses.get(cand["loss"])
            params = losses.resolve_params(spec, cand["params"])
            params = {k: (v.to(x.dtype) if isinstance(v, torch.Tensor) else v) for k, v in params.items()}
            what, value = baselines.baseline(spec, {"input": x, "target": y}, params)
            assert res.path.startswith("fused")
            assert res.diagnostics.baseline == what
            assert res.diagnostics.baseline_value == pytest.approx(value, rel=1e-5), cand


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_class_prior_baselines_are_exact_over_every_row(mode):
    """Above the baseline's subsample, classification baselines still read every row.

    One row per target value, weighted by its count, gives the loss of the constant over all
    of them: checked against the catalog's loss on the full targets at the full-data prior,
    with ignored targets among them, for every fused variant (weights, smoothing, focal,
    logit-adjusted with the batch's own priors) and NLLLoss on log-probabilities.
    """
    from advisor.evaluation import baselines

    n, c = baselines.SUBSAMPLE + 4321, 5
    g = torch.Generator().manual_seed(3)
    x = 2.0 * torch.randn(n, c, generator=g)
    y = torch.randint(0, c, (n,), generator=g)
    y[y == 4] = torch.randint(0, 4, (int((y == 4).sum()),), generator=g)  # a rare class...
    y[:: n // 7] = 4  # ...of seven rows, which a strided subsample would count wrong
    y[5::11] = -100
    weight = [0.5, 1.0, 2.0, 1.0, 3.0]
    cands = [
        "CrossEntropyLoss",
        {"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1, "weight": weight}},
        {"loss": "FocalLoss", "params": {"gamma": 2.0, "alpha": [w / sum(weight) for w in weight]}},
        {"loss": "LogitAdjustedLoss", "params": {"tau": 1.0}},
    ]
    counts = torch.bincount(y[y >= 0], minlength=c).double()
    prior = ((counts + 0.5) / (counts.sum() + 0.5 * c)).float().log()
    with dispatch.mode(mode):
        results = advisor.evaluate(x, y, cands).results + advisor.evaluate(torch.log_softmax(x, 1), y, ["NLLLoss"]).results
    for cand, res in zip([*cands, "NLLLoss"], results, strict=True):
        name, params = (cand, {}) if isinstance(cand, str) else (cand["loss"], cand["params"])
        assert res.path.startswith("fused"), name
        want = float(build(name, **params).float()(prior.expand(n, c), y))
        assert res.diagnostics.baseline == "class prior"
        assert res.diagnostics.baseline_value == pytest.approx(want, rel=1e-5), name
        assert res.diagnostics.skill == pytest.approx(1 - res.value / want, rel=1e-5), name


def test_logit_adjusted_loss_with_ignored_targets_is_evaluated():
    """Its batch priors skip the ignored targets; -100 among them used to crash the engine's count."""
    x, y = multiclass_data(200, 4)
    y[::9] = -100
    res = advisor.evaluate(x, y, ["LogitAdjustedLoss"]).results[0]
    assert not res.skipped
    assert res.value == pytest.approx(float(build("LogitAdjustedLoss")(x, y)), rel=1e-5)
