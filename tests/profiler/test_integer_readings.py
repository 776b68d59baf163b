"""Integer semantics on constructed cases whose truth is known: class index, ordinal code,
count or measured quantity, with the confidence, runner-up and ambiguity the profile reports."""

from __future__ import annotations

import numpy as np
import pytest

import advisor
from advisor.schema.recommendation import Recommendation
from advisor.vocabulary import Task

N = 1000


def _features(seed: int) -> tuple[np.random.Generator, np.ndarray]:
    r = np.random.default_rng(seed)
    return r, r.normal(size=(N, 4))


def test_ages_are_a_measured_quantity_not_counts():
    r, x = _features(0)
    ages = np.clip(np.round(45 + 12 * x[:, 0] + 6 * x[:, 1] + r.gamma(2, 4, N) - 8), 18, 90)
    for features in (None, x):
        t = advisor.profile(ages, features=features).task
        assert (t.task, t.reading) == (Task.REGRESSION, "measured quantity")
        assert t.runner_up_reading != "count"  # a count would reach below 18; none does
    assert "none of 1000 rows" in advisor.profile(ages).task.reason
    skewed = np.clip(np.round(18 + r.gamma(2.0, 10, N)), 18, 90)
    assert advisor.profile(skewed, features=x).task.task == Task.REGRESSION
    assert advisor.recommend(ages).best.loss != "NegativeBinomialNLLLoss"


def test_percentages_recorded_to_the_integer_are_regression_not_counts():
    r, x = _features(1)
    p = 1 / (1 + np.exp(-(0.8 * x[:, 0] - 0.5 * x[:, 2])))
    pct = np.round(100 * r.beta(4 * p + 0.5, 4 * (1 - p) + 0.5))
    assert (pct.min(), pct.max()) == (0, 100)
    assert advisor.profile(pct).task.task == Task.REGRESSION
    t = advisor.profile(pct, features=x).task
    assert (t.task, t.reading, t.ambiguous) == (Task.REGRESSION, "measured quantity", False)
    assert t.held_out["measured quantity"] > t.held_out["count"]
    assert t.confidence >= 0.9


def _long_tailed_classes(seed: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    probs = 0.5 ** np.arange(8)
    y = r.choice(8, N, p=probs / probs.sum())
    return y, r.normal(scale=3, size=(8, 4))[y] + r.normal(size=(N, 4))


def test_long_tailed_class_indices_with_separating_features_are_classes():
    y, x = _long_tailed_classes(2)
    t = advisor.profile(y, features=x).task
    assert (t.task, t.reading, t.rule) == (Task.MULTICLASS, "class index", "held-out")
    assert t.confidence >= 0.95 and not t.ambiguous
    assert t.held_out["class index"] > max(t.held_out["count"], t.held_out["measured quantity"])
    assert "held-out rows" in t.reason
    assert advisor.recommend(y, features=x).best.loss in ("CrossEntropyLoss", "ClassBalancedLoss", "FocalLoss")


def test_without_features_falling_class_indices_are_ambiguous_and_show_both_readings():
    y, _ = _long_tailed_classes(2)
    p = advisor.profile(y)
    t = p.task
    assert (t.task, t.reading) == (Task.COUNT, "count")
    assert (t.runner_up, t.runner_up_reading, t.ambiguous) == (Task.MULTICLASS, "class index", True)
    assert t.confidence <= 0.6
    assert any(note.startswith("ambiguous:") and "class index" in note for note in p.notes)
    assert p.classes is not None and p.counts is not None  # both readings' facts are measured
    rec = advisor.recommend(y)
    assert rec.best.loss in ("PoissonNLLLoss", "NegativeBinomialNLLLoss")
    assert "CrossEntropyLoss" in [c.loss for c in rec.runner_up]
    text = rec.explain()
    assert "If the targets are read as class index (multiclass):" in text
    assert "runner-up task: multiclass (ambiguous)" in text
    same = Recommendation.model_validate_json(rec.model_dump_json())
    assert same == rec


def test_overdispersed_counts_with_gaps_and_zero_mass_are_counts():
    r, x = _features(4)
    mu = np.exp(0.5 + 0.7 * x[:, 0])
    y = r.negative_binomial(0.5, 0.5 / (0.5 + mu))
    y[r.random(N) < 0.3] = 0
    assert y.max() + 1 > np.unique(y).size  # gaps in the upper range
    for features in (None, x):
        t = advisor.profile(y, features=features).task
        assert (t.task, t.reading) == (Task.COUNT, "count")
    assert advisor.profile(y, features=x).task.held_out["count"] > advisor.profile(
        y, features=x
    ).task.held_out["measured quantity"]


def test_a_how_many_times_answer_coded_with_gaps_is_a_count():
    r, x = _features(3)
    mu = np.exp(0.6 + 0.7 * x[:, 0])
    times = r.negative_binomial(2.0, 2.0 / (2.0 + mu))
    codes = np.array([0, 1, 2, 3, 5, 10, 20])  # 4 reads 3, 5-9 read 5, 10-19 read 10, 20+
    y = codes[np.searchsorted(codes, times, side="right") - 1]
    t = advisor.profile(y).task
    assert (t.task, t.reading) == (Task.COUNT, "count")
    assert all(c.loss not in ("ClassBalancedLoss", "CrossEntropyLoss") for c in advisor.recommend(y).candidates)
    assert advisor.profile(y, features=x).task.task == Task.COUNT


@pytest.mark.parametrize("with_features", [False, True])
def test_a_likert_scale_is_an_ordinal_code_with_regression_as_runner_up(with_features):
    r, x = _features(5)
    latent = 0.9 * x[:, 0] + 0.5 * x[:, 1] + r.logistic(size=N)
    y = 1 + np.digitize(latent, [-2, -0.7, 0.7, 2])
    p = advisor.profile(y, features=x if with_features else None)
    t = p.task
    assert (t.task, t.reading) == (Task.MULTICLASS, "ordinal code")
    assert (t.runner_up, t.runner_up_reading, t.ambiguous) == (Task.REGRESSION, "measured quantity", True)
    assert (t.held_out is not None) == with_features
    assert any(note.startswith("ambiguous:") for note in p.notes)
    rec = advisor.recommend(y, features=x if with_features else None)
    assert rec.best.loss == "CrossEntropyLoss"
    assert "MSELoss" in [c.loss for c in rec.runner_up]


def test_hints_and_non_integers_carry_no_reading():
    r, x = _features(6)
    assert advisor.profile(r.normal(size=N), features=x).task.reading is None
    t = advisor.profile(r.poisson(2, N), features=x, task="regression").task
    assert (t.reading, t.held_out, t.ambiguous) == (None, None, False)
