"""Request-level problems raise typed errors naming the field; misfit candidates are skipped."""

from __future__ import annotations

import pytest
import torch

import advisor
from advisor.errors import (
    EmptyInputError,
    InvalidInputError,
    NonFiniteError,
    ParameterError,
    ShapeMismatchError,
    UnknownLossError,
)
from tests.evaluation.data import multiclass_data, regression_data


def test_shape_mismatch():
    x, y = regression_data(10)
    with pytest.raises(ShapeMismatchError) as err:
        advisor.evaluate(x, y[:7], ["MSELoss"])
    assert err.value.field == "targets"


def test_empty_input():
    with pytest.raises(EmptyInputError) as err:
        advisor.evaluate(torch.empty(0), torch.empty(0), ["MSELoss"])
    assert err.value.field == "predictions"


def test_nan_in_targets():
    x, y = regression_data(10)
    y[3] = float("nan")
    with pytest.raises(NonFiniteError) as err:
        advisor.evaluate(x, y, ["MSELoss"])
    assert err.value.field == "targets"


def test_unknown_loss_names_position_and_suggests():
    x, y = regression_data(10)
    with pytest.raises(UnknownLossError) as err:
        advisor.evaluate(x, y, ["MSELoss", "huber"])
    assert err.value.field == "candidates[1].loss"
    assert "HuberLoss" in err.value.suggestions


def test_out_of_range_hyperparameter():
    x, y = regression_data(10)
    with pytest.raises(ParameterError) as err:
        advisor.evaluate(x, y, [{"loss": "HuberLoss", "params": {"delta": -1.0}}])
    assert err.value.field == "candidates[0].params.delta"


def test_bad_candidate_shape():
    x, y = regression_data(10)
    with pytest.raises(InvalidInputError):
        advisor.evaluate(x, y, [{"params": {}}])


def test_cross_entropy_on_continuous_targets_is_skipped_others_compute():
    x, y = regression_data(10)
    r = advisor.evaluate(x, y, ["CrossEntropyLoss", "MSELoss"])
    assert r.results[0].skipped and r.results[0].value is None and r.results[0].reason
    assert not r.results[1].skipped and r.results[1].value == pytest.approx(float(torch.nn.MSELoss()(x, y)))


def test_misfit_weight_is_a_skip_not_an_error():
    x, y = multiclass_data(20, 4)
    r = advisor.evaluate(x, y, [{"loss": "CrossEntropyLoss", "params": {"weight": torch.ones(3)}}, "CrossEntropyLoss"])
    assert r.results[0].skipped and "weight" in r.results[0].reason
    assert not r.results[1].skipped


def test_numpy_and_lists_are_accepted():
    import numpy as np

    r = advisor.evaluate(np.array([0.0, 2.0]), [0.0, 0.0], ["L1Loss", {"loss": "HuberLoss", "params": {"delta": 0.5}}])
    assert [res.value for res in r.results] == pytest.approx([1.0, 0.4375])


def test_report_says_values_are_not_comparable():
    x, y = regression_data(10)
    r = advisor.evaluate(x, y, ["MSELoss"])
    assert "not comparable" in r.note
