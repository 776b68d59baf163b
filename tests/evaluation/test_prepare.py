"""Loss checks run once per distinct thing they read, and still reject what they must."""

from __future__ import annotations

import advisor
from advisor.losses import checks
from tests.evaluation.data import multiclass_data


def _count_label_checks(monkeypatch) -> list[int]:
    calls: list[int] = []
    original = checks.require_labels_in_range

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(checks, "require_labels_in_range", counting)
    return calls


def test_params_a_check_does_not_read_do_not_repeat_it(monkeypatch):
    calls = _count_label_checks(monkeypatch)
    x, y = multiclass_data(40, 4)
    w = [1.0, 2.0, 1.0, 0.5]
    cands = [
        "CrossEntropyLoss",
        {"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1}},
        {"loss": "CrossEntropyLoss", "params": {"weight": w}},
        {"loss": "CrossEntropyLoss", "params": {"weight": list(w), "label_smoothing": 0.2}},
    ]
    report = advisor.evaluate(x, y, cands, diagnostics=False)
    assert not any(r.skipped for r in report.results)
    assert len(calls) == 2  # once without weights, once with (equal weights compare by value)


def test_a_failed_check_fails_every_candidate_that_reads_the_same(monkeypatch):
    calls = _count_label_checks(monkeypatch)
    x, y = multiclass_data(40, 4)
    y[0] = 7  # out of range
    cands = [
        "CrossEntropyLoss",
        {"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1}},
        {"loss": "CrossEntropyLoss", "params": {"ignore_index": 7}},
    ]
    report = advisor.evaluate(x, y, cands, diagnostics=False)
    assert [r.skipped for r in report.results] == [True, True, False]
    assert report.results[1].reason == report.results[0].reason
    assert len(calls) == 2
