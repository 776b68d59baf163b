"""Task inference: each documented rule, and the known misses of type_of_target it fixes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes
from sklearn.utils.multiclass import type_of_target

import advisor
from advisor.errors import ParameterError
from advisor.vocabulary import Task

R = np.random.default_rng(0)


def task_of(y, **kw):
    return advisor.profile(y, **kw).task


def test_diabetes_is_regression_where_type_of_target_says_multiclass():
    y = load_diabetes().target
    assert type_of_target(y) == "multiclass"
    t = task_of(y)
    assert t.task == Task.REGRESSION
    assert t.rule == "ordered"
    assert t.sklearn_type == "multiclass"
    assert "214 distinct" in t.reason


@pytest.mark.parametrize("values", [[0.0, 1.0, 1.0, 0.0], [0, 1, 1, 0], [False, True, True]])
def test_zero_one_is_binary(values):
    assert task_of(values).task == Task.BINARY


def test_plus_minus_one_is_binary_with_margin_labels():
    p = advisor.profile(R.choice([-1, 1], 200))
    assert p.task.task == Task.BINARY
    assert p.classes.label_style == "plus_minus_one"
    assert any("{-1, 1}" in n for n in p.notes)


def test_strings_are_multiclass():
    y = np.array(["a", "b", "c"])[R.integers(0, 3, 90)]
    assert task_of(y).task == Task.MULTICLASS
    assert task_of(list(y)).task == Task.MULTICLASS


def test_one_hot_is_multiclass_not_multilabel():
    y = np.eye(4)[R.integers(0, 4, 100)]
    assert type_of_target(y) == "multilabel-indicator"
    t = task_of(y)
    assert (t.task, t.rule, t.runner_up) == (Task.MULTICLASS, "onehot", Task.MULTILABEL)


def test_multi_hot_is_multilabel():
    y = (R.random((100, 5)) < 0.4).astype(int)
    assert task_of(y).task == Task.MULTILABEL


def test_rows_summing_to_one_are_distributions():
    assert task_of(R.dirichlet(np.ones(3), 50)).task == Task.DISTRIBUTION


def test_rows_not_summing_to_one_are_multi_output_regression():
    assert task_of(R.random((50, 3))).task == Task.REGRESSION


@pytest.mark.parametrize("lam", [0.5, 1.0, 2.0, 4.0])
def test_small_mean_skewed_integers_are_counts(lam):
    assert task_of(np.random.default_rng(1).poisson(lam, 1000)).task == Task.COUNT


def test_balanced_integer_labels_are_multiclass():
    assert task_of(R.integers(0, 5, 500)).task == Task.MULTICLASS


def test_imbalanced_labels_with_a_real_last_class_stay_multiclass():
    y = R.choice(4, 1000, p=[0.7, 0.2, 0.07, 0.03])
    assert task_of(y).task == Task.MULTICLASS


def test_many_distinct_floats_are_regression_and_not_autogluon_multiclass():
    # unique/rows = 0.02 would be multiclass under the AutoGluon rule
    y = np.round(R.normal(size=5000), 1)
    assert len(np.unique(y)) / len(y) < 0.05
    assert task_of(y).task == Task.REGRESSION


def test_hint_always_wins_and_is_certain():
    t = task_of(R.normal(size=50), task="ranking")
    assert (t.task, t.confidence, t.source) == (Task.RANKING, 1.0, "hint")
    assert task_of(R.integers(0, 3, 60), task=Task.EMBEDDING).task == Task.EMBEDDING


def test_ranking_and_embedding_never_inferred():
    for y in (R.normal(size=100), R.choice([-1, 1], 100), R.normal(size=(100, 8))):
        assert task_of(y).task not in (Task.RANKING, Task.EMBEDDING)


def test_torch_tensors_and_column_vectors():
    y = torch.tensor([0.0, 1.0, 1.0, 0.0]).reshape(-1, 1)
    assert task_of(y).task == Task.BINARY
    assert task_of(torch.randn(100, dtype=torch.bfloat16)).task == Task.REGRESSION


def test_unknown_task_is_a_parameter_error():
    with pytest.raises(ParameterError) as e:
        advisor.profile([0, 1], task="clustering")
    assert e.value.field == "task"


def test_ambiguous_cases_name_a_runner_up():
    t = task_of(np.array([3.5, 7.25] * 20))
    assert t.task == Task.BINARY
    assert t.runner_up == Task.REGRESSION
    assert t.confidence < 0.9


def test_overdispersed_counts_past_a_mean_of_100_are_ambiguous_with_counts():
    # a negative binomial of mean 150 keeps a count's right skew where a Poisson's would be gone
    rng = np.random.default_rng(11)
    counts = rng.negative_binomial(1.0, 1.0 / 151.0, 400).astype(float)
    assert counts.mean() > 100
    t = task_of(counts)
    assert t.task == Task.REGRESSION and t.rule == "ordered"
    assert t.ambiguous and t.runner_up == Task.COUNT and t.confidence < 0.85
    assert "counts are as likely" in t.reason
    rec = advisor.recommend(counts)
    assert rec.runner_up and rec.runner_up[0].loss == "NegativeBinomialNLLLoss"
    # a symmetric integer measurement of the same size is not
    measured = np.round(rng.normal(150.0, 20.0, 400))
    m = task_of(measured)
    assert m.task == Task.REGRESSION and not m.ambiguous and m.runner_up is None


def test_a_few_integers_without_zero_read_as_counts_or_measurements():
    # stack loss: ten times the percentage of ammonia lost, 7 to 42 on 21 rows, whose
    # literature fits robust regressions; counts stay first, the measurement's losses show too
    from statsmodels.datasets import stackloss

    data = stackloss.load_pandas()
    rec = advisor.recommend(data.endog, features=data.exog)
    t = rec.profile.task
    assert t.task == Task.COUNT and t.ambiguous and t.runner_up == Task.REGRESSION
    assert "21 rows with no zero" in t.reason
    assert {"HuberLoss", "L1Loss"} <= {c.loss for c in rec.runner_up}
    # zeros are a count's own mark, and fifty rows let a quick model of the features decide
    with_zero = np.concatenate([data.endog.to_numpy(), [0.0]])
    assert not task_of(with_zero).ambiguous
    many = np.random.default_rng(12).negative_binomial(4, 0.2, 60) + 1
    assert task_of(many).task == Task.COUNT and not task_of(many).ambiguous


class _FrameLike:
    """Duck-types a pandas Series (pandas is optional and may be absent)."""

    def __init__(self, values):
        self._values = values

    def to_numpy(self, dtype=None, na_value=None):
        arr = np.asarray(self._values, dtype=object)
        if dtype is None:
            return arr
        return np.array([na_value if v is None else v for v in arr], dtype=dtype)


def test_pandas_like_objects_are_read_through_to_numpy():
    assert task_of(_FrameLike([1.5, None, 2.5, 7.0])).task == Task.REGRESSION
    p = advisor.profile(_FrameLike(["x", "y", None, "z", "x"]))
    assert p.task.task == Task.MULTICLASS
    assert p.targets.n_missing == 1


def test_task_inference_compares_equal_to_its_task():
    t = task_of([0.0, 1.0, 1.0])
    assert t == "binary"
    assert t == Task.BINARY
    assert t != "regression"
    assert str(t) == "binary"
