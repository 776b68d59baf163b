"""A long-lived process against a fresh one: the benchmark cases before and after mixed requests.

The runner is ``advisor.benchmarking.longlived.run`` (also ``loss-advisor bench --long-lived``):
the regression (N=1e6) and multiclass (N=5e5, C=32) cases, values only and with diagnostics,
timed right after compiling them, then again after ``BENCH_REQUESTS`` (default 1,000) seeded
mixed requests (every family, subsets of candidates, sizes across the eager/compiled
crossover, float16/32/64, weights, layouts). Read the after/fresh ratios and the counters:
evictions, fallbacks and recompile-limit hits. Run with ``make bench`` or
``pytest benchmarks/test_long_lived_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import os

from advisor.benchmarking import longlived

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))


def test_a_long_lived_process_against_a_fresh_one(benchmark):
    report = benchmark.pedantic(longlived.run, args=(REQUESTS,), rounds=1, iterations=1)
    assert report.requests == REQUESTS and len(report.rows) == 2 * len(longlived.TIMED)
    for r in report.rows:
        key = f"{r.case}_{'diagnostics' if r.diagnostics else 'values'}"
        benchmark.extra_info.update({f"{key}_fresh_ms": r.fresh_s * 1e3, f"{key}_after_ms": r.after_s * 1e3})
    benchmark.extra_info.update(report.counters)
    print("\n" + report.format())
