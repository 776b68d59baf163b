"""Throughput of ``advisor.evaluate`` on the serving device, for the Benchmark RPC.

Uses the library's own runner (``advisor.evaluation.bench.run``) when it is present so that the
RPC and ``loss-advisor bench`` print the same rows; otherwise times a few standard cases here.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from advisor.errors import InvalidInputError

#: case name -> (family, rows, classes)
CASES: dict[str, tuple[str, int, int]] = {
    "regression-100k": ("regression", 100_000, 0),
    "binary-100k": ("binary", 100_000, 0),
    "multiclass-100k-x10": ("multiclass", 100_000, 10),
}
REPEATS = 3


def run(cases: list[str], diagnostics: bool, device: str) -> tuple[str, list[dict[str, Any]]]:
    try:
        library = importlib.import_module("advisor.evaluation.bench")
    except ImportError:
        library = None
    if library is not None and hasattr(library, "run"):
        rows = library.run(cases=cases or None, diagnostics=diagnostics, device=device)
        rows = [dict(r) if not hasattr(r, "model_dump") else r.model_dump() for r in rows]
        return (rows[0].get("device", device) if rows else device), rows
    return _fallback(cases, diagnostics, device)


def _fallback(cases: list[str], diagnostics: bool, device: str) -> tuple[str, list[dict[str, Any]]]:
    import numpy as np

    import advisor

    chosen = cases or list(CASES)
    for i, name in enumerate(chosen):
        if name not in CASES:
            raise InvalidInputError(
                f"unknown benchmark case {name!r}",
                field=f"cases[{i}]",
                expected=list(CASES),
                got=name,
            )
    rows: list[dict[str, Any]] = []
    used = device
    rng = np.random.default_rng(0)
    for name in chosen:
        family, n, k = CASES[name]
        if family == "regression":
            preds = rng.standard_normal(n, dtype=np.float32)
            targets = rng.standard_normal(n, dtype=np.float32)
        elif family == "binary":
            preds = rng.standard_normal(n, dtype=np.float32)
            targets = (rng.random(n) < 0.3).astype(np.float32)
        else:
            preds = rng.standard_normal((n, k), dtype=np.float32)
            targets = rng.integers(0, k, n)
        report = advisor.evaluate(preds, targets, device=device, diagnostics=diagnostics)
        best = float("inf")
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            report = advisor.evaluate(preds, targets, device=device, diagnostics=diagnostics)
            best = min(best, time.perf_counter() - t0)
        used = report.device
        rows.append(
            {
                "case": name,
                "rows": n,
                "candidates": len(report.results),
                "diagnostics": diagnostics,
                "seconds": best,
                "rows_per_s": n / best if best > 0 else None,
                "device": report.device,
            }
        )
    return used, rows
