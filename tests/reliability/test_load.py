"""Suite 3: load over loopback.

Clients, each on its own channel, send a mix of small, medium and large requests for a fixed
time. At the concurrency limit nothing fails. Over it, the surplus is refused with
RESOURCE_EXHAUSTED at once (never queued into a hang, never a deadline), and the server's own
log shows the number of computations running together never exceeded the limit.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import grpc
import numpy as np

from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc
from tests.reliability.calls import inline
from tests.reliability.conftest import CONCURRENCY, LONG

SECONDS = 30.0 if LONG else 4.0
DEADLINE_S = 30.0
RNG = np.random.default_rng(3)


def _mix() -> list[tuple[str, object]]:
    """Requests of three sizes: 64, 4 096 and 65 536 rows."""
    out = []
    for rows in (64, 4096, 65536):
        preds = RNG.standard_normal(rows).astype(np.float32)
        targets = RNG.standard_normal(rows).astype(np.float32)
        out.append(
            (
                "Evaluate",
                pb.EvaluateRequest(
                    predictions=[inline(preds)],
                    targets=inline(targets),
                    candidates=[pb.Candidate(loss="MSELoss"), pb.Candidate(loss="HuberLoss")],
                    diagnostics=False,
                ),
            )
        )
        out.append(("Profile", pb.ProfileRequest(targets=inline(targets))))
    return out


@dataclass
class Tally:
    ok_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)
    other: Counter = field(default_factory=Counter)


def _run(target: str, meta, clients: int, seconds: float) -> Tally:
    mix = _mix()
    tally = Tally()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with grpc.insecure_channel(target) as channel:
            stub = pb_grpc.LossAdvisorStub(channel)
            while time.monotonic() < stop_at:
                method, request = rng.choice(mix)
                t0 = time.perf_counter()
                try:
                    getattr(stub, method)(request, metadata=meta, timeout=DEADLINE_S)
                    outcome = "ok"
                except grpc.RpcError as err:
                    outcome = err.code().name
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    if outcome == "ok":
                        tally.ok_ms.append(ms)
                    elif outcome == "RESOURCE_EXHAUSTED":
                        tally.refused_ms.append(ms)
                    else:
                        tally.other[outcome] += 1
                if outcome == "RESOURCE_EXHAUSTED":
                    time.sleep(0.005)  # what a polite client does; keeps the test from spinning

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + DEADLINE_S + 30)
    assert not any(t.is_alive() for t in threads), "a client hung"
    return tally


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _figures(tally: Tally, clients: int, seconds: float) -> dict:
    return {
        "clients": clients,
        "seconds": seconds,
        "completed": len(tally.ok_ms),
        "req_per_s": round(len(tally.ok_ms) / seconds, 1),
        "p50_ms": round(_pct(tally.ok_ms, 50), 1),
        "p99_ms": round(_pct(tally.ok_ms, 99), 1),
        "refused": len(tally.refused_ms),
        "refused_p99_ms": round(_pct(tally.refused_ms, 99), 1) if tally.refused_ms else None,
        "other_errors": dict(tally.other),
    }


def _peak_active(server, since: int) -> int:
    return max((line.get("active", 0) for line in server.rpc_lines()[since:]), default=0)


def test_at_the_limit_nothing_fails(server, meta, record):
    since = len(server.rpc_lines())
    tally = _run(server.target, meta, CONCURRENCY, SECONDS)
    record(suite="load", **_figures(tally, CONCURRENCY, SECONDS))
    assert not tally.other and not tally.refused_ms, _figures(tally, CONCURRENCY, SECONDS)
    assert tally.ok_ms
    assert _peak_active(server, since) <= CONCURRENCY


def test_over_the_limit_is_refused_fast_and_the_cap_holds(server, meta, record):
    clients = 4 * CONCURRENCY
    since = len(server.rpc_lines())
    tally = _run(server.target, meta, clients, SECONDS)
    figures = _figures(tally, clients, SECONDS)
    record(suite="overload", **figures)
    assert not tally.other, figures  # no deadline, no UNAVAILABLE, no INTERNAL
    assert tally.ok_ms and tally.refused_ms, figures
    # Refusals are immediate: generously bounded on a loaded 2-core machine, far from a hang.
    assert _pct(tally.refused_ms, 99) < 2000, figures
    peak = _peak_active(server, since)
    assert 0 < peak <= CONCURRENCY, peak
