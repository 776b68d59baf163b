"""``advisor.evaluate`` against the anchors its targets name, in the same run, and across layouts.

* values only, the eight regression losses of ``benchcases.REGRESSION``: against a hand-fused
  ``torch.compile`` function of the same formulas written here (hyperparameters as tensors,
  one expression per loss, means summed in float64), against the loop a user writes
  (``torch.nn.functional`` calls, and the catalog's module where torch has no function), and
  against the memory-read bound (one reduction over each input);
* with diagnostics: against a loop of reduction='none' calls plus ``torch.autograd.grad``
  per candidate, which is the least a user computes for per-sample gradients;
* no cliffs: the same eight with diagnostics at N=1e6 over data layouts where exact or
  strided schemes have slow paths (periodic outliers, sorted targets, ties, constants,
  float16); the spread is the slowest layout over the fastest.

Sides alternate and each keeps its fastest call; ratios are what to read (absolute times move
by ±30% on a shared machine). ``BENCH_FULL=1`` adds N=1e7. Run with ``make bench`` or
``pytest benchmarks/test_engine_anchors_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import math
import os
import time

import pytest
import torch
import torch.nn.functional as F

import advisor
from advisor import losses
from advisor.evaluation import dispatch
from advisor.evaluation.benchcases import LAYOUTS, layout, name_of
from advisor.schema.benchmark import REGRESSION

FULL = os.environ.get("BENCH_FULL") == "1"
SIZES = [1_000_000] + ([10_000_000] if FULL else [])
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
F64 = torch.float64


def _hand_fused(x, y, P):
    """The eight formulas' means in one function (P: delta, beta, alpha, scale, q1, q2)."""
    r = x - y
    a = r.abs()
    delta, beta, alpha, scale, q1, q2 = P
    z2 = (r / scale) ** 2
    b = (alpha - 2.0).abs()
    barron = (b / alpha) * (torch.pow(z2 / b + 1.0, alpha / 2.0) - 1.0)
    d = -r
    return torch.stack([
        a.sum(dtype=F64),
        (r * r).sum(dtype=F64),
        torch.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta)).sum(dtype=F64),
        torch.where(a < beta, 0.5 * r * r / beta, a - 0.5 * beta).sum(dtype=F64),
        (a + F.softplus(-2.0 * a) - math.log(2.0)).sum(dtype=F64),
        barron.sum(dtype=F64),
        (d * torch.where(d < 0, q1 - 1.0, q1)).sum(dtype=F64),
        (d * torch.where(d < 0, q2 - 1.0, q2)).sum(dtype=F64),
    ]) / x.numel()


def _functional_loop(x, y, modules):
    """What a user writes: F.* where torch has the loss, the module otherwise."""
    with torch.no_grad():
        return [
            F.l1_loss(x, y), F.mse_loss(x, y), F.huber_loss(x, y, delta=1.0), F.smooth_l1_loss(x, y, beta=0.5),
            modules[4](x, y), modules[5](x, y), modules[6](x, y), modules[7](x, y),
        ]


def _none_modules():
    out = []
    for cand in REGRESSION:
        params = {} if isinstance(cand, str) else dict(cand.get("params", {}))
        out.append(losses.build(name_of(cand), reduction="none", **params))
    return out


def _grad_loop(x, y, modules):
    for m in modules:
        leaf = x.detach().requires_grad_(True)
        per_sample = m(leaf, y)
        (g,) = torch.autograd.grad(per_sample.sum(), leaf)
        g.abs().max()


def _fastest(fn, repeats):
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _data(n, name="random"):
    return layout(n, name)


def _evaluate(x, y, diag):
    with dispatch.mode("compiled"):
        return advisor.evaluate(x, y, list(REGRESSION), diagnostics=diag)


@pytest.mark.parametrize("n", SIZES)
def test_values_against_the_hand_fused_kernel(benchmark, n):
    x, y = _data(n)
    P = torch.tensor([1.0, 0.5, 1.0, 1.0, 0.1, 0.9])
    hand = torch.compile(_hand_fused, dynamic=True)
    modules = [losses.build(name_of(c), **({} if isinstance(c, str) else c["params"])) for c in REGRESSION]
    ours = [r.value for r in _evaluate(x, y, False).results]
    theirs = hand(x, y, P).tolist()
    assert ours == pytest.approx(theirs, rel=1e-4)  # the anchor computes the same eight means
    times = {"advisor": math.inf, "hand": math.inf, "functional": math.inf, "read": math.inf}

    def measure():
        for _ in range(REPEATS):
            times["advisor"] = min(times["advisor"], _fastest(lambda: _evaluate(x, y, False), 1))
            times["hand"] = min(times["hand"], _fastest(lambda: hand(x, y, P), 1))
            times["functional"] = min(times["functional"], _fastest(lambda: _functional_loop(x, y, modules), 1))
            times["read"] = min(times["read"], _fastest(lambda: (x.sum(), y.sum()), 1))

    benchmark.pedantic(measure, rounds=1, iterations=1)
    ratios = {
        "advisor_over_hand": times["advisor"] / times["hand"],
        "functional_over_advisor": times["functional"] / times["advisor"],
        "advisor_over_read": times["advisor"] / times["read"],
    }
    benchmark.extra_info.update({f"{k}_ms": v * 1e3 for k, v in times.items()} | ratios)
    print(
        f"\nvalues N={n:.0e}: advisor {times['advisor'] * 1e3:.1f} ms, hand-fused {times['hand'] * 1e3:.1f} ms "
        f"({ratios['advisor_over_hand']:.2f}x), F loop {times['functional'] * 1e3:.1f} ms "
        f"({ratios['functional_over_advisor']:.1f}x faster), read bound {times['read'] * 1e3:.2f} ms "
        f"({ratios['advisor_over_read']:.0f}x)"
    )


@pytest.mark.parametrize("n", SIZES)
def test_diagnostics_against_the_autograd_loop(benchmark, n):
    x, y = _data(n, "random_outliers")
    modules = _none_modules()
    _evaluate(x, y, True)
    times = {"advisor": math.inf, "loop": math.inf}

    def measure():
        for _ in range(REPEATS):
            times["advisor"] = min(times["advisor"], _fastest(lambda: _evaluate(x, y, True), 1))
            times["loop"] = min(times["loop"], _fastest(lambda: _grad_loop(x, y, modules), 1))

    benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update({f"{k}_ms": v * 1e3 for k, v in times.items()} | {"speedup": times["loop"] / times["advisor"]})
    print(
        f"\ndiagnostics N={n:.0e}: advisor {times['advisor'] * 1e3:.1f} ms, reduction='none' + autograd.grad loop "
        f"{times['loop'] * 1e3:.1f} ms ({times['loop'] / times['advisor']:.2f}x)"
    )


def test_no_cliffs_across_layouts(benchmark):
    data = {name: _data(1_000_000, name) for name in LAYOUTS}
    for x, y in data.values():
        _evaluate(x, y, True)
    times = dict.fromkeys(LAYOUTS, math.inf)

    def measure():
        for _ in range(REPEATS):
            for name, (x, y) in data.items():
                times[name] = min(times[name], _fastest(lambda x=x, y=y: _evaluate(x, y, True), 1))

    benchmark.pedantic(measure, rounds=1, iterations=1)
    spread = max(times.values()) / min(times.values())
    benchmark.extra_info.update({f"{k}_ms": v * 1e3 for k, v in times.items()} | {"spread": spread})
    print("\nlayouts, diagnostics N=1e6: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in times.items()) + f"; spread {spread:.2f}x")
