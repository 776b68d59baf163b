"""Wall time of ``advisor.validate`` on the local backend against the Ray backend.

The grid of the validation issue's benchmark (d=20 features, K=8 regression candidates, F=5
folds, linear probe) on ``--rows`` rows for ``--epochs`` epochs. Ray runs on a local instance
started here with every CPU of the machine; each configuration runs once first (for Ray,
that starts the workers and imports torch in them; its time is printed as "first"), then
``--repeats`` timed rounds go over all configurations in turn, and the median and minimum
are printed. Each Ray configuration is also checked against the local run with the same
thread count: the reports must be identical apart from their wall time.

    python benchmarks/ray_backend_bench.py --rows 100000 --epochs 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import ray
import torch

import advisor
from advisor.validation.ray_backend import RayBackend

CANDIDATES = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "LogCoshLoss", "AdaptiveRobustLoss",
    "QuantileLoss", "TweedieLoss",
]  # fmt: skip


def data(rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 20))
    y = np.exp(0.1 * (x @ rng.normal(size=20))) * 10 + np.abs(rng.standard_t(3, rows))
    return x, y


def run(x, y, epochs: int, backend, threads: int) -> tuple[float, dict]:
    torch.set_num_threads(threads)
    options = {"task": "regression", "folds": 5, "epochs": epochs, "seed": 0, "device": "cpu"}
    started = time.perf_counter()
    report = advisor.validate(x, y, CANDIDATES, backend=backend, **options)
    return time.perf_counter() - started, report.model_dump(exclude={"elapsed_s"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    x, y = data(args.rows)

    started = time.perf_counter()
    # Keep idle workers: the rounds interleave configurations, and Ray would otherwise retire
    # a worker idle during a local run and pay a fresh one's torch import in the next round,
    # which is a start-up cost (measured apart, as the first call) and not the backend's.
    ray.init(
        num_cpus=cpus,
        include_dashboard=False,
        log_to_driver=False,
        _system_config={"kill_idle_workers_interval_ms": 0},
    )
    init_s = time.perf_counter() - started
    configs = [  # label, backend, torch threads
        (f"local, {cpus} threads", "local", cpus),
        (f"ray, 1 task x {cpus} threads", RayBackend(), cpus),
        ("local, 1 thread", "local", 1),
        (f"ray, {cpus} tasks x 1 thread", RayBackend(threads=1, groups=cpus), 1),
    ]
    print(
        f"n={args.rows} d=20 K={len(CANDIDATES)} F=5 epochs={args.epochs}, {cpus} CPUs; "
        f"ray.init took {init_s:.1f}s"
    )
    first = [run(x, y, args.epochs, b, t) for _, b, t in configs]  # warm-up: Ray starts its workers
    reports = [r for _, r in first]
    times: list[list[float]] = [[] for _ in configs]
    for _ in range(args.repeats):  # interleaved, so that load from elsewhere hits all alike
        for i, (_, backend, threads) in enumerate(configs):
            times[i].append(run(x, y, args.epochs, backend, threads)[0])
    local = {t: r for (_, b, t), r in zip(configs, reports, strict=True) if b == "local"}
    print(f"  {'configuration':<28} {'first':>8} {'median':>8} {'min':>8}  (of {args.repeats})")
    for (label, backend, threads), (cold, report), seconds in zip(configs, first, times, strict=True):
        verdict = ""
        if backend != "local":
            same = report == local[threads]
            verdict = "identical to local" if same else "DIFFERS from local"
        median, best = statistics.median(seconds), min(seconds)
        print(f"  {label:<28} {cold:7.2f}s {median:7.2f}s {best:7.2f}s  {verdict}")
    ray.shutdown()


if __name__ == "__main__":
    main()
