"""Shares: non-integer targets confined to [0, 1] read as a proportion (task regression),
and the targets that only look like it (codes, a min-max rescaling, percentages, a value
past the bounds) keep the plain reading."""

from __future__ import annotations

import numpy as np
import pytest

import advisor
from advisor.vocabulary import Task

N = 800


def _reading(y, features=None):
    t = advisor.profile(y, features=features).task
    return t.task, t.rule, t.reading, t.runner_up_reading


def test_beta_shares_are_a_proportion():
    y = np.random.default_rng(0).beta(2.0, 5.0, N)
    t = advisor.profile(y).task
    assert (t.task, t.rule, t.reading, t.runner_up_reading) == (
        Task.REGRESSION,
        "proportion",
        "proportion",
        "measured quantity",
    )
    assert not t.ambiguous and t.runner_up is None
    assert "every one within [0, 1]" in t.reason and "none exactly at 0 or 1" in t.reason


def test_fractions_of_trials_reaching_the_bounds_are_a_proportion():
    r = np.random.default_rng(1)
    p = r.beta(0.8, 0.8, N)  # many rows near 0 and near 1
    y = r.binomial(12, p) / 12
    at_zero, at_one = np.mean(y == 0), np.mean(y == 1)
    assert at_zero > 0.05 and at_one > 0.05
    t = advisor.profile(y).task
    assert (t.task, t.reading) == (Task.REGRESSION, "proportion")
    assert f"{100 * at_zero:.1f}% of rows exactly at 0" in t.reason
    assert f"{100 * at_one:.1f}% of rows exactly at 1" in t.reason
    assert advisor.profile(y).targets.share_ones == pytest.approx(at_one)


def test_a_normal_clipped_to_the_unit_interval_is_read_as_shares():
    # The fractional logit's mean is consistent whatever the distribution on [0, 1], point
    # masses at the bounds included (Papke & Wooldridge 1996), so a clipped quantity is not
    # excluded: its predictions must stay inside [0, 1] all the same.
    y = np.clip(np.random.default_rng(2).normal(0.5, 0.3, N), 0.0, 1.0)
    assert _reading(y)[:3] == (Task.REGRESSION, "proportion", "proportion")


@pytest.mark.parametrize(
    "name",
    ["codes", "min-max rescaled", "percent", "past one", "negative", "labels", "integers"],
)
def test_what_only_looks_like_shares_keeps_its_reading(name):
    r = np.random.default_rng(3)
    z = r.normal(size=N)
    y = {
        # a rating rescaled to [0, 1]: five codes, not shares
        "codes": r.choice([0.0, 0.25, 0.5, 0.75, 1.0], N),
        # (z - min) / (max - min): exactly one row at 0 and one at 1
        "min-max rescaled": (z - z.min()) / (z.max() - z.min()),
        # shares stored as percentages are a quantity on 0..100, as before
        "percent": 100 * r.beta(2.0, 5.0, N),
        "past one": np.append(r.beta(2.0, 5.0, N - 1), 1.02),
        "negative": np.append(r.beta(2.0, 5.0, N - 1), -0.01),
        "labels": r.integers(0, 2, N).astype(float),
        "integers": r.integers(0, 2, N),
    }[name]
    task, rule, reading, runner = _reading(y)
    assert reading != "proportion"
    if name == "labels" or name == "integers":
        assert task == Task.BINARY
        return
    assert (task, rule) == (Task.REGRESSION, "real")
    if name == "min-max rescaled":
        assert (reading, runner) == ("measured quantity", "proportion")
        assert "rescaled by its minimum and maximum" in advisor.profile(y).task.reason
    else:
        assert (reading, runner) == (None, None)


def test_features_leave_the_share_reading_alone():
    r = np.random.default_rng(4)
    x = r.normal(size=(N, 3))
    y = 1.0 / (1.0 + np.exp(-(x @ [1.0, -0.5, 0.3] + 0.3 * r.normal(size=N))))
    p = advisor.profile(y, features=x)
    t = p.task
    assert (t.task, t.rule, t.reading, t.held_out) == (Task.REGRESSION, "proportion", "proportion", None)
    assert p.residuals is not None  # the regression's residual facts are measured as before
    assert "values read as: proportion, runner-up: measured quantity" in p.summary()


def test_a_regression_hint_carries_no_reading():
    y = np.random.default_rng(5).beta(2.0, 2.0, N)
    t = advisor.profile(y, task="regression").task
    assert (t.rule, t.reading) == ("hint", None)
