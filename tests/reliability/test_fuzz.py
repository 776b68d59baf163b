"""Suite 1: fuzzing the contract.

Hypothesis sends schema-valid but hostile requests to every RPC (``strategies``) and each outcome
is judged against the contract (``calls.judge``): no crash, no UNKNOWN or INTERNAL, every
refusal naming a field that exists in the request. Raw garbage also goes at the socket, both
below gRPC (random bytes, a broken HTTP/2 stream) and inside it (undecodable messages). After
all of it a known-good request must still give the right number, and the server's resident
memory must have grown by less than 50 MB. INTERNAL is allowed only for the library defects
listed in ``known`` (each is a bug in ``advisor``, reported, and counted in the figures).

The soak is the same attack kept up for long enough that a leak has to show: after a warm-up,
10,000 hostile calls (300 in the quick form), half the fuzz mix and half an equal share for
each method, against the one server process, whose resident memory must then have grown by
less than 50 MB.
"""

from __future__ import annotations

import os
import random
import socket
import time
from collections import Counter

import grpc
import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from tests.reliability import known, strategies
from tests.reliability.calls import inline, invoke, judge, known_good
from tests.reliability.conftest import LONG
from tests.reliability.harness import SERVICE

REQUESTS = 2500 if LONG else 300
SOAK_CALLS = 10_000 if LONG else 300
WARMUP_REQUESTS = 60
MEMORY_LIMIT = 50 * 1024 * 1024
METHODS = [
    "Profile",
    "Recommend",
    "Evaluate",
    "Validate",
    "ListLosses",
    "Benchmark",
    "UploadDataset",
    "DeleteDataset",
]


def _warm(stub, meta) -> None:
    """Every code path a fuzzed request can reach, once, so what is left to grow is a leak."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = x.sum(axis=1)
    labels = (y > 0).astype(np.int64)
    for _ in range(2):
        known_good(stub, meta)
        stub.Profile(pb.ProfileRequest(targets=inline(y), features=inline(x)), metadata=meta)
        stub.Recommend(pb.RecommendRequest(targets=inline(labels)), metadata=meta)
        for preds, targets in ((y, y), (x, labels), (y, labels.astype(np.float32))):
            stub.Evaluate(
                pb.EvaluateRequest(predictions=[inline(preds)], targets=inline(targets)),
                metadata=meta,
            )
        for model, target in (("linear", y), ("mlp", labels)):
            list(
                stub.Validate(
                    pb.ValidateRequest(
                        features=inline(x), targets=inline(target), epochs=2, folds=2, model=model
                    ),
                    metadata=meta,
                )
            )
        stub.ListLosses(pb.ListLossesRequest(), metadata=meta)


def _known_defect(server, outcome) -> str | None:
    """The name of the library defect behind an INTERNAL, when it is a known one."""
    if outcome.code != grpc.StatusCode.INTERNAL:
        return None
    ref = known.reference(outcome.error.details())
    defect = known.classify(known.traceback_for(server.lines(), ref)) if ref else None
    return defect.name if defect else None


def _fuzz(
    server,
    stub,
    meta,
    count: int,
    seen: Counter,
    broken: list[str],
    defects: Counter,
    methods: Counter | None = None,
    strategy=strategies.calls,
):
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking in the long form: a failure is reported as found, with its request.
        phases=[Phase.generate] if LONG else [Phase.generate, Phase.shrink],
    )
    @given(call=strategy)
    def attack(call):
        outcome = invoke(stub, call, meta)
        seen[outcome.code.name] += 1
        if methods is not None:
            methods[call.method] += 1
        problem = judge(call, outcome)
        defect = _known_defect(server, outcome)
        if defect is not None:
            defects[defect] += 1
            problem = None
        if problem is not None:
            broken.append(f"{call.method}: {problem}")
        assert server.alive(), f"server died on {call.method}:\n{server.tail()}"
        assert problem is None, (
            f"{call.method}: {problem}\nrequest: {call.request}\n{_last_traceback(server)}"
        )

    attack()


def _last_traceback(server) -> str:
    logged = [line["traceback"] for line in server.lines() if "traceback" in line]
    return f"server traceback:\n{logged[-1]}" if logged else ""


def test_hostile_requests_keep_the_contract(server, stub, meta, record):
    _warm(stub, meta)
    _fuzz(server, stub, meta, WARMUP_REQUESTS, Counter(), [], Counter())
    before = server.rss_bytes()
    seen: Counter = Counter()
    broken: list[str] = []
    defects: Counter = Counter()
    started = time.perf_counter()
    _fuzz(server, stub, meta, REQUESTS, seen, broken, defects)
    elapsed = time.perf_counter() - started
    known_good(stub, meta)
    after = server.rss_bytes()
    record(
        suite="fuzz",
        requests=sum(seen.values()),
        seconds=round(elapsed, 1),
        statuses=dict(seen),
        crashes=0 if server.alive() else 1,
        contract_breaches=len(broken),
        known_defects=dict(defects),
        rss_before_mb=round(before / 2**20, 1),
        rss_after_mb=round(after / 2**20, 1),
    )
    assert seen["UNKNOWN"] == 0, seen
    assert seen["INTERNAL"] == sum(defects.values()), (seen, defects)
    assert sum(seen.values()) >= REQUESTS * 0.9
    assert after - before < MEMORY_LIMIT, f"RSS grew {(after - before) / 2**20:.1f} MB"


def test_memory_stays_flat_over_a_soak(server, stub, meta, record):
    _warm(stub, meta)
    _fuzz(server, stub, meta, WARMUP_REQUESTS, Counter(), [], Counter())
    before = server.rss_bytes()
    seen: Counter = Counter()
    methods: Counter = Counter()
    defects: Counter = Counter()
    started = time.perf_counter()
    # Half the fuzz mix, half an equal share per method, so that every method is soaked.
    share = SOAK_CALLS // 2 // len(METHODS)
    _fuzz(server, stub, meta, SOAK_CALLS - share * len(METHODS), seen, [], defects, methods)
    for method in METHODS:
        strategy = strategies.by_method[method]
        _fuzz(server, stub, meta, share, seen, [], defects, methods, strategy)
    elapsed = time.perf_counter() - started
    known_good(stub, meta)
    after = server.rss_bytes()
    record(
        suite="soak",
        calls=sum(seen.values()),
        seconds=round(elapsed, 1),
        methods=dict(methods),
        statuses=dict(seen),
        known_defects=dict(defects),
        rss_before_mb=round(before / 2**20, 1),
        rss_after_mb=round(after / 2**20, 1),
        growth_mb=round((after - before) / 2**20, 1),
    )
    assert server.alive(), server.tail()
    assert set(methods) == set(METHODS), methods
    assert seen["UNKNOWN"] == 0, seen
    assert seen["INTERNAL"] == sum(defects.values()), (seen, defects)
    assert sum(seen.values()) >= SOAK_CALLS * 0.9
    assert after - before < MEMORY_LIMIT, f"RSS grew {(after - before) / 2**20:.1f} MB"


def _raw(port: int, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(payload)
            sock.settimeout(0.2)
            sock.recv(4096)
        except OSError:
            pass  # the server may drop us at once, which is exactly right


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def test_raw_bytes_at_the_socket(server, channel, stub, meta, record):
    rng = random.Random(int(os.environ.get("RELIABILITY_SEED", "5")))
    rounds = 400 if LONG else 40
    for i in range(rounds):
        garbage = rng.randbytes(rng.randint(0, 4096))
        # Below gRPC: pure noise, then a valid HTTP/2 preface followed by broken frames.
        _raw(server.port, garbage if i % 2 else PREFACE + garbage)
    seen: Counter = Counter()
    for i in range(rounds):
        method = METHODS[i % len(METHODS)]
        body = rng.randbytes(rng.randint(0, 512))
        path = f"/{SERVICE}/{method}"
        try:
            if method == "UploadDataset":
                channel.stream_unary(path)(iter([body, body]), metadata=meta, timeout=10)
            elif method == "Validate":
                list(channel.unary_stream(path)(body, metadata=meta, timeout=10))
            else:
                channel.unary_unary(path)(body, metadata=meta, timeout=10)
            seen["OK"] += 1
        except grpc.RpcError as err:
            seen[err.code().name] += 1
    assert server.alive(), server.tail()
    known_good(stub, meta)
    record(suite="raw", connections=rounds, messages=rounds, statuses=dict(seen))
    # An undecodable message is the framework's to refuse; it must never look like our bug.
    assert seen["UNKNOWN"] == 0, seen
