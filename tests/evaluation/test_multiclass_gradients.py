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
    {"loss": "LogitAdjustedLoss", "params": {"tau": 1.5}},  # narrow offsets: shares the exponentials
    {"loss": "LogitAdjustedLoss", "params": {"tau": 10.0, "class_priors": [1e-3, 0.25, 0.25, 0.25, 0.249]}},  # its own
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


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_confident_rows_keep_their_small_gradients(mode):
    """float32 rows whose p_t rounds to 1: the norms must match float64 autograd, not collapse.

    With the target's logit 25 above the others, 1 - p_t is about 1.4e-10 · (C - 1); computed
    as 1 - exp(-nll) in float32 it is 0 and the (1 - p_t)^2 term of the norm is lost.
    """
    x, y = multiclass_data(64, 5)
    x[torch.arange(64), y] += 25.0
    cands = [
        "CrossEntropyLoss",
        {"loss": "CrossEntropyLoss", "params": {"weight": WEIGHT}},
        {"loss": "FocalLoss", "params": {"gamma": 0.5}},
        {"loss": "LogitAdjustedLoss", "params": {"tau": 1.0}},
    ]
    with dispatch.mode(mode):
        report = advisor.evaluate(x, y, cands)
    for cand, res in zip(cands, report.results, strict=True):
        cand = {"loss": cand, "params": {}} if isinstance(cand, str) else cand
        if cand["loss"] == "LogitAdjustedLoss":  # the priors of these targets, as the kernel derives them
            cand = {**cand, "params": {**cand["params"], "class_priors": torch.bincount(y, minlength=5).double().tolist()}}
        _, norms = _autograd_norms(cand, x.double(), y)
        assert 0 < float(norms.mean()) < 1e-8  # the regime where float32 1 - p_t is 0
        assert res.diagnostics.grad_mean == pytest.approx(float(norms.mean()), rel=1e-4), cand["loss"]
