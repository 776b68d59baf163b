"""Real servers in subprocesses on OS-chosen loopback ports, shared per module to save CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-" + "x" * 16


class ServerProcess:
    def __init__(self, tmp: Path, *args: str, wait_serving: bool = True) -> None:
        self.log_path = tmp / "server.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self._log = self.log_path.open("wb")
        self.started = time.monotonic()
        self.serving_s: float | None = None  # from the process's start to health SERVING
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", "0", "--warmup", "import", *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.port = self._wait_port()
        self.target = f"127.0.0.1:{self.port}"
        if wait_serving:
            self.wait_serving()

    def lines(self) -> list[dict]:
        out = []
        for raw in self.log_path.read_text().splitlines():
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError:
                out.append({"event": "raw", "text": raw})
        return out

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def rpc_lines(self, method: str) -> list[dict]:
        return [line for line in self.lines() if line.get("method") == method]

    def _wait_port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.lines():
                if line.get("event") == "listening":
                    return int(line["port"])
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            time.sleep(0.05)
        raise TimeoutError("server did not report its port")

    def health(self) -> int:
        with grpc.insecure_channel(self.target) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=5
            )
        return reply.status

    def wait_serving(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.health() == health_pb2.HealthCheckResponse.SERVING:
                self.serving_s = time.monotonic() - self.started
                return
            time.sleep(0.1)
        raise TimeoutError("server never became SERVING")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def token_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory, token_file):
    """The shared server: token auth, an 8 MiB message cap, two computations at once."""
    proc = ServerProcess(
        tmp_path_factory.mktemp("server"),
        "--token-file",
        str(token_file),
        "--max-message-mb",
        "8",
        "--max-concurrency",
        "2",
        "--store-mb",
        "200",
        "--max-elements",
        "100000000",
    )
    yield proc
    code = proc.stop()
    assert code == 0, f"server exited {code}; its log ends:\n{proc.tail()}"


@pytest.fixture
def client(server):
    from client import AdvisorClient

    with AdvisorClient(server.target, token=TOKEN, timeout=60) as c:
        yield c
