"""The registry itself: every entry complete, consistent with torch.nn, and convertible."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from advisor import losses
from advisor.vocabulary import Family, Task

# Losses that own learnable parameters (an output layer fused with CE) are not losses over
# predictions and targets, so the catalog holds CrossEntropyLoss in their place.
LAYERS_WITH_LOSS = {"AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropyLoss"}

REQUIRED = {
    "L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "HingeEmbeddingLoss",
    "MarginRankingLoss", "SoftMarginLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss", "CTCLoss", "FocalLoss", "ClassBalancedLoss",
    "LogitAdjustedLoss", "QuantileLoss", "TweedieLoss", "NegativeBinomialNLLLoss",
    "AdaptiveRobustLoss", "LogCoshLoss", "HingeLoss", "DiceLoss",
}  # fmt: skip


def test_catalog_holds_every_required_name():
    assert set(losses.names()) >= REQUIRED


def test_catalog_holds_every_torch_nn_loss():
    torch_losses = {n for n in dir(torch.nn) if n.endswith("Loss") and n not in LAYERS_WITH_LOSS}
    assert torch_losses <= set(losses.names())


@pytest.mark.parametrize("spec", losses.specs(), ids=lambda s: s.name)
def test_spec_is_complete(spec):
    assert spec.families and all(isinstance(f, Family) for f in spec.families)
    assert spec.tasks and all(isinstance(t, Task) for t in spec.tasks)
    assert spec.inputs and spec.reference and spec.summary
    assert "reduction" in spec.param_names
    if spec.torch_class:
        assert hasattr(torch.nn, spec.torch_class)
        assert spec.reference == f"torch.nn.{spec.torch_class}"
    # every default is valid for its own spec
    resolved = losses.resolve_params(spec, {})
    assert set(resolved) == set(spec.param_names)
    json.dumps(spec.describe())


@pytest.mark.parametrize("spec", [s for s in losses.specs() if s.torch_class], ids=lambda s: s.name)
def test_defaults_match_torch_nn(spec):
    import inspect

    signature = inspect.signature(getattr(torch.nn, spec.torch_class).__init__)
    for p in spec.params:
        torch_default = signature.parameters[p.name].default
        assert p.default == torch_default or (p.default is None and torch_default is None), p.name


def test_numpy_and_lists_are_converted():
    x, y = np.array([2.5, 4.8, 6.9, 9.5]), [3.0, 5.0, 7.0, 9.0]
    # the guide's example value, computed by torch itself
    expected = torch.nn.MSELoss()(torch.tensor(x), torch.tensor(y, dtype=torch.float64))
    torch.testing.assert_close(losses.compute("MSELoss", x, y), expected)


def test_integer_targets_for_regression_and_float_labels_for_classification():
    # guide 003: float64 predictions against int32 targets
    pred, true = np.array([0.1, 0.3, 0.5, 0.9]), np.array([0, 1, 1, 1], dtype=np.int32)
    expected = torch.nn.L1Loss()(torch.from_numpy(pred), torch.from_numpy(true).double())
    torch.testing.assert_close(losses.compute("L1Loss", pred, true), expected)
    logits = torch.randn(3, 4)
    labels_as_floats = np.array([0.0, 3.0, 1.0])
    torch.testing.assert_close(
        losses.compute("CrossEntropyLoss", logits, labels_as_floats),
        torch.nn.CrossEntropyLoss()(logits, torch.tensor([0, 3, 1])),
    )


def test_mixed_precision_promotes_to_float64():
    got = losses.compute(
        "MSELoss", torch.ones(3, dtype=torch.float32), torch.zeros(3, dtype=torch.float64)
    )
    assert got.dtype == torch.float64


def test_compute_keeps_the_autograd_graph():
    x = torch.randn(5, requires_grad=True)
    losses.compute("HuberLoss", x, torch.zeros(5), delta=0.5).backward()
    assert x.grad is not None and x.grad.shape == (5,)


def test_docstring_example_is_computed():
    expected = float(torch.nn.HuberLoss(delta=0.5)(torch.tensor([0.0, 2.0]), torch.zeros(2)))
    assert float(losses.compute("HuberLoss", [0.0, 2.0], [0.0, 0.0], delta=0.5)) == pytest.approx(
        expected
    )


@pytest.mark.parametrize("ignore_index", [None, -100, 2, 7])
def test_target_counts_match_a_masked_bincount(ignore_index):
    from advisor.losses.classification import class_counts, target_counts

    g = torch.Generator().manual_seed(0)
    t = torch.randint(0, 5, (3, 40), generator=g)
    if ignore_index is not None:
        t[:, ::6] = ignore_index
    counts = target_counts(t, 5, ignore_index)
    in_range = ignore_index is not None and 0 <= ignore_index < 5
    kept = t[(t >= 0) & (t < 5)]
    assert counts[:5].tolist() == torch.bincount(kept, minlength=5).tolist()
    outside = 0 if ignore_index is None or in_range else int((t == ignore_index).sum())
    assert int(counts[5]) == outside
    valid = t if ignore_index is None else t[t != ignore_index]
    assert class_counts(t, 5, ignore_index).tolist() == torch.bincount(valid.reshape(-1), minlength=5)[:5].tolist()
    assert target_counts(t[:0], 5, ignore_index).tolist() == [0] * 6
