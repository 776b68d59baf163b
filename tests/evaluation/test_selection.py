"""Order statistics: exact on tied data, shared across the losses that rise with |x - y|."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import advisor
from advisor.evaluation import diagnostics as diag
from advisor.evaluation import kernels, selection
from tests.evaluation.data import regression_data

N_BIG = 3 * selection.TIE_SAMPLE + 7  # large enough for the sampled tie detection
N_BRACKETED = selection.BRACKET_MIN + 11  # large enough for the sample-bracketed passes


def _patterns(n: int, dtype: np.dtype) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    u, v = rng.random(n), rng.random(n)
    return {
        "continuous": u,
        "zeros_60pct": np.where(u < 0.6, 0.0, u),
        "sorted_middle_block": np.sort(np.where(u < 0.4, 0.5, v)),
        "two_values": np.where(u < 0.5, 0.1, 0.9),
        "constant": np.ones(n),
        "ten_values": np.floor(u * 10),
        "blocks_at_both_ends": np.where(u < 0.3, 0.0, np.where(u > 0.8, 1.0, v)),
        "heavy_tail": rng.standard_cauchy(n) ** 2,
    }


def _reference(a: np.ndarray) -> tuple[list[float], float, float]:
    q = np.quantile(a, diag.QUANTILES, method="lower").tolist()
    m = max(1, math.ceil(0.01 * a.size))
    top = float(np.sort(a)[::-1][:m].sum(dtype=np.float64)) / float(a.sum(dtype=np.float64))
    return q, float(a.max()), top


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 101, N_BIG, N_BRACKETED])
def test_quantiles_and_top_share_are_exact_on_tied_data(n, dtype):
    for name, a in _patterns(n, dtype).items():
        a = a.astype(dtype)
        t = torch.from_numpy(a.copy())
        q, n_bad = diag.loss_quantiles(t, finite=True)
        stats = diag.gradient_stats(t)
        ref_q, ref_max, ref_top = _reference(a)
        assert [q.p50, q.p90, q.p99] == ref_q, name
        assert q.max == ref_max and n_bad == 0, name
        assert stats["top1pct_grad_share"] == pytest.approx(ref_top, rel=1e-12), name
        assert torch.equal(t, torch.from_numpy(a)), "the caller's tensor is never reordered"


def test_tie_blocks_take_the_counting_path():
    """The tied patterns are the ones numpy's introselect is slow on; they must be detected."""
    found = {name: selection.heavy_values(a).size for name, a in _patterns(N_BIG, np.float32).items()}
    assert found["continuous"] == 0 and found["heavy_tail"] == 0
    assert all(found[k] > 0 for k in ("zeros_60pct", "sorted_middle_block", "two_values", "constant", "blocks_at_both_ends"))


def test_repeated_positions_and_block_edges():
    a = np.concatenate([np.zeros(40_000), np.arange(1.0, 60_001.0)])
    np.random.default_rng(1).shuffle(a)
    positions = [0, 39_999, 40_000, 40_000, 70_000, 99_999]
    assert selection.select(a, positions) == np.sort(a)[positions].tolist()


def _bracket_patterns(n: int) -> dict[str, np.ndarray]:
    """Continuous data of several shapes, and orders a strided sample misjudges."""
    rng = np.random.default_rng(3)
    stride = n // selection.TIE_SAMPLE
    # every sampled entry is far above the rest: a continuous sample, and a wrong picture
    periodic = np.where(np.arange(n) % stride == 0, 10.0, 0.0) + rng.random(n)
    return {
        "normal": rng.standard_normal(n),
        "abs_cauchy": np.abs(rng.standard_cauchy(n)),
        "ascending": np.sort(rng.random(n)),
        "descending": np.sort(rng.random(n))[::-1].copy(),
        "periodic_in_the_stride": periodic,
        "sawtooth": (np.arange(n) % 1009) / 1009.0 + 1e-9 * rng.random(n),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bracketed_selection_is_exact(dtype):
    n = N_BRACKETED
    positions = [0, 1, n // 2, (9 * n) // 10, n - math.ceil(0.01 * n), (99 * (n - 1)) // 100, n - 2, n - 1]
    positions = sorted(positions)
    for name, a in _bracket_patterns(n).items():
        a = a.astype(dtype)
        before = a.copy()
        expected = np.sort(a)[positions].tolist()
        assert selection.select(a, positions) == expected, name
        values, where, above = selection.select_indexed(selection.Key(a), positions, above_rank=positions[-3])
        assert values == expected and a[where].tolist() == expected, name
        assert np.array_equal(np.sort(above), np.flatnonzero(a > expected[-3])), name
        assert np.array_equal(a, before), "selection never reorders its input"


def test_a_sample_that_misses_falls_back_to_the_whole_partition(monkeypatch):
    """The periodic pattern shows the sample only its largest entries: the brackets miss, the answer does not."""
    a = _bracket_patterns(N_BRACKETED)["periodic_in_the_stride"]
    calls = []
    nested = selection._select_nested
    monkeypatch.setattr(selection, "_select_nested", lambda arr, pos: calls.append(arr.size) or nested(arr, pos))
    positions = [a.size // 2, (9 * a.size) // 10]
    assert selection.select(a, positions) == np.sort(a)[positions].tolist()
    assert calls == [a.size]  # one whole-array partition for the missed ranks
    calls.clear()
    b = _bracket_patterns(N_BRACKETED)["normal"]
    assert selection.select(b, positions) == np.sort(b)[positions].tolist()
    assert calls == []  # a representative sample never needs it


def test_bracketed_passes_agree_on_one_thread_and_several(monkeypatch):
    a = _bracket_patterns(4 * selection.SLICE + 3)["abs_cauchy"]
    positions = [a.size // 2, a.size - 1 - a.size // 100]
    several = selection.select_indexed(selection.Key(a), positions, positions[-1])
    monkeypatch.setattr(selection.torch, "get_num_threads", lambda: 1)
    one = selection.select_indexed(selection.Key(a), positions, positions[-1])
    assert one[0] == several[0] == np.sort(a)[positions].tolist()
    assert np.array_equal(np.sort(one[2]), np.sort(several[2]))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("n", [1000, N_BRACKETED])
def test_a_key_that_is_not_finite_has_no_order(bad, n):
    a = np.random.default_rng(4).random(n)
    a[n // 3] = bad
    assert selection.select_indexed(selection.Key(a), [n // 2]) is None
    assert diag.shared_order(selection.Key(a)) is None


def _monotone_rows(key: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(losses, gradient magnitudes) nondecreasing in the key, with ties and zeros."""
    return [
        (key * key, 2 * key),
        (np.where(key < 0.5, 0.5 * key * key, 0.5 * (key - 0.25)), np.minimum(key, 0.5)),
        (key, np.where(key > 0, 1.0, 0.0)),
        (np.log(np.cosh(key)), np.tanh(key)),
    ]


@pytest.mark.parametrize("n", [3, 1000, N_BIG])
def test_shared_order_equals_each_candidates_own_selection(n):
    rng = np.random.default_rng(2)
    key = np.abs(np.round(rng.standard_normal(n) * 4) / 4)  # many ties, zeros among them
    key[: n // 10] = 0.0
    order = diag.shared_order(selection.Key(key.copy()))
    for losses, grads in _monotone_rows(key):
        L, G = torch.from_numpy(losses), torch.from_numpy(grads)
        own = diag.sample_stats(L.clone(), G.clone())
        shared = diag.ordered_sample_stats(L, G, order)
        assert shared.keys() == own.keys()
        for field, value in own.items():
            if isinstance(value, float):
                assert shared[field] == pytest.approx(value, rel=1e-12), field
            else:
                assert shared[field] == value, field


@pytest.mark.parametrize("where", ["quantiles", "above"])
def test_ordered_stats_fall_back_when_the_values_leave_the_keys_order(where):
    """A loss that rounds out of its key's order at the positions read: its own selection instead."""
    rng = np.random.default_rng(5)
    key = rng.random(N_BIG)
    order = diag.shared_order(selection.Key(key.copy()))
    losses = key * key
    if where == "quantiles":  # the p50's entry rounded above the p90's
        losses[order.quantile_at[0]] = losses[order.quantile_at[1]] * (1 + 1e-7)
    else:  # an entry above the threshold rounded below it
        losses[order.above[0]] = losses[order.threshold_at] * (1 - 1e-7)
    L, G = torch.from_numpy(losses), torch.from_numpy(2 * key)
    assert not diag.follows_order(losses[order.positions()])
    assert diag.ordered_sample_stats(L, G, order) == diag.sample_stats(L.clone(), G.clone())
    assert diag.follows_order(np.sort(losses)[: order.positions().size])


def test_ordered_stats_fall_back_when_something_is_not_finite():
    key = np.abs(np.linspace(-3, 3, 1001))
    order = diag.shared_order(selection.Key(key.copy()))
    L = torch.from_numpy(key * key)
    L[5] = float("inf")
    out = diag.ordered_sample_stats(L, torch.from_numpy(2 * key), order)
    assert out["nonfinite_losses"] == 1 and out["n_samples"] == 1001


REGRESSION_SLOTS = [
    ("l1", (0.0, 0.0, 0.0)),
    ("mse", (0.0, 0.0, 0.0)),
    ("huber", (0.7, 0.0, 0.0)),
    ("smoothl1", (0.3, 0.0, 0.0)),
    ("smoothl1", (0.0, 0.0, 0.0)),
    ("logcosh", (0.0, 0.0, 0.0)),
    ("adaptive", (1.0, 0.5, 0.0)),
    ("adaptive", (1.5, 2.0, 0.0)),
    ("adaptive", (2.0, 1.0, 0.0)),
    ("adaptive", (0.5, 1.0, 0.0)),
    ("adaptive", (0.0, 1.0, 0.0)),
    ("adaptive", (-2.0, 1.0, 0.0)),
    ("adaptive", (-math.inf, 1.0, 0.0)),
    ("quantile", (0.2, 0.0, 0.0)),
]


@pytest.mark.parametrize(("kind", "p"), REGRESSION_SLOTS)
def test_the_sharing_predicate_matches_the_kernels_own_terms(kind, p):
    """Where the predicate says yes, loss and |gradient| are functions of |x - y| that never decrease; where no, not."""
    r = torch.linspace(0.0, 12.0, 4001, dtype=torch.float64)
    x = torch.cat([r, -r]).reshape(-1, 1)
    y = torch.zeros_like(x)
    P = torch.tensor([p], dtype=torch.float64)
    _, _, L, G, _ = kernels.regression_kernel(x, y, P, kinds=(kind,), diag=True)
    n = r.numel()
    # a function of |x - y| at all: the same at r and -r
    rises = torch.allclose(L[0, :n], L[0, n:], rtol=1e-12, atol=0) and torch.allclose(G[0, :n], G[0, n:], rtol=1e-12, atol=0)
    for half in (slice(0, n), slice(n, 2 * n)):  # residual growing upwards, then downwards
        loss, grad = L[0, half], G[0, half]
        slack = 1e-12 * (1 + loss.abs())
        rises &= bool((loss[1:] >= loss[:-1] - slack[1:]).all())
        rises &= bool((grad[1:] >= grad[:-1] - 1e-12 * (1 + grad[1:].abs())).all())
    assert kernels.rises_with_abs_residual(kind, p) == rises


def test_evaluate_reads_the_same_diagnostics_through_the_shared_order():
    """Unweighted runs share the order; unit weights force each candidate's own selection."""
    x, y = regression_data(N_BIG)
    x = torch.round(x * 8) / 8
    y = torch.round(y * 8) / 8
    x[:500] = y[:500]  # zero residuals: the dead point of L1's gradient, ties in every loss
    x[::97] += 9.0  # outliers
    cands = [
        "L1Loss", "MSELoss", {"loss": "HuberLoss", "params": {"delta": 0.5}}, {"loss": "SmoothL1Loss", "params": {"beta": 0.25}},
        "LogCoshLoss", {"loss": "AdaptiveRobustLoss", "params": {"alpha": 1.5, "scale": 0.5}},
        {"loss": "AdaptiveRobustLoss", "params": {"alpha": 0.5, "scale": 0.5}}, {"loss": "QuantileLoss", "params": {"quantiles": [0.8]}},
    ]
    shared = advisor.evaluate(x, y, cands).results
    own = advisor.evaluate(x, y, cands, sample_weight=torch.ones(x.shape[0])).results
    for a, b in zip(shared, own, strict=True):
        da, db = a.diagnostics, b.diagnostics
        assert da.loss_quantiles.model_dump() == pytest.approx(db.loss_quantiles.model_dump(), rel=1e-6), a.loss
        for field in ("grad_mean", "grad_max", "zero_grad_fraction", "top1pct_grad_share"):
            assert getattr(da, field) == pytest.approx(getattr(db, field), rel=1e-6), (a.loss, field)
    assert shared[0].diagnostics.zero_grad_fraction == pytest.approx(float(((x - y) == 0).float().mean()))


def test_evaluate_counts_infinite_residuals_without_the_shared_order():
    """Finite inputs whose difference overflows float32: the key is not finite, each candidate counts alone."""
    x, y = regression_data(2000)
    x[7], y[7] = 3e38, -3e38
    d = advisor.evaluate(x, y, ["MSELoss", "L1Loss"]).results
    assert [r.diagnostics.nonfinite_losses for r in d] == [1, 1]
    assert all(r.diagnostics.loss_quantiles is not None for r in d)


def _diag_fields(res) -> dict:
    d = res.diagnostics
    return {"q": d.loss_quantiles.model_dump(), **{f: getattr(d, f) for f in ("grad_mean", "grad_max", "zero_grad_fraction", "top1pct_grad_share")}}


def _assert_same(a, b, rel):
    fa, fb = _diag_fields(a), _diag_fields(b)
    assert fa["q"] == pytest.approx(fb["q"], rel=rel), a.loss
    for f in ("grad_mean", "grad_max", "zero_grad_fraction", "top1pct_grad_share"):
        assert fa[f] == pytest.approx(fb[f], rel=rel), (a.loss, f)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_shared_candidates_keep_values_and_diagnostics_for_every_reduction(reduction):
    """'mean'/'sum' take the row-free summary pass, 'none' writes rows and reads the same order from them."""
    x, y = regression_data(5000)
    cands = [{"loss": "HuberLoss", "params": {"delta": 0.4, "reduction": reduction}}, {"loss": "MSELoss", "params": {"reduction": reduction}}]
    shared = advisor.evaluate(x, y, cands).results
    own = advisor.evaluate(x, y, cands, sample_weight=torch.ones(x.shape[0])).results
    refs = [torch.nn.HuberLoss(delta=0.4, reduction=reduction)(x, y), torch.nn.MSELoss(reduction=reduction)(x, y)]
    for res, other, ref in zip(shared, own, refs, strict=True):
        if reduction == "none":
            assert res.values == pytest.approx(ref.tolist(), rel=1e-5)
        else:
            assert res.value == pytest.approx(float(ref), rel=1e-5)
        _assert_same(res, other, 1e-6)


def test_a_candidate_that_overflows_is_counted_while_the_others_share():
    x, y = regression_data(4000)
    x[3] = 1e20  # (x - y)^2 overflows float32; |x - y| does not
    mse, l1 = advisor.evaluate(x, y, ["MSELoss", "L1Loss"]).results
    assert mse.diagnostics.nonfinite_losses == 1 and mse.diagnostics.loss_quantiles is not None
    assert l1.diagnostics.nonfinite_losses == 0
    _assert_same(l1, advisor.evaluate(x, y, ["L1Loss"], sample_weight=torch.ones(4000)).results[0], 1e-6)


def test_compiled_summary_pass_equals_eager():
    from advisor.evaluation import dispatch

    x, y = regression_data(20_000)
    x[::50] += 6.0
    cands = ["MSELoss", "LogCoshLoss", {"loss": "AdaptiveRobustLoss", "params": {"alpha": 1.2, "scale": 0.7}}, {"loss": "QuantileLoss", "params": {"quantiles": [0.3]}}]
    with dispatch.mode("eager"):
        eager = advisor.evaluate(x, y, cands).results
    with dispatch.mode("compiled"):
        compiled = advisor.evaluate(x, y, cands).results
    for a, b in zip(compiled, eager, strict=True):
        assert a.path == "fused-compiled" and b.path == "fused-eager"
        assert a.value == pytest.approx(b.value, rel=1e-5)
        _assert_same(a, b, 1e-5)


def test_multi_output_regression_reads_the_order_per_element():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(3000, 3, generator=g)
    x = y + 0.5 * torch.randn(3000, 3, generator=g)
    x[::37, 1] += 7.0
    cands = ["MSELoss", "L1Loss", {"loss": "HuberLoss", "params": {"delta": 0.3}}]
    shared = advisor.evaluate(x, y, cands).results
    own = advisor.evaluate(x, y, cands, sample_weight=torch.ones(3000)).results
    for a, b in zip(shared, own, strict=True):
        assert a.diagnostics.n_samples == 9000
        _assert_same(a, b, 1e-6)
