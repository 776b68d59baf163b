"""Deadlines, overload, graceful drain, TLS and the light client, each against a real server."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from advisor import errors
from client import AdvisorClient
from client.errors import DeadlineExceededError
from tests.service.conftest import ROOT, TOKEN, ServerProcess

RNG = np.random.default_rng(3)
X = RNG.standard_normal((200, 3)).astype(np.float32)
Y = X.sum(axis=1)
FOREVER = 100_000  # epochs: far longer than any test waits


def test_deadline_stops_the_computation_and_frees_the_slot(client, server):
    for _ in range(2):  # as many as the server computes at once
        with pytest.raises(DeadlineExceededError):
            client.validate(X, Y, ["MSELoss"], folds=2, epochs=FOREVER, timeout=1.0)
    _wait_for_a_free_slot(client)
    statuses = [line["status"] for line in server.rpc_lines("Validate")]
    assert statuses.count("DEADLINE_EXCEEDED") + statuses.count("CANCELLED") >= 2


def test_over_the_concurrency_limit_is_refused_at_once(client, server):
    cancels = [threading.Event(), threading.Event()]
    started = [threading.Event(), threading.Event()]
    failures: list[BaseException] = []

    def busy(i: int) -> None:
        # Slots of the previous test's cancelled calls free up within an epoch; wait for them.
        deadline = time.monotonic() + 15
        while True:
            try:
                client.validate(
                    X,
                    Y,
                    ["MSELoss"],
                    folds=2,
                    epochs=FOREVER,
                    cancel=cancels[i],
                    progress=lambda *_: started[i].set(),
                )
            except errors.CapacityError:
                if time.monotonic() < deadline and not started[i].is_set():
                    time.sleep(0.1)
                    continue
                raise
            except BaseException as exc:  # the cancellation we cause
                failures.append(exc)
            return

    threads = [threading.Thread(target=busy, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    try:
        assert all(e.wait(30) for e in started)
        t0 = time.perf_counter()
        with pytest.raises(errors.CapacityError):
            client.profile(Y)
        assert time.perf_counter() - t0 < 2.0
        assert client.list_losses()  # cheap calls are not counted
    finally:
        for e in cancels:
            e.set()
        for t in threads:
            t.join(30)
    assert [type(f).__name__ for f in failures] == ["CancelledError"] * 2
    _wait_for_a_free_slot(client)


def _wait_for_a_free_slot(client) -> None:
    """Cancelled trainings stop within an epoch; were they still running, this would fail."""
    deadline = time.monotonic() + 10
    while True:
        try:
            assert client.profile(Y).targets.n == 200
            return
        except errors.CapacityError:
            assert time.monotonic() < deadline, "cancelled computations kept running"
            time.sleep(0.2)


def test_sigterm_drains_a_call_in_flight_and_exits_zero(tmp_path):
    proc = ServerProcess(tmp_path, "--grace-s", "30")
    result: dict = {}
    progressed = threading.Event()

    def call() -> None:
        with AdvisorClient(proc.target, timeout=60) as c:
            result["report"] = c.validate(
                X, Y, ["MSELoss"], folds=2, epochs=60, progress=lambda *_: progressed.set()
            )

    worker = threading.Thread(target=call)
    worker.start()
    try:
        assert progressed.wait(30)
        proc.proc.send_signal(signal.SIGTERM)
        worker.join(60)
        assert proc.proc.wait(60) == 0
    finally:
        proc.stop()
    assert result["report"].stop_reason == "completed"
    assert result["report"].epochs_completed == 60
    events = [line.get("event") for line in proc.lines()]
    assert events.index("draining") < events.index("stopped")
    validate = [line for line in proc.lines() if line.get("method") == "Validate"]
    assert [v["status"] for v in validate] == ["OK"]
    assert events.index("draining") < proc.lines().index(validate[0])


LIGHT = """
import json, sys
from client import AdvisorClient
with AdvisorClient(sys.argv[1], token=sys.argv[2]) as c:
    names = [loss["name"] for loss in c.list_losses()]
    profile = c.profile([1.0, 2.0, 2.5, 10.0] * 10)
    report = c.evaluate([0.0, 2.0], [0.0, 0.0], ["L1Loss"])
    table = c.upload({"city": ["north", "south", None, "east"] * 10, "x": list(range(40))})
    with_table = c.profile([1.0, 2.0, 2.5, 10.0] * 10, features=table)
print(json.dumps({"n": len(names), "task": profile.task.task.value,
                  "value": report.results[0].value,
                  "columns": [col.name for col in with_table.features.preparation.columns],
                  "heavy": sorted(m for m in ("torch", "sklearn", "scipy", "pandas")
                                  if m in sys.modules)}))
"""


def test_the_client_runs_without_torch_or_sklearn(server):
    out = subprocess.run(
        [sys.executable, "-c", LIGHT, server.target, TOKEN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["n"] > 10 and result["value"] == 1.0 and result["task"]
    assert result["columns"] == ["city", "x"]
    assert result["heavy"] == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a test cert")
def test_tls(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    proc = ServerProcess.__new__(ServerProcess)
    try:
        _start_tls(proc, tmp_path, cert, key)
        options = [("grpc.ssl_target_name_override", "localhost")]
        with AdvisorClient(proc.target, tls=cert, options=options) as c:
            assert c.list_losses()
        with (
            AdvisorClient(proc.target, retries=0, timeout=5) as plain,
            pytest.raises(errors.AdvisorError),
        ):
            plain.list_losses()
    finally:
        assert proc.stop() == 0


def _start_tls(proc: ServerProcess, tmp_path, cert, key) -> None:
    """Like ServerProcess(), except health is probed over TLS."""
    import os

    proc.log_path = tmp_path / "server.log"
    proc._log = proc.log_path.open("wb")
    proc.proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "--port",
            "0",
            "--warmup",
            "import",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=proc._log,
        stderr=subprocess.STDOUT,
    )
    proc.port = proc._wait_port()
    proc.target = f"127.0.0.1:{proc.port}"
    deadline = time.monotonic() + 60
    while not any(line.get("event") == "serving" for line in proc.lines()):
        assert time.monotonic() < deadline and proc.proc.poll() is None
        time.sleep(0.1)


def test_unavailable_is_retried_with_backoff():
    import socket

    import grpc

    from client.errors import RemoteError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    t0 = time.perf_counter()
    with (
        AdvisorClient(f"127.0.0.1:{port}", retries=2, timeout=5) as c,
        pytest.raises(RemoteError) as caught,
    ):
        c.list_losses()
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert time.perf_counter() - t0 >= 0.3  # two sleeps: 0.1-0.2 s, then 0.2-0.4 s


def test_benchmark_is_capped_by_the_server_and_frees_its_slot(tmp_path):
    """--max-benchmark-s ends a long Benchmark between timed calls: the call answers with the
    rows finished, marked truncated, and the one computing slot serves the next call."""
    proc = ServerProcess(tmp_path, "--max-benchmark-s", "0.001", "--max-concurrency", "1")
    try:
        with AdvisorClient(proc.target, timeout=60) as c:
            started = time.monotonic()
            result = c.benchmark(cases=["regression-1e7", "multiclass-5e5-c1000"], diagnostics=True)
            assert result["truncated"] is True and result["rows"] == []
            assert time.monotonic() - started < 30  # the full cases take minutes
            assert c.profile(Y).task.task.value == "regression"
    finally:
        assert proc.stop() == 0, proc.tail()
