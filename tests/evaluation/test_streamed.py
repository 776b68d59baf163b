"""Diagnostics tallied chunk by chunk equal those taken from whole rows, and fall back where they must."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import advisor
from advisor.evaluation import diagnostics as diag
from advisor.evaluation import dispatch, runner, selection, streamed, summary, tallied
from tests.evaluation.data import binary_data, multiclass_data, regression_data
from tests.evaluation.paths import assert_same_results, record
from tests.evaluation.test_selection import _bracket_patterns, _patterns

N = streamed.STREAM_MIN + 101


def _reference(a: np.ndarray, positions: list[int], top_rank: int) -> tuple[list[float], float]:
    ordered = np.sort(a)
    share = float(ordered[top_rank:].sum(dtype=np.float64)) / float(a.sum(dtype=np.float64))
    return ordered[positions].tolist(), share


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_tally_fed_in_pieces_on_two_threads_is_exact(dtype):
    n = selection.BRACKET_MIN + 11
    top_rank = n - math.ceil(0.01 * n)
    positions = sorted({diag.rank(q, n) for q in diag.QUANTILES} | {top_rank})
    patterns = {**_patterns(n, dtype), **_bracket_patterns(n)}
    missed = []
    for name, a in patterns.items():
        a = np.abs(a).astype(dtype)  # nonnegative, as the gradient magnitudes are
        sample = np.sort(a[:: n // selection.TIE_SAMPLE])
        halves = selection.Tally(sample, n, positions, top_rank), selection.Tally(sample, n, positions, top_rank)
        for i, part in enumerate(np.array_split(a, 9)):  # uneven pieces, alternating between the tallies
            halves[i % 2].feed(part)
        tally = halves[0].merge(halves[1])
        found = tally.resolve()
        if found is None:
            missed.append(name)
            continue
        expected, share = _reference(a, positions, top_rank)
        assert [found[k] for k in positions] == expected, name
        assert tally.top_share(float(a.sum(dtype=np.float64))) == pytest.approx(share, rel=1e-12), name
    # only the pattern built to mislead a strided sample is missed; every tied one is counted
    assert missed == ["periodic_in_the_stride"]


@pytest.fixture(params=["numpy", "counted"])
def tally(request, monkeypatch):
    """Streams tallied by numpy, or counted by the compiled pass (``tallied.Counter``, which then must run)."""
    if request.param == "numpy":
        monkeypatch.setattr(tallied, "usable", lambda *a: False)
        yield
        return
    counted = record(monkeypatch, tallied.Counter, "stats", lambda stats: True)
    with dispatch.mode("compiled"):
        yield
    assert counted, "no stream was counted"


def _compare(x, y, cands, monkeypatch, **kw):
    streamed_results = advisor.evaluate(x, y, cands, **kw).results
    with monkeypatch.context() as m:
        m.setattr(runner, "_streamable", lambda *a: False)
        m.setattr(tallied, "usable", lambda *a: False)  # the rows' numpy selections, not their compiled count
        rows = advisor.evaluate(x, y, cands, **kw).results
    assert_same_results(streamed_results, rows)
    return streamed_results


def _no_brackets(monkeypatch) -> None:
    """Unweighted regression slots would take the summary pass's spans (``test_bracketed``) instead."""
    monkeypatch.setattr(summary, "brackets_own", lambda *a: False)


def _count_streams(monkeypatch) -> list[bool]:
    return record(monkeypatch, streamed, "run", lambda stats: stats is not None and all(st is not None for st in stats))


REGRESSION = [
    {"loss": "QuantileLoss", "params": {"quantiles": [0.1]}},
    {"loss": "QuantileLoss", "params": {"quantiles": [0.75]}},
    {"loss": "AdaptiveRobustLoss", "params": {"alpha": 0.5, "scale": 0.5}},
    {"loss": "AdaptiveRobustLoss", "params": {"alpha": -2.0, "scale": 1.0}},
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_regression_candidates_that_do_not_share_the_order_stream(dtype, monkeypatch, tally):
    _no_brackets(monkeypatch)
    x, y = regression_data(N, dtype=dtype)
    x[:4000] = y[:4000]  # zero residuals: a tie in every loss and the pinball's kink
    x[::211] += 25.0  # outliers
    seen = _count_streams(monkeypatch)
    _compare(x, y, REGRESSION, monkeypatch)
    assert seen and all(seen)


def test_weighted_regression_streams_every_candidate(monkeypatch, tally):
    x, y = regression_data(N)
    w = torch.rand(N, generator=torch.Generator().manual_seed(5)) * 2
    seen = _count_streams(monkeypatch)
    _compare(x, y, ["L1Loss", "MSELoss", *REGRESSION[:1]], monkeypatch, sample_weight=w)
    assert seen and all(seen)


def test_binary_candidates_stream(monkeypatch, tally):
    x, y = binary_data(N // 2, d=2)
    x[:2000] = 40.0  # saturated logits: gradients that underflow to exactly zero, a block of ties
    seen = _count_streams(monkeypatch)
    _compare(x, y, ["BCEWithLogitsLoss", {"loss": "FocalLoss", "params": {"gamma": 2.0}}], monkeypatch)
    assert seen and all(seen)


def test_a_dead_zone_streams_exactly(monkeypatch, tally):
    """The hinge loss is 0 on most samples: a block of ties, which the tally counts instead of keeping."""
    x, y = binary_data(N // 2, d=2)
    y = torch.where(y > 0, 1.0, -1.0)
    x = y * (1.5 + x.abs())  # most margins beyond 1: zero loss, zero gradient
    x[:5000] *= -0.1
    seen = _count_streams(monkeypatch)
    _compare(x, y, [{"loss": "HingeLoss", "params": {"margin": 1.0}}, "SoftMarginLoss"], monkeypatch)
    assert seen and all(seen)


def test_a_value_that_is_not_finite_falls_back_to_the_rows(monkeypatch):
    _no_brackets(monkeypatch)
    x, y = regression_data(N)
    x[12345], y[12345] = 3e38, -3e38  # finite inputs whose residual overflows float32
    seen = _count_streams(monkeypatch)
    out = _compare(x, y, REGRESSION[:2], monkeypatch)
    assert seen == [False]
    assert [r.diagnostics.nonfinite_losses for r in out] == [1, 1]


def test_a_sample_that_misleads_falls_back_to_the_rows(monkeypatch, tally):
    """Every sampled row far above the rest: the brackets miss, the rows give the same answer."""
    _no_brackets(monkeypatch)
    n = N
    x, y = regression_data(n)
    sampled = streamed.sample_rows(n, 1)
    x[sampled] = y[sampled] + 50.0 + torch.rand(sampled.numel(), generator=torch.Generator().manual_seed(6))
    seen = _count_streams(monkeypatch)
    _compare(x, y, REGRESSION[:1], monkeypatch)
    assert seen == [False]


def test_small_inputs_multiclass_and_reduction_none_keep_their_rows(monkeypatch):
    seen = _count_streams(monkeypatch)
    x, y = regression_data(2000)
    advisor.evaluate(x, y, REGRESSION[:1])
    x, y = regression_data(N)
    advisor.evaluate(x, y, [{"loss": "QuantileLoss", "params": {"quantiles": [0.3], "reduction": "none"}}])
    x, y = multiclass_data(N, c=4)
    advisor.evaluate(x, y, ["CrossEntropyLoss", {"loss": "FocalLoss", "params": {"gamma": 2.0}}])
    assert seen == []
