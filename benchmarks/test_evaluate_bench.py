"""Fused ``advisor.evaluate`` against a Python loop of torch.nn losses, per benchmark case.

Each test runs ``advisor.benchmarking.throughput.run`` for one case in both modes (values only, with
diagnostics); the ratios of the same run go to ``benchmark.extra_info`` and the table is
printed. ``BENCH_FULL=1`` adds the 1e7-row regression case. Run with ``make bench`` or
``pytest benchmarks/test_evaluate_bench.py --benchmark-only -s``; ``BENCH_REPEATS`` sets the
timed calls per side (default 3).
"""

from __future__ import annotations

import os

import pytest

from advisor.benchmarking import throughput

FULL = os.environ.get("BENCH_FULL") == "1"
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
CASES = ["regression-1e6", "multiclass-5e5-c32", "multiclass-5e5-c1000"] + (["regression-1e7"] if FULL else [])


@pytest.mark.parametrize("case", CASES)
def test_evaluate_throughput(benchmark, case):
    rows = benchmark.pedantic(throughput.run, args=([case],), kwargs={"repeats": REPEATS}, rounds=1, iterations=1)
    for row in rows:
        mode = "diagnostics" if row.diagnostics else "values"
        benchmark.extra_info[f"{mode}_speedup"] = row.speedup
        benchmark.extra_info[f"{mode}_fused_over_single"] = row.fused_over_single
        benchmark.extra_info[f"{mode}_fused_ms"] = row.fused_s * 1e3
        benchmark.extra_info[f"{mode}_gb_per_s"] = row.gb_per_s
        benchmark.extra_info[f"{mode}_peak_extra_bytes"] = row.peak_extra_bytes
        benchmark.extra_info[f"{mode}_loop_ms"] = row.loop_s * 1e3
        benchmark.extra_info[f"{mode}_read_bound_ms"] = row.read_bound_s * 1e3
        benchmark.extra_info[f"{mode}_compile_cold_s"] = row.compile_cold_s
        benchmark.extra_info[f"{mode}_compile_warm_s"] = row.compile_warm_s
    print("\n" + throughput.format_table(rows))
