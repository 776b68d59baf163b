"""Servers to attack, and what the attacks read back from them.

Most suites run the server as a subprocess: a native crash then shows as an exit code instead of
killing the test run, its resident memory and thread count can be read from ``/proc`` without
the test's own allocations (hypothesis, clients) mixed in, and SIGTERM is a real signal. The
out-of-memory fault needs a monkeypatched domain function, so that one suite runs the very same
server (``server.app.build``) in-process, on an event loop in a thread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "lossadvisor.v1.LossAdvisor"


class ServerProcess:
    """``python -m server`` on an OS-chosen loopback port, its JSON log in a file."""

    def __init__(self, tmp: Path, *args: str, wait_serving: bool = True) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.log_path = tmp / "server.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", "0", "--warmup", "import", *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.port = self._wait_for(lambda line: line.get("event") == "listening", 60)["port"]
        self.target = f"127.0.0.1:{self.port}"
        if wait_serving:
            self._wait_for(lambda line: line.get("event") == "serving", 90)

    # ------------------------------------------------------------------ the log

    def lines(self) -> list[dict]:
        out = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError:
                out.append({"event": "raw", "text": raw})
        return out

    def rpc_lines(self, method: str | None = None) -> list[dict]:
        return [
            line
            for line in self.lines()
            if line.get("event") == "rpc" and (method is None or line.get("method") == method)
        ]

    def events(self, name: str) -> list[dict]:
        return [line for line in self.lines() if line.get("event") == name]

    def settle(self, quiet_s: float = 0.5, timeout_s: float = 15) -> None:
        """Wait until the log has stopped growing for ``quiet_s``.

        A handler that aborts a call sends its status before its own ``finally`` writes the rpc
        line, so the client can move on while the line is still to come. A test that counts the
        lines after a mark takes the mark once the earlier tests' lines have landed.
        """
        deadline = time.monotonic() + timeout_s
        size, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_size = self.log_path.stat().st_size
            if now_size != size:
                size, quiet_since = now_size, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return
            time.sleep(0.05)
        raise TimeoutError(f"server log kept growing for {timeout_s} s:\n{self.tail()}")

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def _wait_for(self, predicate, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.lines():
                if predicate(line):
                    return line
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.tail()}")
            time.sleep(0.05)
        raise TimeoutError(f"server log never showed the line awaited:\n{self.tail()}")

    # ------------------------------------------------------------------ the process

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _status(self, key: str) -> int:
        for row in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if row.startswith(key + ":"):
                return int(row.split()[1])
        raise KeyError(key)

    def rss_bytes(self) -> int:
        return self._status("VmRSS") * 1024

    def threads(self) -> int:
        return self._status("Threads")

    def stop(self, timeout_s: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def serve_args(*argv: str) -> argparse.Namespace:
    from server import add_serve_arguments

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return parser.parse_args(["--port", "0", "--warmup", "import", *argv])


class InProcessServer:
    """The same server on a loop in a thread, for faults that need to patch the domain."""

    def __init__(self, *argv: str) -> None:
        from server import app

        self._app = app
        self.args = serve_args(*argv)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(90):
            raise TimeoutError("in-process server did not start")
        self.target = f"127.0.0.1:{self.built.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self.built = await self._app.build(self.args)
            await self._app.warm(self.built, self.args)

        self._loop.run_until_complete(start())
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        future = asyncio.run_coroutine_threadsafe(self._app.drain(self.built, 5), self._loop)
        future.result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()


# ---------------------------------------------------------------------- rich statuses


def _details(err: grpc.RpcError):
    status = rpc_status.from_call(err)
    return [] if status is None else list(status.details)


def violations(err: grpc.RpcError) -> list[str]:
    """Field paths of the BadRequest detail."""
    out = []
    for detail in _details(err):
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out += [v.field for v in bad.field_violations]
    return out


def quota_subjects(err: grpc.RpcError) -> list[str]:
    """Fields named by the QuotaFailure detail (what went over a ceiling)."""
    out = []
    for detail in _details(err):
        if detail.Is(error_details_pb2.QuotaFailure.DESCRIPTOR):
            quota = error_details_pb2.QuotaFailure()
            detail.Unpack(quota)
            out += [v.subject for v in quota.violations]
    return out


def auth(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)
