"""``advisor.evaluate`` against the anchors its targets name, in the same run, and across layouts.

The runner is ``advisor.benchmarking.anchors.run`` (also ``loss-advisor bench --anchors``): values
against a hand-fused compiled function of the same eight formulas, the ``torch.nn.functional``
loop and the memory-read bound; diagnostics against reduction='none' plus ``autograd.grad``;
the diagnostics' time over the data layouts where exact or strided schemes have slow paths.
Ratios are what to read (absolute times move by ±30% on a shared machine). ``BENCH_FULL=1``
adds N=1e7. Run with ``make bench`` or
``pytest benchmarks/test_engine_anchors_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import os

from advisor.benchmarking import anchors
from advisor.schema.benchmark import format_anchors

FULL = os.environ.get("BENCH_FULL") == "1"
SIZES = (1_000_000, *((10_000_000,) if FULL else ()))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))


def test_the_engine_against_its_anchors(benchmark):
    rows = benchmark.pedantic(anchors.run, args=(SIZES,), kwargs={"repeats": REPEATS}, rounds=1, iterations=1)
    assert [r.mode for r in rows[: 2 * len(SIZES)]] == ["values", "diagnostics"] * len(SIZES)
    for r in rows:
        key = f"{r.mode}_{r.layout}_{r.n_rows:.0e}"
        benchmark.extra_info.update({f"{key}_{side}_ms": s * 1e3 for side, s in r.seconds.items()})
    print("\n" + format_anchors(rows))
