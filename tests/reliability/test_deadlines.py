"""Suite 4: deadlines and cancellation.

A 100 ms deadline on a long validation comes back DEADLINE_EXCEEDED promptly, and the server's
log shows its training stopped within one step of being told to (with 200 rows one epoch is one
batch, so a step is a batch). A hundred cancelled calls leave no thread and no memory behind,
every one of them stopped within a step, and a normal call succeeds afterwards.
"""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest

from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from tests.reliability.calls import inline, known_good
from tests.reliability.conftest import LONG

RNG = np.random.default_rng(5)
X = RNG.standard_normal((200, 3)).astype(np.float32)
Y = X.sum(axis=1)
FOREVER = 100_000  # epochs: far longer than any test waits
CANCELLED_CALLS = 300 if LONG else 100


def _long_validation() -> pb.ValidateRequest:
    return pb.ValidateRequest(
        features=inline(X),
        targets=inline(Y),
        candidates=[pb.Candidate(loss="MSELoss")],
        task="regression",  # spares the profiling that would run before training
        folds=2,
        epochs=FOREVER,
    )


def _stops(server, since: int, count: int, timeout_s: float = 20) -> list[dict]:
    """Wait for ``count`` 'work stopped' lines after the first ``since``, and return them."""
    deadline = time.monotonic() + timeout_s
    while True:
        lines = server.events("work stopped")[since:]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _until_a_slot_is_free(stub, meta) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            known_good(stub, meta)
            return
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err
            assert time.monotonic() < deadline, "cancelled work kept its slots"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def warm(stub, meta) -> None:
    """One short validation and a few cancellations: imports, the pool's second worker and
    torch's threads all exist afterwards, so what the tests measure is steady state."""
    short = _long_validation()
    short.epochs = 2
    list(stub.Validate(short, metadata=meta, timeout=60))
    for i in range(6):
        _cancel_one(stub, meta, wait_for_progress=i % 2 == 0)
    _until_a_slot_is_free(stub, meta)


def test_a_100ms_deadline_stops_the_work_within_a_step(server, stub, meta, record, warm):
    since = len(server.events("work stopped"))
    t0 = time.perf_counter()
    call = stub.Validate(_long_validation(), metadata=meta, timeout=0.1)
    try:
        list(call)
        raise AssertionError("a 100 000-epoch validation finished within 100 ms")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED, err
    elapsed = time.perf_counter() - t0
    assert elapsed < 3.0, f"DEADLINE_EXCEEDED took {elapsed:.2f} s"
    stops = [line for line in _stops(server, since, 1) if line["of"] == "Validate"]
    assert stops, "the server never logged that the work stopped"
    stopped = stops[-1]
    assert stopped["steps_after_cancel"] <= 1, stopped
    record(
        suite="deadline",
        returned_ms=round(elapsed * 1000, 1),
        steps_after_cancel=stopped["steps_after_cancel"],
        stopped_ms=stopped["stopped_ms"],
    )
    _until_a_slot_is_free(stub, meta)


def _cancel_one(stub, meta, wait_for_progress: bool) -> None:
    while True:
        call = stub.Validate(_long_validation(), metadata=meta, timeout=60)
        if not wait_for_progress:
            call.cancel()
            return
        try:
            next(call)
        except grpc.RpcError as err:
            # Slots of the previous calls free up within a step; try again until one is.
            assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err
            time.sleep(0.02)
            continue
        call.cancel()
        return


def test_cancelled_calls_leak_nothing(server, stub, meta, record, warm):
    _until_a_slot_is_free(stub, meta)
    time.sleep(0.5)
    threads_before, rss_before = server.threads(), server.rss_bytes()
    since = len(server.events("work stopped"))
    for i in range(CANCELLED_CALLS):
        _cancel_one(stub, meta, wait_for_progress=i % 4 != 0)
    _until_a_slot_is_free(stub, meta)
    stops = _stops(server, since, CANCELLED_CALLS * 3 // 4)
    time.sleep(0.5)  # let grpc retire the cancelled calls' bookkeeping
    threads_after, rss_after = server.threads(), server.rss_bytes()
    record(
        suite="cancel",
        cancelled=CANCELLED_CALLS,
        threads_before=threads_before,
        threads_after=threads_after,
        rss_before_mb=round(rss_before / 2**20, 1),
        rss_after_mb=round(rss_after / 2**20, 1),
        max_steps_after_cancel=max(s["steps_after_cancel"] for s in stops),
    )
    assert len(stops) >= CANCELLED_CALLS * 3 // 4  # every call that got going was stopped
    assert max(s["steps_after_cancel"] for s in stops) <= 1
    assert threads_after <= threads_before, (threads_before, threads_after)
    assert rss_after - rss_before < 20 * 2**20
    known_good(stub, meta)
