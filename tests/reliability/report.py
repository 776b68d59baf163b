"""Run the reliability suites' long forms and print their figures as a Markdown table.

``python -m tests.reliability.report`` runs ``pytest tests/reliability`` and the lifecycle
tests of ``tests/service`` (``LIFECYCLE``) with ``RELIABILITY_LONG=1`` and prints the table
for the README's "Reliability" section;
``--from FILE`` formats figures recorded earlier (``RELIABILITY_REPORT=FILE``) without running
anything. The exit status is pytest's, so a failing suite fails ``make reliability`` too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


#: The lifecycle tests whose figures join the table: stopping work, SIGTERM, time to SERVING.
LIFECYCLE = (
    "tests/service/test_cancellation.py",
    "tests/service/test_shutdown.py",
    "tests/service/test_readiness.py",
)


def _load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _by_suite(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row.get("suite", "?"), []).append(row)
    return out


def _statuses(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _mb(value: float) -> str:
    return f"{value:.0f} MB"


def table(rows: list[dict]) -> str:
    suites = _by_suite(rows)
    lines = ["| Check | Figure |", "|---|---|"]

    def add(check: str, figure: str) -> None:
        lines.append(f"| {check} | {figure} |")

    for fuzz in suites.get("fuzz", []):
        add("Requests fuzzed (every RPC)", f"{fuzz['requests']} in {fuzz['seconds']} s")
        add("Server crashes", str(fuzz["crashes"]))
        add("Statuses seen", _statuses(fuzz["statuses"]))
        add(
            "Contract breaches (wrong code, or a field path not in the request)",
            str(fuzz["contract_breaches"]),
        )
        defects = fuzz.get("known_defects") or {}
        if defects:
            add(
                "INTERNAL from known library defects",
                "; ".join(f"{n} × {name}" for name, n in defects.items()),
            )
        add(
            "Server memory, fuzzing",
            f"{_mb(fuzz['rss_before_mb'])} before, {_mb(fuzz['rss_after_mb'])} after",
        )
    for soak in suites.get("soak", []):
        add(
            "Server memory, soak (hostile calls over every RPC after a warm-up)",
            f"{soak['calls']} calls in {soak['seconds']} s: {_mb(soak['rss_before_mb'])} before, "
            f"{_mb(soak['rss_after_mb'])} after ({soak['growth_mb']:+.1f} MB)",
        )
        defects = soak.get("known_defects") or {}
        if defects:
            add(
                "INTERNAL from known library defects, soak",
                "; ".join(f"{n} × {name}" for name, n in defects.items()),
            )
    for raw in suites.get("raw", []):
        add(
            "Garbage at the socket",
            f"{raw['connections']} raw connections, "
            f"{raw['messages']} undecodable messages: {_statuses(raw['statuses'])}",
        )
    for lies in suites.get("lies", []):
        add(
            "Lying sizes during honest traffic",
            f"{lies['lies_sent']} lies, "
            f"{lies['honest_calls']} honest calls, {lies['problems']} changed or failed results",
        )
    for load in suites.get("load", []):
        add(
            "Load held at the limit",
            f"{load['clients']} clients × {load['seconds']:.0f} s: "
            f"{load['req_per_s']} req/s, p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms, "
            f"{load['refused']} refused, errors {load['other_errors'] or 0}",
        )
    for over in suites.get("overload", []):
        add(
            "Overload",
            f"{over['clients']} clients: {over['req_per_s']} req/s served "
            f"(p99 {over['p99_ms']} ms), {over['refused']} refused with RESOURCE_EXHAUSTED "
            f"(p99 {over['refused_p99_ms']} ms), other errors {over['other_errors'] or 0}",
        )
    for deadline in suites.get("deadline", []):
        add(
            "100 ms deadline on a long validation",
            f"DEADLINE_EXCEEDED after "
            f"{deadline['returned_ms']} ms; training steps run after the stop signal: "
            f"{deadline['steps_after_cancel']}",
        )
    for cancel in suites.get("cancel", []):
        add(
            "Cancelled calls",
            f"{cancel['cancelled']}: threads {cancel['threads_before']} → "
            f"{cancel['threads_after']}, memory {_mb(cancel['rss_before_mb'])} → "
            f"{_mb(cancel['rss_after_mb'])}, training steps after cancel: at most "
            f"{cancel['max_steps_after_cancel']}",
        )
    faults: Counter = Counter()
    survived: Counter = Counter()
    for fault in suites.get("faults", []):
        faults[fault["fault"]] += fault["injected"]
        survived[fault["fault"]] += fault["injected"] if fault["survived"] else 0
    if faults:
        add(
            "Faults injected / survived",
            "; ".join(f"{name}: {faults[name]}/{survived[name]}" for name in faults),
        )
    for store in suites.get("store", []):
        add(
            "Dataset store",
            f"{store['uploads']} uploads, {store['evictions']} LRU evictions "
            f"logged, peak {store['peak_bytes'] / 2**20:.1f} MiB of an 8 MiB budget",
        )
    for serving in suites.get("serving", []):
        add(
            "Time to SERVING (process start to health SERVING, default warm-up)",
            f"first start {serving['first_s']:.1f} s, second start {serving['second_s']:.1f} s",
        )
    sigterm = suites.get("sigterm", [])
    if sigterm:
        add(
            "SIGTERM to exit (within grace + 2 s)",
            "; ".join(f"{r['case']} {r['exit_s']:.2f} s (grace {r['grace_s']} s)" for r in sigterm),
        )
    stops: dict[str, list[str]] = {}
    for stop in suites.get("stop", []):
        stops.setdefault(stop["method"], []).append(
            f"{stop['ending']} {stop['stopped_ms']:.0f} / {stop['served_ms']:.0f} ms"
        )
    if stops:
        add(
            "Work stopped after a deadline, a client cancel, a killed client (ms from the signal"
            " to the work's end / from the call's end to the next call served, one-slot server)",
            "; ".join(f"{method}: {', '.join(cells)}" for method, cells in stops.items()),
        )
    for auth in suites.get("auth", []):
        add(
            "Calls without a valid token",
            f"{auth['denied_calls']} refused, {auth['reached_handler']} reached a handler",
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.report")
    parser.add_argument("--from", dest="source", type=Path, help="format recorded figures only")
    args, pytest_args = parser.parse_known_args(argv)
    if args.source:
        print(table(_load(args.source)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.jsonl"
        env = {**os.environ, "RELIABILITY_LONG": "1", "RELIABILITY_REPORT": str(figures)}
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "-q", "tests/reliability", *LIFECYCLE, *pytest_args],
            cwd=ROOT,
            env=env,
        )
        print()
        print(table(_load(figures)))
    return code


if __name__ == "__main__":
    sys.exit(main())
