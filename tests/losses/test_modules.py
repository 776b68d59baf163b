"""``losses.build``: a ready nn.Module for every catalog loss, equal to ``compute``, trainable."""

from __future__ import annotations

import pytest
import torch

from advisor import losses
from advisor.errors import ParameterError

from .test_reference_custom import GRADIENT_CASES
from .test_reference_torch import CASES


def _module_cases():
    for name, case_id, inputs, params, _ in CASES:
        yield pytest.param(name, inputs, params, id=f"{name}-{case_id}")
    for name, inputs, params in GRADIENT_CASES:
        yield pytest.param(
            name, tuple(torch.as_tensor(x) for x in inputs), params, id=f"{name}-custom"
        )


@pytest.mark.parametrize(("name", "inputs", "params"), list(_module_cases()))
def test_built_module_equals_compute(name, inputs, params):
    module = losses.build(name, **params)
    assert isinstance(module, torch.nn.Module)
    spec = losses.get(name)
    if spec.torch_class:
        assert type(module) is getattr(torch.nn, spec.torch_class)
    else:
        assert type(module).__name__ == name and isinstance(module, losses.modules.CatalogLoss)
    prepared = tuple(losses.registry.prepare_inputs(spec, inputs).values())
    torch.testing.assert_close(module(*prepared), losses.compute(name, *inputs, **params))


def test_every_loss_builds_with_defaults_and_rejects_bad_params():
    for name in losses.names():
        assert isinstance(losses.build(name), torch.nn.Module)
    with pytest.raises(ParameterError):
        losses.build("FocalLoss", gamma=-1.0)
    with pytest.raises(ParameterError):
        losses.build("HuberLoss", delta=0.0)


def test_tensor_hyperparameters_move_with_the_module():
    module = losses.build("LogitAdjustedLoss", class_priors=[0.7, 0.2, 0.1]).to(torch.float64)
    assert module.class_priors.dtype == torch.float64
    assert "class_priors" in dict(module.named_buffers())
    assert "tau=1.0" in repr(module)


@pytest.mark.parametrize(
    ("name", "params", "task"),
    [
        ("HuberLoss", {"delta": 1.0}, "regression"),
        ("QuantileLoss", {"quantiles": [0.5]}, "regression"),
        ("AdaptiveRobustLoss", {"alpha": 0.0}, "regression"),
        ("LogCoshLoss", {}, "regression"),
        ("TweedieLoss", {"power": 1.5}, "count"),
        ("NegativeBinomialNLLLoss", {"dispersion": 0.5}, "count"),
        ("FocalLoss", {"gamma": 2.0}, "multiclass"),
        ("ClassBalancedLoss", {"samples_per_class": [30, 20, 10], "base": "ce"}, "multiclass"),
        ("LogitAdjustedLoss", {"class_priors": [0.5, 0.3, 0.2]}, "multiclass"),
        ("HingeLoss", {}, "binary"),
        ("DiceLoss", {}, "multilabel"),
    ],
)
def test_one_epoch_with_a_built_module_lowers_the_loss(name, params, task):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 6, generator=g)
    w = torch.randn(6, 3, generator=g)
    if task == "regression":
        y, width = x @ w[:, 0], 1
    elif task == "count":
        y, width = torch.poisson(torch.exp(0.3 * (x @ w[:, 0])), generator=g), 1
    elif task == "binary":
        y, width = (x @ w[:, 0] > 0).float(), 1
    elif task == "multiclass":
        y, width = (x @ w).argmax(1), 3
    else:
        y, width = (x @ w > 0).float(), 3
    model = torch.nn.Linear(6, width)
    criterion = losses.build(name, **params)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)

    def loss_value():
        with torch.no_grad():
            out = model(x)
            return float(criterion(out.squeeze(1) if width == 1 else out, y))

    before = loss_value()
    for batch in torch.randperm(256, generator=g).split(32):  # one epoch of mini-batches
        out = model(x[batch])
        loss = criterion(out.squeeze(1) if width == 1 else out, y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss_value() < before


def test_recommendation_candidates_build_their_modules():
    import numpy as np

    import advisor

    rng = np.random.default_rng(0)
    y = rng.standard_t(2, 500)
    rec = advisor.recommend(y)
    best = rec.best.build()
    assert isinstance(best, torch.nn.Module)
    for candidate in rec.candidates:
        module = candidate.build()
        assert type(module).__name__ == candidate.loss
