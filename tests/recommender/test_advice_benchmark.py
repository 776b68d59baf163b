"""The advice benchmark's machinery on two of its real data sets (the whole run is in
``benchmarks/advice``)."""

from __future__ import annotations

from advisor.advice import run
from advisor.advice.datasets import CASES


def test_rows_compare_with_the_literature_and_the_default_loss():
    chosen = [c for c in CASES if c.name in ("iris", "cpunish")]
    rows = run.run(chosen, epochs=5)
    cpunish, iris = rows  # in the order of CASES
    assert (iris.task, iris.task_agrees, iris.top1_agrees) == ("multiclass", True, True)
    assert iris.verdict == "same loss" and iris.metric == "accuracy"
    assert cpunish.task == "count" and cpunish.default == "MSELoss"
    assert cpunish.verdict in ("better", "tie", "worse") and cpunish.p_value is not None
    text = run.table(rows)
    assert text.count("\n| ") == 3  # the rule and two rows under the header
    assert "Task agrees with the literature on 2/2" in text


def test_every_case_loads_with_a_citation():
    for case in CASES:
        features, target = case.load()
        assert len(features) == len(target) > 10, case.name
        assert case.citation and case.losses


def test_star98_shares_are_validated_with_the_literatures_binomial_loss():
    (row,) = run.run([c for c in CASES if c.name == "star98"], epochs=5)
    assert (row.task, row.task_agrees) == ("regression", True)
    assert (row.top1, row.top1_agrees, row.default) == ("BCEWithLogitsLoss", True, "MSELoss")
    # trained under the regression task through a logit, scored on the shares themselves
    assert row.metric == "mae" and row.top1_score is not None and 0 < row.top1_score < 0.5
    assert row.verdict in ("better", "tie", "worse") and row.p_value is not None
