"""Bad input gets a typed error that names the field, never a stack trace from numpy or torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import advisor
from advisor.errors import (
    DTypeError,
    EmptyInputError,
    InvalidInputError,
    LabelOutOfRangeError,
    NonFiniteError,
    ShapeMismatchError,
)


@pytest.mark.parametrize(
    ("targets", "error"),
    [
        ([], EmptyInputError),
        (np.array([]), EmptyInputError),
        (np.zeros((0, 3)), EmptyInputError),
        (np.zeros((5, 0)), EmptyInputError),
        (None, EmptyInputError),
        ([np.nan, np.nan, np.nan], EmptyInputError),
        ([None, None], EmptyInputError),
        ([1.0, np.inf, 2.0], NonFiniteError),
        ([3, 3, 3, 3], LabelOutOfRangeError),
        (["a", "a", "a"], LabelOutOfRangeError),
        (np.ones((4, 3)), LabelOutOfRangeError),
        (np.zeros((4, 2, 2)), ShapeMismatchError),
        (torch.zeros(2, 3, 4), ShapeMismatchError),
        (5.0, ShapeMismatchError),
        ("abc", ShapeMismatchError),
        ([1, "a", 2.0], DTypeError),
        ([[1, 2], [3]], ShapeMismatchError),
        (np.array([1 + 2j, 3j]), DTypeError),
        (np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"), DTypeError),
        ([{"a": 1}, {"b": 2}], DTypeError),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, type) else v.__name__,
)
def test_targets_rejected(targets, error):
    with pytest.raises(error) as e:
        advisor.profile(targets)
    assert e.value.field == "targets"
    assert str(e.value).startswith("targets: ")


def test_single_class_with_a_classification_hint():
    with pytest.raises(LabelOutOfRangeError) as e:
        advisor.profile([1, 1, 1, 1], task="binary")
    assert e.value.field == "targets"


def test_one_hot_with_one_column_in_use_is_a_single_class():
    y = np.zeros((10, 3))
    y[:, 1] = 1
    with pytest.raises(LabelOutOfRangeError):
        advisor.profile(y)


def test_strings_cannot_be_regression():
    with pytest.raises(DTypeError) as e:
        advisor.profile(["a", "b", "c"], task="regression")
    assert e.value.field == "targets"


@pytest.mark.parametrize(
    ("features", "error"),
    [
        (np.zeros((3, 2)), ShapeMismatchError),
        (np.array([["a", "b"]] * 4), EmptyInputError),  # text is fine; constant columns are not
        ({"blob": np.array([b"a", b"b", b"c", b"d"], dtype=object)}, DTypeError),
        (np.zeros((4, 2, 2)), ShapeMismatchError),
        (np.full((4, 2), np.inf), NonFiniteError),
    ],
)
def test_features_rejected(features, error):
    with pytest.raises(error) as e:
        advisor.profile([0.0, 1.0, 2.0, 3.5], features=features)
    assert e.value.field.split(".")[0] == "features"


@pytest.mark.parametrize(
    ("predictions", "error"),
    [
        (np.zeros(3), ShapeMismatchError),
        (np.array([0.1, np.nan, 0.2, 0.3]), NonFiniteError),
        (["x", "y", "z", "w"], DTypeError),
    ],
)
def test_predictions_rejected(predictions, error):
    with pytest.raises(error) as e:
        advisor.profile([0, 1, 0, 1], predictions=predictions)
    assert e.value.field == "predictions"


def test_every_rejection_is_an_invalid_input_error():
    for bad in ([], [np.nan], [2, 2], np.zeros((2, 2, 2))):
        with pytest.raises(InvalidInputError):
            advisor.recommend(bad)
