"""The multiclass kernel's closed-form gradient norms against autograd of the catalog functions."""

from __future__ import annotations

import pytest
import torch

import advisor
from advisor import losses
from advisor.evaluation import diagnostics, dispatch
from tests.evaluation.data import multiclass_data

WEIGHT = [0.5, 1.0, 2.0, 1.5, 0.25]
CANDIDATES = [
    {"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.2, "weight": WEIGHT}},
    {"loss": "CrossEntropyLoss", "params": {"ignore_index": 2}},
    {"loss": "FocalLoss", "params": {"gamma": 0.5}},
    {"loss": "FocalLoss", "params": {"gamma": 2.0, "alpha": [0.1, 0.2, 0.3, 0.2, 0.2]}},
    {"loss": "LogitAdjustedLoss", "params": {"tau": 1.5}},
]


def _autograd_norms(cand, x, y, s=None):
    spec = losses.get(cand["loss"])
    params = losses.resolve_params(spec, {**cand["params"], "reduction": "none"})
    params = {k: (v.to(x.dtype) if isinstance(v, torch.Tensor) else v) for k, v in params.items()}
    leaf = x.detach().clone().requires_grad_(True)
    none = spec.fn(leaf, y, **params)
    if s is not None:
        none = none * s
    (g,) = torch.autograd.grad(none.sum(), leaf)
    return none.detach(), g.norm(dim=1)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_norms_and_losses_match_autograd(mode, weighted):
    x, y = multiclass_data(97, 5)
    x[0] *= 40.0  # a saturated row
    s = torch.rand(97, generator=torch.Generator().manual_seed(5)) + 0.1 if weighted else None
    with dispatch.mode(mode):
        report = advisor.evaluate(x, y, CANDIDATES, sample_weight=s)
    for cand, res in zip(CANDIDATES, report.results, strict=True):
        assert res.path.startswith("fused"), res.path
        none, norms = _autograd_norms(cand, x, y, s)
        d = res.diagnostics
        assert d.grad_mean == pytest.approx(float(norms.double().mean()), rel=1e-5), cand
        assert d.grad_max == pytest.approx(float(norms.max()), rel=1e-5), cand
        assert d.loss_quantiles.max == pytest.approx(float(none.max()), rel=1e-5), cand
        assert d.saturation == pytest.approx(diagnostics.saturation(x, "softmax"))


def test_nll_on_log_probabilities_matches_autograd():
    x, y = multiclass_data(64, 5)
    lp = torch.log_softmax(x, dim=1)
    cand = {"loss": "NLLLoss", "params": {"weight": WEIGHT}}
    res = advisor.evaluate(lp, y, [cand]).results[0]
    _, norms = _autograd_norms(cand, lp, y)
    assert res.path.startswith("fused")
    assert res.diagnostics.grad_mean == pytest.approx(float(norms.double().mean()), rel=1e-5)
