"""Statistics of written rows from the compiled span count equal numpy's selections, and fall back where they must."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import advisor
from advisor.evaluation import diagnostics, dispatch, selection, tallied
from tests.evaluation.data import multiclass_data
from tests.evaluation.paths import assert_same_results, record
from tests.evaluation.test_selection import _bracket_patterns, _patterns

N = selection.BRACKET_MIN + 101


def _rows(n: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Row pairs (losses, gradient magnitudes) from the selection tests' patterns, tied and continuous."""
    tied, spread = _patterns(n, np.float64), _bracket_patterns(n)
    spread.pop("periodic_in_the_stride")  # misleads this sample too (a multiple of its stride): see the next test
    names = [*tied, *spread]
    losses = [*tied.values(), *spread.values()]
    grads = [np.abs(a) for a in [*spread.values(), *tied.values()]]  # pair each with a pattern of the other kind
    grads = [grads[j % len(grads)] for j in range(len(losses))]
    return names, np.stack(losses), np.stack(grads)


def _same(got: dict, want: dict) -> None:
    """Order statistics and counts exactly, sums to float64 rounding (they are summed in another order)."""
    assert got.keys() == want.keys()
    for field, value in want.items():
        summed = field in ("grad_mean", "top1pct_grad_share") and value is not None
        assert got[field] == (pytest.approx(value, rel=1e-12) if summed else value), field


def _tallied(L: np.ndarray, G: np.ndarray, dtype: torch.dtype) -> list:
    with dispatch.mode("compiled"):
        return tallied.stats(torch.from_numpy(L).to(dtype), torch.from_numpy(G).to(dtype))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_counted_rows_give_the_selections_statistics(dtype):
    names, L, G = _rows(N)
    got = _tallied(L, G, dtype)
    for j, name in enumerate(names):
        Lj, Gj = torch.from_numpy(L[j]).to(dtype), torch.from_numpy(G[j]).to(dtype)
        assert got[j] is not None, name  # none of these misleads a strided sample
        _same(got[j], diagnostics.sample_stats(Lj, Gj, True))


def test_a_misleading_sample_or_a_value_not_finite_leaves_the_row_to_numpy():
    rng = np.random.default_rng(5)
    stride = N // tallied.SAMPLE
    periodic = np.where(np.arange(N) % stride == 0, 10.0, 0.0) + rng.random(N)  # every sampled entry far above the rest
    fine = rng.random(N)
    with_nan, with_inf = fine.copy(), fine.copy()
    with_nan[7], with_inf[9] = np.nan, np.inf
    L = np.stack([periodic, with_nan, fine, fine])
    G = np.stack([fine, fine, with_inf, fine])
    got = _tallied(L, G, torch.float64)
    assert got[:3] == [None, None, None]
    _same(got[3], diagnostics.sample_stats(torch.from_numpy(fine), torch.from_numpy(fine), True))


def test_multiclass_rows_take_the_count_and_match_the_selections(monkeypatch):
    x, t = multiclass_data(N, c=6, seed=7)
    x[: N // 3] *= 40.0  # saturated rows: losses of exactly 0 and tied gradient norms
    weight = [0.5, 1.0, 1.5, 2.0, 1.0, 0.25]
    cands = [
        "CrossEntropyLoss",
        {"loss": "CrossEntropyLoss", "params": {"weight": weight, "label_smoothing": 0.1}},
        {"loss": "FocalLoss", "params": {"gamma": 2.0}},
        "LogitAdjustedLoss",
    ]
    seen = record(monkeypatch, tallied, "stats", lambda out: [s is not None for s in out])
    with dispatch.mode("compiled"):
        got = advisor.evaluate(x, t, cands).results
        monkeypatch.setattr(tallied, "usable", lambda *a: False)
        want = advisor.evaluate(x, t, cands).results
    assert seen == [[True] * len(cands)]
    assert_same_results(got, want)


def test_new_row_counts_and_lengths_do_not_recompile_the_count():
    from torch._dynamo.utils import counters

    rng = np.random.default_rng(9)

    def count(k: int, n: int) -> None:
        rows = rng.random((k, n))
        assert all(s is not None for s in _tallied(rows, rows, torch.float32))

    count(2, N)
    if dispatch.broken_kernels():
        pytest.skip(f"torch.compile unavailable here: {dispatch.broken_kernels()}")
    before = counters["stats"]["unique_graphs"]
    for i in range(6):
        count(2 + i % 3, N + 977 * i)
    assert counters["stats"]["unique_graphs"] == before


def test_only_compiled_cpu_rows_of_bracketing_size_are_counted(monkeypatch):
    rows = torch.zeros(2, N)
    assert tallied.usable(rows, True)
    assert not tallied.usable(rows, False)
    assert not tallied.usable(rows[:, : selection.BRACKET_MIN - 1], True)
    assert not tallied.usable(rows.bfloat16(), True)
    monkeypatch.setitem(dispatch._broken, "span_tally", "RuntimeError: no compiler here")
    assert not tallied.usable(rows, True)  # eager, the count would cost more than numpy's selections
