"""Each lint fires on the mistake it names, and stays quiet on correct inputs."""

from __future__ import annotations

import numpy as np
import torch

import advisor
from tests.evaluation.data import binary_data, multiclass_data, regression_data


def codes(*args, **kw):
    return advisor.evaluate(*args, diagnostics=False, **kw).lint_codes


def test_softmax_and_sigmoid_outputs_given_to_cross_entropy():
    x, y = multiclass_data()
    assert "probabilities-as-logits" in codes(torch.softmax(x, 1), y, ["CrossEntropyLoss"])
    report = advisor.evaluate(torch.sigmoid(x), y, ["CrossEntropyLoss"], diagnostics=False)
    (lint,) = [item for item in report.lints if item.code == "probabilities-as-logits"]
    assert "sigmoid" in lint.message and "logits" in lint.fix
    assert codes(x, y, ["CrossEntropyLoss"]) == []


def test_probabilities_given_to_bce_with_logits():
    x, y = binary_data()
    assert "probabilities-as-logits" in codes(torch.sigmoid(x), y, ["BCEWithLogitsLoss"])
    assert "probabilities-as-logits" not in codes(torch.sigmoid(x), y, ["BCELoss"])


def test_nll_on_raw_scores():
    x, y = multiclass_data()
    report = advisor.evaluate(x, y, ["NLLLoss"], diagnostics=False)
    assert report.lint_codes == ["nll-not-log-probabilities"]
    assert "log_softmax" in report.lints[0].fix
    assert codes(torch.log_softmax(x, 1), y, ["NLLLoss"]) == []


def test_one_hot_targets():
    x, y = multiclass_data()
    onehot = torch.nn.functional.one_hot(y, x.shape[1]).float()
    report = advisor.evaluate(x, onehot, ["CrossEntropyLoss", "NLLLoss"], diagnostics=False)
    assert "one-hot-targets" in report.lint_codes
    assert report.results[1].skipped  # NLLLoss cannot take them at all
    assert "argmax" in next(item.fix for item in report.lints if item.code == "one-hot-targets")


def test_pm1_labels_given_to_bce():
    x, y = binary_data()
    assert "pm1-labels-for-bce" in codes(x, y * 2 - 1, ["BCEWithLogitsLoss"])
    assert "pm1-labels-for-bce" not in codes(x, y * 2 - 1, ["SoftMarginLoss"])
    assert "pm1-labels-for-bce" not in codes(x, y, ["BCEWithLogitsLoss"])


def test_labels_out_of_range():
    x, y = multiclass_data(50, 4)
    report = advisor.evaluate(x, y + 1, ["CrossEntropyLoss"], diagnostics=False)
    assert "labels-out-of-range" in report.lint_codes
    assert report.results[0].skipped and "target" in report.results[0].reason
    assert "1-based" in report.lints[0].message


def test_prediction_scale_mismatch():
    x, y = regression_data()
    assert "prediction-scale-mismatch" in codes(x, y * 1000, ["MSELoss"])
    assert "prediction-scale-mismatch" not in codes(x, y, ["MSELoss"])


def test_mixed_precision():
    x, y = regression_data()
    report = advisor.evaluate(x.double(), y, ["MSELoss"], diagnostics=False)
    assert "mixed-precision" in report.lint_codes
    assert report.dtype == "float64"
    assert "mixed-precision" not in codes(x, y, ["MSELoss"])


def test_rates_where_a_log_link_expects_log_rates():
    rng = np.random.default_rng(3)
    rate = np.exp(rng.normal(2.0, 0.5, 2000))
    counts = rng.poisson(rate).astype(float)
    cands = ["PoissonNLLLoss", "TweedieLoss", {"loss": "NegativeBinomialNLLLoss", "params": {"log_input": False}}]
    report = advisor.evaluate(rate, counts, cands)
    (found,) = [lint for lint in report.lints if lint.code == "rates-as-log-rates"]
    assert found.losses == ["PoissonNLLLoss", "TweedieLoss"]  # log_input=False reads rates
    assert "torch.log(rate)" in found.fix
    assert "rates-as-log-rates" not in advisor.evaluate(np.log(rate), counts, cands).lint_codes


def test_prediction_columns_out_of_the_class_order():
    """A model that numbered the classes otherwise than the labels' sorted order."""
    g = torch.Generator().manual_seed(3)
    y = torch.randint(0, 4, (2_000,), generator=g)
    good = torch.nn.functional.one_hot(y, 4).double() * 3 + torch.randn(2_000, 4, generator=g, dtype=torch.float64)
    assert "class-order" not in codes(good, y, ["CrossEntropyLoss"])
    shuffled = good[:, [1, 3, 0, 2]]  # column j holds class [1, 3, 0, 2][j]
    report = advisor.evaluate(shuffled, y, ["CrossEntropyLoss", "MSELoss"], diagnostics=False)
    (lint,) = [item for item in report.lints if item.code == "class-order"]
    assert "predictions[:, [2, 0, 3, 1]]" in lint.fix and lint.losses == ["CrossEntropyLoss"]
    torch.testing.assert_close(shuffled[:, [2, 0, 3, 1]], good)  # the fix restores the order


def test_text_labels_scored_by_a_model_that_numbered_them_otherwise():
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression

    x, y = load_wine(return_X_y=True)
    names = np.array(["barolo", "grignolino", "barbera"], dtype=object)
    scores = LogisticRegression(max_iter=5_000).fit(x, y).decision_function(x)
    assert "class-order" in codes(scores, names[y])  # sorted: barbera, barolo, grignolino
    sorted_scores = LogisticRegression(max_iter=5_000).fit(x, names[y]).decision_function(x)
    assert "class-order" not in codes(sorted_scores, names[y])


def test_weak_predictions_are_not_called_out_of_order():
    g = torch.Generator().manual_seed(4)
    y = torch.randint(0, 5, (3_000,), generator=g)
    noise = torch.randn(3_000, 5, generator=g)
    assert "class-order" not in codes(noise, y, ["CrossEntropyLoss"])


def test_binary_scores_of_the_other_class_are_called_swapped():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    bundle = load_breast_cancer()
    x = bundle.data / bundle.data.std(axis=0)
    names = bundle.target_names[bundle.target]  # 0 malignant, 1 benign; sorted: benign 0, malignant 1
    logits = LogisticRegression(max_iter=5_000).fit(x, bundle.target).decision_function(x)
    report = advisor.evaluate(logits, names, diagnostics=False)
    (lint,) = [item for item in report.lints if item.code == "binary-labels-swapped"]
    assert "'benign' is 0, 'malignant' is 1" in lint.message and "BCEWithLogitsLoss" in lint.losses
    as_indexed = (names == "malignant").astype(float)
    assert f"ROC AUC {roc_auc_score(as_indexed, logits):.3f}" in lint.message  # every row read
    # the same scores against the labels the model was trained on, and its probabilities
    assert "binary-labels-swapped" not in codes(logits, bundle.target)
    probs = 1.0 / (1.0 + np.exp(-logits))
    assert "binary-labels-swapped" in codes(probs, as_indexed, ["BCELoss"])
    assert "binary-labels-swapped" not in codes(1.0 - probs, as_indexed, ["BCELoss"])
    # margins against {-1, 1} labels
    assert "binary-labels-swapped" in codes(logits, 2.0 * as_indexed - 1.0, ["HingeLoss"])


def test_weak_binary_scores_are_not_called_swapped():
    g = torch.Generator().manual_seed(6)
    y = (torch.rand(5_000, generator=g) < 0.3).double()
    assert "binary-labels-swapped" not in codes(torch.randn(5_000, generator=g, dtype=torch.float64), y, ["BCEWithLogitsLoss"])
