"""The Benchmark RPC: ``advisor.benchmarking.throughput.run`` on the serving device, rows as JSON dicts.

The RPC and ``loss-advisor bench`` print the same rows because both call the same runner.
The request carries one ``diagnostics`` flag, so a reply has one mode per case. Each row is the
runner's ``BenchRow`` plus the fields the reply had before the runner existed (``seconds``,
``rows``, ``candidates``, ``rows_per_s``), and ``LEGACY_CASES`` keeps the one case name clients
used before that has an identical case in the runner, so existing callers keep working.
"""

from __future__ import annotations

from typing import Any

#: a name the RPC accepted before -> the runner's case it measured (same family and size)
LEGACY_CASES = {"regression-100k": "regression-1e5"}


def run(cases: list[str], diagnostics: bool, device: str, cancel: Any = None) -> tuple[str, list[dict[str, Any]]]:
    """(device used, one dict per case); unknown names raise ``InvalidInputError`` at ``cases[i]``.

    No case named runs the quick set (seconds, no subprocess probes): the full cases take
    minutes and only run when asked for by name. ``cancel`` stops the run between timed calls.
    """
    from advisor.benchmarking import throughput

    asked = list(cases)
    rows = throughput.run(
        [LEGACY_CASES.get(c, c) for c in asked] or None,
        diagnostics=bool(diagnostics),
        device=device,
        quick=not asked,
        cancel=cancel,
    )
    out = []
    for i, row in enumerate(rows):
        d = row.model_dump()
        if asked:
            d["case"] = asked[i]
        d.update(seconds=row.fused_s, rows=row.n_rows, candidates=row.k, rows_per_s=row.n_rows / row.fused_s)
        out.append(d)
    return (rows[0].device if rows else device), out
