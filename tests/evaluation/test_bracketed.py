"""Diagnostics from the summary pass's span counts equal those taken from whole rows, and fall back where they must."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import advisor
from advisor.evaluation import bracketed, dispatch, runner, streamed, summary, tallied
from tests.evaluation.data import count_data, regression_data
from tests.evaluation.paths import assert_same_results, record
from tests.evaluation.test_selection import _bracket_patterns, _patterns

N = streamed.STREAM_MIN + 101

OWN = [
    {"loss": "QuantileLoss", "params": {"quantiles": [0.1]}},
    {"loss": "QuantileLoss", "params": {"quantiles": [0.75]}},
    {"loss": "AdaptiveRobustLoss", "params": {"alpha": 0.5, "scale": 0.5}},
    {"loss": "AdaptiveRobustLoss", "params": {"alpha": -2.0, "scale": 1.0}},
]


def _rows(x, y, cands, monkeypatch, **kw):
    """The same request with every candidate on its per-sample rows."""
    with monkeypatch.context() as m:
        m.setattr(summary, "brackets_own", lambda *a: False)
        m.setattr(runner, "_streamable", lambda *a: False)
        m.setattr(tallied, "usable", lambda *a: False)  # the rows' numpy selections, not their compiled count
        return advisor.evaluate(x, y, cands, **kw).results


def _compare(x, y, cands, monkeypatch, **kw):
    got = advisor.evaluate(x, y, cands, **kw).results
    assert_same_results(got, _rows(x, y, cands, monkeypatch, **kw))
    return got


def _count_bracketed(monkeypatch) -> list[bool]:
    """Per bracketed slot: whether its spans held every rank."""
    return record(monkeypatch, bracketed, "stats", lambda stats: stats is not None)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_slots_that_share_no_order_bracket_their_own_exactly(dtype, monkeypatch):
    x, y = regression_data(N, dtype=dtype)
    x[:4000] = y[:4000]  # zero residuals: a tie in every loss and the pinball's kink
    x[::211] += 25.0  # outliers
    seen = _count_bracketed(monkeypatch)
    _compare(x, y, ["L1Loss", *OWN, "MSELoss"], monkeypatch)
    assert seen == [True] * len(OWN)


def test_compiled_pass_matches_the_rows(monkeypatch):
    x, y = regression_data(N, seed=3)
    seen = _count_bracketed(monkeypatch)
    with dispatch.mode("compiled"):
        out = _compare(x, y, [*OWN[:2], "HuberLoss"], monkeypatch)
    if not dispatch.broken_kernels():
        assert {r.path for r in out} == {"fused-compiled"}
    assert seen == [True, True]


def test_multi_output_rows_and_count_likelihoods(monkeypatch):
    x, y = regression_data(3 * N, seed=4)
    seen = _count_bracketed(monkeypatch)
    _compare(x.reshape(N, 3), y.reshape(N, 3), OWN[:1], monkeypatch)
    xc, yc = count_data(N)
    _compare(xc, yc, ["PoissonNLLLoss", {"loss": "PoissonNLLLoss", "params": {"full": True}}], monkeypatch)
    assert seen == [True, True, True]


@pytest.mark.parametrize("source", ["tied", "bracket"])
def test_every_pattern_of_selection_is_exact(source, monkeypatch):
    """The pinball loss at q = 0.25 of y - x = |a| is |a| / 4, exactly: the selection tests' patterns as losses.

    Tied patterns exercise the counted ends (the gradient is two-valued throughout); the
    pattern periodic in the stride misleads the sample, so its slot falls back to the rows.
    """
    patterns = _patterns(N, np.float32) if source == "tied" else _bracket_patterns(N)
    seen = _count_bracketed(monkeypatch)
    for name, a in patterns.items():
        y = torch.from_numpy(np.abs(a).astype(np.float32))
        x = torch.zeros_like(y)
        got = _compare(x, y, [{"loss": "QuantileLoss", "params": {"quantiles": [0.25]}}], monkeypatch)
        want = np.sort(np.abs(a).astype(np.float32) * np.float32(0.25))
        q = got[0].diagnostics.loss_quantiles
        assert [q.p50, q.p90, q.p99] == [float(want[math.floor(p * (N - 1))]) for p in (0.5, 0.9, 0.99)], name
    assert seen == [name != "periodic_in_the_stride" for name in patterns]


def test_a_value_that_is_not_finite_falls_back_to_the_rows(monkeypatch):
    x, y = regression_data(N)
    x[12345], y[12345] = 3e38, -3e38  # finite inputs whose residual overflows float32
    seen = _count_bracketed(monkeypatch)
    out = _compare(x, y, OWN[:2], monkeypatch)
    assert seen == []  # the pass's sums are not finite: no slot reaches its spans
    assert [r.diagnostics.nonfinite_losses for r in out] == [1, 1]


def test_a_sample_that_misleads_falls_back_to_the_rows(monkeypatch):
    x, y = regression_data(N)
    sampled = streamed.sample_rows(N, 1, bracketed.PLAN_SAMPLE)
    x[sampled] = y[sampled] - 50.0 - torch.rand(sampled.numel(), generator=torch.Generator().manual_seed(6))
    seen = _count_bracketed(monkeypatch)
    _compare(x, y, OWN[:1], monkeypatch)
    assert seen == [False]


def test_small_weighted_and_unreduced_requests_keep_the_other_paths(monkeypatch):
    seen = _count_bracketed(monkeypatch)
    x, y = regression_data(2000)
    advisor.evaluate(x, y, OWN[:1])
    x, y = regression_data(N)
    advisor.evaluate(x, y, OWN[:1], sample_weight=torch.rand(N, generator=torch.Generator().manual_seed(2)))
    advisor.evaluate(x, y, [{"loss": "QuantileLoss", "params": {"quantiles": [0.3], "reduction": "none"}}])
    assert seen == []


def test_the_spans_hold_their_ranks_on_a_fresh_sample():
    """``plan`` brackets every quantile and the top-share threshold of the data it is drawn from."""
    rng = np.random.default_rng(9)
    n = N
    losses, grads = rng.standard_cauchy(n) ** 2, np.abs(rng.standard_normal(n))
    spans = bracketed.plan(losses[:: n // bracketed.PLAN_SAMPLE], grads[:: n // bracketed.PLAN_SAMPLE], n)
    ordered = np.sort(losses)
    for lo, hi, ks in spans.loss:
        assert all(lo <= ordered[k] <= hi for k in ks)
    lo, hi, (k,) = spans.grad
    assert k == spans.top_rank and lo <= np.sort(grads)[k] <= hi
