"""Bad input raises one typed family, names the field, and says what was expected and what came."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advisor import losses
from advisor.errors import (
    AdvisorError,
    DTypeError,
    EmptyInputError,
    InvalidInputError,
    LabelOutOfRangeError,
    NonFiniteError,
    ParameterError,
    ShapeMismatchError,
    UnknownLossError,
)


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("HuberLos", "HuberLoss"),
        ("mse", "MSELoss"),
        ("crossentropy", "CrossEntropyLoss"),
        ("focal_loss", "FocalLoss"),
        ("BCEWithLogits", "BCEWithLogitsLoss"),
    ],
)
def test_unknown_loss_suggests_nearest_names(typo, expected):
    with pytest.raises(UnknownLossError) as info:
        losses.get(typo)
    assert expected in info.value.suggestions
    assert info.value.field == "loss"
    assert expected in str(info.value)
    with pytest.raises(UnknownLossError):
        losses.compute(typo, [1.0], [1.0])


def test_unknown_loss_is_a_lookup_error_and_an_advisor_error():
    with pytest.raises(LookupError):
        losses.get("NoSuchLoss")
    with pytest.raises(AdvisorError):
        losses.get("NoSuchLoss")


def test_shape_mismatch_names_target_and_warns_about_broadcasting():
    with pytest.raises(ShapeMismatchError) as info:
        losses.compute("MSELoss", torch.zeros(5, 1), torch.zeros(5))
    err = info.value
    assert err.field == "target"
    assert err.expected == (5, 1) and err.got == (5,)
    assert "broadcast" in err.message


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_target_is_refused(bad):
    with pytest.raises(NonFiniteError) as info:
        losses.compute("L1Loss", [0.0, 1.0], [bad, 1.0])
    assert info.value.field == "target"


def test_non_finite_prediction_is_refused_for_regression_but_neg_inf_logits_are_masks():
    with pytest.raises(NonFiniteError) as info:
        losses.compute("MSELoss", [float("nan"), 1.0], [0.0, 1.0])
    assert info.value.field == "input"
    masked = torch.tensor([[0.5, float("-inf"), 1.0]])
    assert torch.isfinite(losses.compute("CrossEntropyLoss", masked, torch.tensor([0])))
    with pytest.raises(NonFiniteError):
        losses.compute(
            "CrossEntropyLoss", torch.tensor([[0.5, float("nan"), 1.0]]), torch.tensor([0])
        )


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "MultiMarginLoss", "FocalLoss"])
def test_class_index_out_of_range(name):
    scores = torch.randn(4, 3).log_softmax(1)
    with pytest.raises(LabelOutOfRangeError) as info:
        losses.compute(name, scores, torch.tensor([0, 1, 3, 2]))
    assert info.value.field == "target"
    assert "[0, 2]" in info.value.message and "3" in info.value.message
    with pytest.raises(LabelOutOfRangeError):
        losses.compute(name, scores, torch.tensor([0, -1, 2, 2]))


def test_ignore_index_is_not_out_of_range():
    value = losses.compute("CrossEntropyLoss", torch.randn(3, 4), torch.tensor([0, -100, 3]))
    assert torch.isfinite(value)


def test_one_hot_targets_where_indices_are_expected_get_a_hint():
    onehot = torch.eye(3)[[0, 2, 1]].long()
    with pytest.raises(ShapeMismatchError, match="one-hot"):
        losses.compute("NLLLoss", torch.randn(3, 3), onehot)


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("HuberLoss", {"delta": -1.0}, "params.delta"),
        ("HuberLoss", {"delta": 0.0}, "params.delta"),
        ("CrossEntropyLoss", {"label_smoothing": 1.5}, "params.label_smoothing"),
        ("TweedieLoss", {"power": 2.0}, "params.power"),
        ("QuantileLoss", {"quantiles": [0.5, 1.2]}, "params.quantiles"),
        ("FocalLoss", {"gamma": -0.5}, "params.gamma"),
        ("L1Loss", {"reduction": "avg"}, "params.reduction"),
        ("MSELoss", {"reductio": "sum"}, "params.reductio"),
        ("HuberLoss", {"delta": "big"}, "params.delta"),
        ("PoissonNLLLoss", {"log_input": "yes"}, "params.log_input"),
        ("BCEWithLogitsLoss", {"pos_weight": [float("nan")]}, "params.pos_weight"),
    ],
)
def test_bad_hyperparameters(name, params, field):
    spec = losses.get(name)
    x = torch.rand(4)
    inputs = (x, torch.rand(4)) if len(spec.inputs) == 2 else (x, x, x)
    with pytest.raises(ParameterError) as info:
        losses.compute(name, *inputs, **params)
    assert info.value.field == field
    assert (
        "expected" in info.value.message
        or "did you mean" in info.value.message
        or "has no" in info.value.message
    )


def test_unknown_hyperparameter_suggests_the_right_one():
    with pytest.raises(ParameterError, match="did you mean reduction"):
        losses.compute("MSELoss", [1.0], [1.0], reductio="sum")


def test_empty_input():
    with pytest.raises(EmptyInputError) as info:
        losses.compute("MSELoss", [], [])
    assert info.value.field == "input"


def test_wrong_number_of_inputs():
    with pytest.raises(InvalidInputError) as info:
        losses.compute("MarginRankingLoss", [1.0], [1.0])
    assert info.value.field == "inputs"


def test_non_numeric_dtype():
    with pytest.raises(DTypeError) as info:
        losses.compute("MSELoss", ["a", "b"], [1.0, 2.0])
    assert info.value.field == "input"


def test_ragged_lists():
    with pytest.raises(ShapeMismatchError):
        losses.compute("MSELoss", [[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0]])


def test_fractional_class_indices():
    with pytest.raises(DTypeError):
        losses.compute("NLLLoss", torch.randn(2, 3), np.array([0.5, 1.0]))


def test_bce_rejects_logits_and_margin_losses_reject_zero_one_labels():
    with pytest.raises(LabelOutOfRangeError, match="BCEWithLogitsLoss"):
        losses.compute("BCELoss", [2.3, -0.4], [1.0, 0.0])
    with pytest.raises(LabelOutOfRangeError, match=r"\{-1, 1\}"):
        losses.compute("SoftMarginLoss", [2.3, -0.4], [1.0, 0.0])
    with pytest.raises(LabelOutOfRangeError, match="mixes"):
        losses.compute("HingeLoss", [2.3, -0.4, 1.0], [1.0, 0.0, -1.0])


def test_weight_length_must_match_classes():
    with pytest.raises(ShapeMismatchError) as info:
        losses.compute(
            "CrossEntropyLoss", torch.randn(4, 3), torch.tensor([0, 1, 2, 1]), weight=[1.0, 2.0]
        )
    assert info.value.field == "params.weight"


def test_ctc_targets_must_not_contain_blank():
    log_probs = torch.randn(6, 1, 4).log_softmax(2)
    with pytest.raises(LabelOutOfRangeError, match="blank"):
        losses.compute("CTCLoss", log_probs, torch.tensor([[1, 0, 2]]), [6], [3])


def test_gaussian_nll_negative_variance():
    with pytest.raises(LabelOutOfRangeError) as info:
        losses.compute("GaussianNLLLoss", [0.0, 1.0], [0.0, 1.0], [1.0, -0.1])
    assert info.value.field == "var"


def test_errors_are_value_errors_for_callers_that_catch_broadly():
    with pytest.raises(ValueError):
        losses.compute("MSELoss", [1.0, 2.0], [1.0])
