"""Batched K×F probe training against a sequential loop of ordinary per-model torch training.

The case from the validation issue: n=100k, d=20, K=8 regression candidates, F=5 folds,
100 epochs, linear probe; both sides use the same losses, optimizer, batch size, epochs and
training rows. The ratio is measured in the same run. Run with ``make bench`` or
``pytest benchmarks/test_validate_bench.py --benchmark-only -s``; ``BENCH_EPOCHS`` shortens it.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest
import torch

from advisor import losses
from advisor.validation.data import prepare
from advisor.validation.heads import head_for
from advisor.validation.trainer import _affine, _to_loss_inputs, train
from advisor.vocabulary import Task

N, D, FOLDS = 100_000, 20, 5
EPOCHS = int(os.environ.get("BENCH_EPOCHS", "100"))
CANDIDATES = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "LogCoshLoss", "AdaptiveRobustLoss", "QuantileLoss", "TweedieLoss",
]  # fmt: skip
RESULTS: dict[int, dict[str, float]] = {}


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, D))
    y = np.exp(0.1 * (x @ rng.normal(size=D))) * 10 + np.abs(rng.standard_t(3, N))
    data = prepare(x, y, Task.REGRESSION, FOLDS, 0)
    params = [losses.resolve_params(losses.get(n), {}) for n in CANDIDATES]
    heads = [head_for(n, p, Task.REGRESSION, 1) for n, p in zip(CANDIDATES, params, strict=True)]
    return data, heads, params


def batched(data, heads, params, batch_size):
    train(
        data, heads, params, folds=FOLDS, hidden=0, epochs=EPOCHS, batch_size=batch_size, lr=0.05, seed=0,
        device=torch.device("cpu"), budget_s=None, cancel=None, progress=None,
    )  # fmt: skip


def sequential(data, heads, params, batch_size):
    """What one would write without the advisor: one nn.Linear, one Adam, one loop per model."""
    g = torch.Generator().manual_seed(0)
    for head, p in zip(heads, params, strict=True):
        affine = _affine(head, data, torch.device("cpu"))
        for f in range(FOLDS):
            rows = (data.fold != f).nonzero().squeeze(1)
            model = torch.nn.Linear(D, head.width)
            optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
            for _ in range(EPOCHS):
                order = rows[torch.randperm(rows.numel(), generator=g)]
                for start in range(0, order.numel(), batch_size):
                    r = order[start : start + batch_size]
                    loss = head.per_sample(
                        _to_loss_inputs(model(data.x[f][r]), affine), data.y[r], p
                    ).mean()
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()


@pytest.mark.parametrize("batch_size", [1024, math.ceil(N / 16)])
@pytest.mark.parametrize("side", ["batched", "sequential"])
def test_validation_training(benchmark, case, side, batch_size):
    fn = batched if side == "batched" else sequential
    started = time.perf_counter()
    benchmark.pedantic(fn, args=(*case, batch_size), rounds=1, iterations=1)
    RESULTS.setdefault(batch_size, {})[side] = time.perf_counter() - started
    got = RESULTS[batch_size]
    if len(got) == 2:
        ratio = got["sequential"] / got["batched"]
        benchmark.extra_info["speedup"] = ratio
        print(
            f"\nK={len(CANDIDATES)} F={FOLDS} n={N} d={D} epochs={EPOCHS} batch={batch_size}: "
            f"batched {got['batched']:.1f}s, sequential {got['sequential']:.1f}s, speedup {ratio:.2f}x"
        )
