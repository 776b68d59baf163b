"""The long-lived-process benchmark: its mixed requests are valid and varied, its report whole."""

from __future__ import annotations

import random
import threading

import torch

import advisor
from advisor.benchmarking import longlived
from advisor.evaluation import dispatch


def test_mixed_requests_are_seeded_varied_and_evaluate_without_skips():
    seen = set()
    for seed in range(40):
        request = longlived.mixed_request(random.Random(seed), torch.device("cpu"), sizes=(300, 900))
        again = longlived.mixed_request(random.Random(seed), torch.device("cpu"), sizes=(300, 900))
        assert torch.equal(request["predictions"], again["predictions"])
        x, y = request["predictions"], request["targets"]
        seen.add((x.dim(), x.dtype, y.dtype, request["sample_weight"] is None, request["diagnostics"]))
        with dispatch.mode("eager"):
            report = advisor.evaluate(**request)
        assert report.results and not [r.reason for r in report.results if r.skipped]
    dims = {s[0] for s in seen}
    dtypes = {s[1] for s in seen}
    assert dims == {1, 2} and {torch.float16, torch.float32, torch.float64} <= dtypes
    assert {True, False} == {s[3] for s in seen} == {s[4] for s in seen}


def test_a_smoke_run_reports_both_timings_and_the_counters():
    with dispatch.mode("eager"):
        report = longlived.run(
            6, repeats=1, cases=("regression-1e5",), sizes=(500, 2000), compile_first=False
        )
    assert report.requests == 6 and not report.stopped
    assert [(r.case, r.diagnostics) for r in report.rows] == [("regression-1e5", False), ("regression-1e5", True)]
    assert all(r.fresh_s > 0 and r.after_s > 0 and r.fresh_path == r.after_path == "fused-eager" for r in report.rows)
    assert report.counters["eager_calls"] > 0 and report.counters["compiles"] == 0
    text = report.format()
    assert "6 mixed requests" in text and "regression-1e5 (diagnostics)" in text and "recompile-limit hits 0" in text


def test_a_cancelled_run_stops_and_says_so():
    stop = threading.Event()
    stop.set()
    report = longlived.run(50, repeats=1, cases=("regression-1e5",), sizes=(500,), cancel=stop)
    assert report.stopped and report.requests == 0 and report.rows == []
