"""No work outlives its call: every computing RPC × every way a call ends early.

For each method, a call whose work would run for seconds ends early in one of three ways: its
deadline passes, its client cancels it (closing the channel resets the stream), or its client
process is killed mid-call. In each case the one-slot server must serve a following small call
within a second of the call's end: the work stopped, and freed its slot. The server's log says
how long each work ran on after its stop signal (``stopped_ms``).

The server computes with one thread (``OMP_NUM_THREADS=1``) and evaluates eagerly: on a shared
two-core machine, a computation's threads contend with every other process for the cores, and
one step of it (a tree-growing step, a chunk) then takes many times its usual time; with one
thread a step's time depends on the code, which is what is measured here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from advisor import errors
from client import AdvisorClient
from client.arrays import DatasetRef
from client.errors import DeadlineExceededError
from tests.service.conftest import ROOT, ServerProcess

RNG = np.random.default_rng(11)
X = RNG.standard_normal((200, 3)).astype(np.float32)
Y = X.sum(axis=1)
FOREVER = 100_000  # epochs: far longer than any test waits
STOP_S = 1.0  # the promise: a call's work stops (and frees its slot) within this of its end
STARTED_S = 0.8  # the first call runs this long before it is ended: well inside its work
#: ~40 candidates over 4e6 rows: an eager evaluation of several seconds
HUBER = [{"loss": "HuberLoss", "params": {"delta": round(d, 4)}} for d in np.geomspace(0.05, 20, 34)]
MANY = ["MSELoss", "L1Loss", "SmoothL1Loss", "LogCoshLoss", "AdaptiveRobustLoss", *HUBER]

#: method -> the long call, made by ``client`` on the uploaded dataset ``dataset_id``. Profile
#: and Recommend read a million rows of 20 features with ten integer codes as targets: the
#: readings and the baselines (a ten-class gradient-boosting classifier among them) take
#: several seconds; Validate trains without end; Benchmark runs its quick set.
CALLS: dict[str, Callable[..., Any]] = {
    "Profile": lambda c, d, **kw: c.profile(DatasetRef(d, "y"), features=DatasetRef(d, "x"), **kw),
    "Recommend": lambda c, d, **kw: c.recommend(DatasetRef(d, "y"), features=DatasetRef(d, "x"), **kw),
    "Evaluate": lambda c, d, **kw: c.evaluate(DatasetRef(d, "p"), DatasetRef(d, "t"), MANY, **kw),
    "Validate": lambda c, d, **kw: c.validate(X, Y, ["MSELoss"], folds=2, epochs=FOREVER, **kw),
    "Benchmark": lambda c, d, **kw: c.benchmark(**kw),
}

# The killed client: it makes the long call, and says so just before; the test kills it.
KILLED = """
import sys
from client import AdvisorClient
from tests.service.test_cancellation import CALLS
with AdvisorClient(sys.argv[1], timeout=60, retries=0) as c:
    print("calling", flush=True)
    CALLS[sys.argv[2]](c, sys.argv[3])
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADVISOR_EVAL_MODE", "eager")
        mp.setenv("OMP_NUM_THREADS", "1")
        proc = ServerProcess(
            tmp_path_factory.mktemp("one-slot"), "--max-concurrency", "1", "--store-mb", "256"
        )
    yield proc
    assert proc.stop() == 0, proc.tail()
    assert not any("never retrieved" in str(line) for line in proc.lines()), proc.tail()


@pytest.fixture(scope="module")
def dataset(one_slot) -> str:
    """The long calls' inputs, uploaded once: their requests carry only references."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1_000_000, 20), dtype=np.float32)
    codes = np.digitize(x[:, 0] + 0.5 * rng.standard_normal(x.shape[0]), np.linspace(-2, 2, 9))
    t = rng.standard_normal(4_000_000, dtype=np.float32)
    with AdvisorClient(one_slot.target, timeout=120) as c:
        uploaded = c.upload(x=x, y=codes.astype(np.int32), p=t + rng.standard_normal(t.size, dtype=np.float32), t=t)
    return uploaded.dataset_id


def _served_within(client: AdvisorClient, ended: float) -> float:
    """Seconds from ``ended`` until the one slot served a small call; fails past ``STOP_S``."""
    while True:
        try:
            assert client.profile(Y).targets.n == 200
            return time.monotonic() - ended
        except errors.CapacityError:
            assert time.monotonic() - ended < STOP_S, "the ended call's work kept its slot"
            time.sleep(0.02)


def _assert_busy(client: AdvisorClient) -> None:
    """The long call holds the slot: a small call is refused (and takes no slot)."""
    with pytest.raises(errors.CapacityError):
        client.profile(Y)


def _deadline(server: ServerProcess, method: str, dataset_id: str) -> float:
    with AdvisorClient(server.target, timeout=60) as c:
        with pytest.raises(DeadlineExceededError):
            CALLS[method](c, dataset_id, timeout=STARTED_S)
        return _served_within(c, time.monotonic())


def _client_cancel(server: ServerProcess, method: str, dataset_id: str) -> float:
    failed: list[BaseException] = []
    caller = AdvisorClient(server.target, timeout=60, retries=0)

    def call() -> None:
        try:
            CALLS[method](caller, dataset_id)
        except BaseException as exc:  # the cancellation this test causes
            failed.append(exc)

    worker = threading.Thread(target=call)
    with AdvisorClient(server.target, timeout=60) as c:
        worker.start()
        time.sleep(STARTED_S)
        _assert_busy(c)
        caller.close()  # the channel's calls end: each stream is reset (CANCEL)
        ended = time.monotonic()
        took = _served_within(c, ended)
    worker.join(10)
    assert [type(f).__name__ for f in failed] == ["CancelledError"], failed
    return took


def _client_killed(server: ServerProcess, method: str, dataset_id: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, server.target, method, dataset_id],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "calling", proc.stdout.read()
        with AdvisorClient(server.target, timeout=60) as c:
            time.sleep(STARTED_S)
            _assert_busy(c)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            return _served_within(c, time.monotonic())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


ENDINGS = {"deadline": _deadline, "client cancel": _client_cancel, "client killed": _client_killed}


@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("method", list(CALLS))
def test_an_ended_call_frees_the_one_slot_within_a_second(one_slot, dataset, method, ending, record):
    before = len(_stops(one_slot, method))
    took = ENDINGS[ending](one_slot, method, dataset)
    stops = _stops(one_slot, method)[before:]
    assert len(stops) == 1, one_slot.tail()
    # the work ran on this long after its signal; none of it is left once the slot serves again
    assert stops[0]["stopped_ms"] < STOP_S * 1000, stops
    print(f"{method} {ending}: stopped {stops[0]['stopped_ms']:.0f} ms after its signal, next call served {took * 1000:.0f} ms after the call ended")
    record(suite="stop", method=method, ending=ending, stopped_ms=stops[0]["stopped_ms"], served_ms=took * 1000)


def _stops(server: ServerProcess, method: str) -> list[dict]:
    return [line for line in server.lines() if line.get("event") == "work stopped" and line.get("of") == method]
