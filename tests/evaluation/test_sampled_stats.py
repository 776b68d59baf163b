"""Sampled order statistics against numpy's exact ones, within the bound the report states.

Per-sample losses and gradient magnitudes come from torch.nn under autograd (the reference);
the report's quantiles must each sit, in the data's exact order, within the stated rank
error of their level, the maxima and counts must be exact, and the top-1% share within its
bound. Data layouts are those where a strided or bracketed scheme has cliffs: periodic
outliers, sorted targets, many ties, constant targets, float16.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import advisor
from advisor.benchmarking.cases import LAYOUTS, layout
from advisor.errors import InvalidInputError
from advisor.evaluation import diagnostics
from tests.evaluation.data import rank_ok

N = 1_000_000
CANDIDATES = [
    ("MSELoss", {}, torch.nn.MSELoss, {}),
    ("HuberLoss", {"delta": 0.5}, torch.nn.HuberLoss, {"delta": 0.5}),
    ("L1Loss", {}, torch.nn.L1Loss, {}),
    ("SmoothL1Loss", {"beta": 2.0}, torch.nn.SmoothL1Loss, {"beta": 2.0}),
]


def _layout(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    return layout(N, name)


def _reference(cls, kw, x, y):
    xr = x.detach().clone().requires_grad_(True)
    none = cls(reduction="none", **kw)(xr, y)
    (g,) = torch.autograd.grad(none.sum(), xr)
    return none.detach().double().numpy(), g.abs().double().numpy()


def _share_bound(g: np.ndarray, eps: float) -> tuple[float, float]:
    """The exact top-1% share and the stated bound on the sampled one's error."""
    n = g.size
    s = np.sort(g)[::-1]
    m = diagnostics.top_count(n)
    total = float(g.sum())
    exact = float(s[:m].sum()) / total
    band = math.ceil(eps * n)
    g_hi, g_lo = s[max(0, m - 1 - band)], s[min(n - 1, m - 1 + band)]
    return exact, band * float(g_hi - g_lo) / total


@pytest.mark.parametrize("data_layout", LAYOUTS)
def test_sampled_quantiles_and_share_are_within_the_stated_bound(data_layout):
    x, y = _layout(data_layout)
    cands = [{"loss": name, "params": params} for name, params, _, _ in CANDIDATES]
    report = advisor.evaluate(x, y, cands)
    for (name, _, cls, kw), res in zip(CANDIDATES, report.results, strict=True):
        d = res.diagnostics
        assert d.quantile_method == "sampled" and d.quantile_sample == diagnostics.QUANTILE_SAMPLE
        eps = d.quantile_rank_error
        assert eps == pytest.approx(math.sqrt(math.log(40) / (2 * 65536)))
        losses, grads = _reference(cls, kw, x, y)
        # float16 losses are rounded once by torch and once by the kernel: a value's rank is
        # compared with ties widened by that rounding
        slack = 1e-3 if data_layout == "float16" else 0.0
        for q, v in zip(diagnostics.QUANTILES, (d.loss_quantiles.p50, d.loss_quantiles.p90, d.loss_quantiles.p99), strict=True):
            assert rank_ok(losses, v, q, eps, slack), (name, q, v)
        rel = 2e-3 if data_layout == "float16" else 1e-6
        assert d.loss_quantiles.max == pytest.approx(float(losses.max()), rel=rel), name
        assert d.grad_max == pytest.approx(float(grads.max()), rel=rel), name
        assert d.grad_mean == pytest.approx(float(grads.mean()), rel=max(rel, 1e-5)), name
        assert d.zero_grad_fraction == pytest.approx(np.count_nonzero(grads == 0) / N, abs=2e-3 if data_layout == "float16" else 1e-12)
        exact, bound = _share_bound(grads, eps)
        assert abs(d.top1pct_grad_share - exact) <= bound + (5e-3 if data_layout == "float16" else 1e-6), (name, exact, bound)


def test_exact_mode_equals_numpy():
    x, y = _layout("outliers_every_97th")
    x, y = x[:200_000], y[:200_000]
    cands = [{"loss": name, "params": params} for name, params, _, _ in CANDIDATES]
    report = advisor.evaluate(x, y, cands, quantile_sample=None)
    for (name, _, cls, kw), res in zip(CANDIDATES, report.results, strict=True):
        d = res.diagnostics
        assert d.quantile_method == "exact" and d.quantile_sample is None and d.quantile_rank_error == 0.0
        losses, grads = _reference(cls, kw, x, y)
        want = np.quantile(losses.astype(np.float32), diagnostics.QUANTILES, method="lower")
        assert [d.loss_quantiles.p50, d.loss_quantiles.p90, d.loss_quantiles.p99] == pytest.approx(want.tolist(), rel=1e-6), name
        s = np.sort(grads)[::-1]
        top = float(s[: diagnostics.top_count(grads.size)].sum()) / float(grads.sum())
        assert d.top1pct_grad_share == pytest.approx(top, rel=1e-5), name


def test_data_no_larger_than_the_sample_are_exact():
    x, y = _layout("random_outliers")
    x, y = x[:5000], y[:5000]
    d = advisor.evaluate(x, y, ["MSELoss"], quantile_sample=5000).results[0].diagnostics
    assert d.quantile_method == "exact" and d.quantile_rank_error == 0.0
    losses = ((x - y) ** 2).numpy()
    assert d.loss_quantiles.p90 == float(np.quantile(losses, 0.9, method="lower"))
    sampled = advisor.evaluate(x, y, ["MSELoss"], quantile_sample=4999).results[0].diagnostics
    assert sampled.quantile_method == "sampled" and sampled.quantile_sample == 4999


def test_a_smaller_sample_states_a_wider_bound_and_keeps_to_it():
    x, y = _layout("sorted_targets")
    d = advisor.evaluate(x, y, ["L1Loss"], quantile_sample=4096).results[0].diagnostics
    assert d.quantile_rank_error == pytest.approx(math.sqrt(math.log(40) / 8192))
    losses = (x - y).abs().double().numpy()
    for q, v in zip(diagnostics.QUANTILES, (d.loss_quantiles.p50, d.loss_quantiles.p90, d.loss_quantiles.p99), strict=True):
        assert rank_ok(losses, v, q, d.quantile_rank_error)


def test_the_sample_is_seeded():
    x, y = _layout("random_outliers")
    a = advisor.evaluate(x, y, ["HuberLoss"]).results[0].diagnostics
    b = advisor.evaluate(x, y, ["HuberLoss"]).results[0].diagnostics
    assert a == b


@pytest.mark.parametrize(("n", "c"), [(300_000, 10), (100_000, 256)], ids=["sampled-apart", "rows-kept"])
def test_multiclass_sampled_quantiles_within_the_bound(n, c):
    """Ten classes: the sample is gathered and evaluated apart; 256 classes over fewer rows:
    every row's two outputs are kept (cheaper than gathering 65,536 rows of 256 scores) and the
    sample drawn from them. The same bound either way."""
    g = torch.Generator().manual_seed(5)
    x = torch.randn(n, c, generator=g)
    t = torch.randint(0, c, (n,), generator=g)
    t[::7] = 0  # a periodic layout in the labels
    d = advisor.evaluate(x, t, ["CrossEntropyLoss"]).results[0].diagnostics
    xr = x.clone().requires_grad_(True)
    none = torch.nn.functional.cross_entropy(xr, t, reduction="none")
    (grad,) = torch.autograd.grad(none.sum(), xr)
    losses, norms = none.detach().double().numpy(), grad.norm(dim=1).double().numpy()
    for q, v in zip(diagnostics.QUANTILES, (d.loss_quantiles.p50, d.loss_quantiles.p90, d.loss_quantiles.p99), strict=True):
        assert rank_ok(losses, v, q, d.quantile_rank_error, 1e-6)
    assert d.loss_quantiles.max == pytest.approx(float(losses.max()), rel=1e-6)
    assert d.grad_max == pytest.approx(float(norms.max()), rel=1e-5)
    exact, bound = _share_bound(norms, d.quantile_rank_error)
    assert abs(d.top1pct_grad_share - exact) <= bound + 1e-6
    assert d.quantile_sample == diagnostics.QUANTILE_SAMPLE and d.grad_mean == pytest.approx(float(norms.mean()), rel=1e-5)


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "many"])
def test_quantile_sample_must_be_a_positive_count(bad):
    x, y = _layout("all_equal_targets")
    with pytest.raises(InvalidInputError) as err:
        advisor.evaluate(x[:10], y[:10], ["MSELoss"], quantile_sample=bad)
    assert err.value.field == "quantile_sample"
