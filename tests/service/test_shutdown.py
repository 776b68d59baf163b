"""SIGTERM under a call: what the caller sees, what reaches its stderr, how soon the server exits.

One server per scenario, in a subprocess with a short grace period, and a light client in
another process, as a user would run it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.service.conftest import ROOT, ServerProcess

GRACE_S = 2.0
#: The spec: SIGTERM exits within the grace period and 2 s more.
EXIT_MARGIN_S = 2.0
#: A line grpc core writes itself: severity, date, time, thread, source file and line.
CORE_LINE = re.compile(r"^[DIWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [\w./-]+\.(cc|h):\d+\]", re.M)

CLIENT = """
import json, sys
import numpy as np
from client import AdvisorClient
rng = np.random.default_rng(3)
x = rng.standard_normal((200, 3)).astype(np.float32)
seen = []

def started(*_):
    if not seen:
        seen.append(1)
        print("started", flush=True)

with AdvisorClient(sys.argv[1], timeout=60, retries=0) as c:
    c.list_losses()
    try:
        c.validate(x, x.sum(axis=1), ["MSELoss"], folds=2, epochs=100_000, progress=started)
        out = {"error": None}
    except Exception as exc:
        code = getattr(exc, "code", None)
        out = {"error": type(exc).__name__, "code": code and code.name, "message": str(exc),
               "bases": [k.__name__ for k in type(exc).__mro__]}
    try:  # the server is gone now: a call that cannot connect
        c.list_losses(timeout=5)
    except Exception as exc:
        out["after"] = type(exc).__name__
print(json.dumps(out), flush=True)
"""


def _light_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GRPC_VERBOSITY", None)
    env.pop("GRPC_TRACE", None)
    return env


@pytest.fixture(scope="module")
def sigterm_mid_call(tmp_path_factory):
    """A one-slot server SIGTERMed while a long Validate runs: the server's exit time and log,
    the client's outcome and its stderr."""
    server = ServerProcess(
        tmp_path_factory.mktemp("shutdown"), "--grace-s", str(GRACE_S), "--max-concurrency", "1"
    )
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, server.target],
        cwd=ROOT,
        env=_light_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout.readline().strip() == "started"
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(GRACE_S + 30)
        exit_s = time.monotonic() - t0
        out, err = client.communicate(timeout=60)
    finally:
        client.kill()
        server.stop()
    return {
        "exit_code": code,
        "exit_s": exit_s,
        "client": json.loads(out.strip().splitlines()[-1]),
        "stderr": err,
        "log": server.lines(),
    }


def test_the_light_client_keeps_grpc_core_lines_off_stderr(sigterm_mid_call):
    """The server's GOAWAY under a call used to print ``chttp2_transport.cc ... Got goaway``."""
    assert sigterm_mid_call["client"]["error"], sigterm_mid_call
    assert not CORE_LINE.search(sigterm_mid_call["stderr"]), sigterm_mid_call["stderr"]


QUIET = "import os, client.errors; print(os.environ.get('GRPC_VERBOSITY'))"


@pytest.mark.parametrize(("given", "after"), [(None, "None"), ("DEBUG", "DEBUG")])
def test_the_quiet_grpc_import_leaves_the_environment_as_it_found_it(given, after):
    """NONE only for this process's grpc, not inherited by what it starts; a user's level wins."""
    env = _light_env()
    if given:
        env["GRPC_VERBOSITY"] = given
    out = subprocess.run(
        [sys.executable, "-c", QUIET], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == after


def test_a_call_left_at_the_end_of_the_grace_period_gets_unavailable(sigterm_mid_call):
    """Not a generic CANCELLED or "Cancelling all calls": UNAVAILABLE, saying why and that the
    call may be retried, as the client's typed error."""
    got = sigterm_mid_call["client"]
    assert got["code"] == "UNAVAILABLE", got
    assert got["error"] == "UnavailableError" and "ConnectionError" in got["bases"], got
    assert "shutting down" in got["message"] and "retried" in got["message"], got
    validate = [line for line in sigterm_mid_call["log"] if line.get("method") == "Validate"]
    assert [v["status"] for v in validate] == ["UNAVAILABLE"], validate
    events = [line.get("event") for line in sigterm_mid_call["log"]]
    cut = next(line for line in sigterm_mid_call["log"] if line.get("event") == "grace period over")
    assert cut["calls_cut"] == 1
    assert events.index("grace period over") < events.index("stopped")
    # The work stopped with the call, as on a client's cancel.
    stopped = [line for line in sigterm_mid_call["log"] if line.get("event") == "work stopped"]
    assert [s["of"] for s in stopped] == ["Validate"], stopped
    assert not [line for line in sigterm_mid_call["log"] if line.get("event") == "raw"], "a raw line (traceback?) in the server log"


def _sigterm(server: ServerProcess) -> tuple[int, float]:
    """SIGTERM the server; its exit status and the seconds it took to exit."""
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(GRACE_S + 30)
    return code, time.monotonic() - t0


def _wait_for(server: ServerProcess, predicate, timeout_s: float = 90) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in server.lines():
            if predicate(line):
                return line
        assert server.proc.poll() is None, server.tail()
        time.sleep(0.05)
    raise AssertionError(f"no such log line; the log ends:\n{server.tail()}")


def test_sigterm_idle_exits_within_grace(tmp_path, record):
    server = ServerProcess(tmp_path, "--grace-s", str(GRACE_S))
    try:
        code, exit_s = _sigterm(server)
    finally:
        server.stop()
    print(f"SIGTERM idle: exit {code} in {exit_s:.2f} s (grace {GRACE_S} s)")
    record(suite="sigterm", case="idle", grace_s=GRACE_S, exit_s=exit_s)
    assert code == 0, server.tail()
    assert exit_s < GRACE_S + EXIT_MARGIN_S


def test_sigterm_with_a_call_in_flight_exits_within_grace(sigterm_mid_call, record):
    print(f"SIGTERM with a call in flight: exit {sigterm_mid_call['exit_code']} in "
          f"{sigterm_mid_call['exit_s']:.2f} s (grace {GRACE_S} s)")
    record(suite="sigterm", case="a call in flight past the grace", grace_s=GRACE_S, exit_s=sigterm_mid_call["exit_s"])
    assert sigterm_mid_call["exit_code"] == 0
    assert sigterm_mid_call["exit_s"] < GRACE_S + EXIT_MARGIN_S


def test_sigterm_mid_compile_exits_within_grace_and_records_no_broken_kernel(tmp_path, record):
    """SIGTERM while the warm-up compiles the kernels: the compile under way does not hold the
    exit past the grace period (it used to wait for the whole warm-up, or 60 s for a background
    compile), and being cut short is not recorded as a kernel that cannot compile."""
    server = ServerProcess(tmp_path, "--grace-s", str(GRACE_S), "--warmup", "compile", wait_serving=False)
    try:
        _wait_for(server, lambda line: line.get("event") == "warm-up step" and line.get("step") == "import")
        time.sleep(0.5)  # into the first compile
        code, exit_s = _sigterm(server)
    finally:
        server.stop()
    events = [line.get("event") for line in server.lines()]
    print(f"SIGTERM mid-compile: exit {code} in {exit_s:.2f} s (grace {GRACE_S} s); events {events}")
    record(suite="sigterm", case="mid-compile", grace_s=GRACE_S, exit_s=exit_s)
    assert code == 0, server.tail()
    assert exit_s < GRACE_S + EXIT_MARGIN_S
    assert "serving" not in events
    text = server.log_path.read_text()
    assert "torch.compile failed" not in text and "warm-up failed" not in text, server.tail()
