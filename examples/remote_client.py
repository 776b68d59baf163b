"""The Python client against a loss-advisor server: upload once, recommend, then validate with
a live progress bar streamed from the server.

Run against a running server: ``python examples/remote_client.py --address HOST:PORT``
(``--token-file`` if it wants one). Without ``--address`` the script starts a local server
(``python -m server --port 0``) for the duration of the run and stops it afterwards.
``LOSS_ADVISOR_EXAMPLE_QUICK=1``: 200 rows and a few epochs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import numpy as np

from advisor import io
from client import AdvisorClient

QUICK = os.environ.get("LOSS_ADVISOR_EXAMPLE_QUICK") == "1"


def load() -> tuple[np.ndarray, np.ndarray]:
    with resources.as_file(resources.files("advisor") / "data" / "delivery_times.csv") as path:
        table = io.read_table(path)
    y, features = io.select(table, "minutes", None)
    x = np.column_stack(list(features.values()))  # its columns are all numbers
    rows = 200 if QUICK else len(y)
    return x[:rows], y[:rows]


@contextlib.contextmanager
def local_server() -> Iterator[str]:
    """A server on a free loopback port; its JSON log says which port, health says when ready."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "server", "--port", "0", "--warmup", "import"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                address = f"127.0.0.1:{_port(log_path, proc)}"
                with grpc.insecure_channel(address) as channel:
                    health = health_pb2_grpc.HealthStub(channel)
                    serving = health_pb2.HealthCheckResponse.SERVING
                    request = health_pb2.HealthCheckRequest(service="")
                    while health.Check(request, timeout=5).status != serving:
                        time.sleep(0.1)
                yield address
            finally:
                proc.terminate()  # SIGTERM: the server drains and exits 0
                proc.wait(timeout=60)


def _port(log_path: Path, proc: subprocess.Popen) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for line in log_path.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                entry = json.loads(line)
                if entry.get("event") == "listening":
                    return int(entry["port"])
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log_path.read_text()}")
        time.sleep(0.1)
    raise TimeoutError("the server did not report its port")


def progress(step: int, total: int, message: str) -> None:
    done = 30 * step // max(total, 1)
    end = "\n" if step >= total else ""
    print(f"\r[{'#' * done}{'.' * (30 - done)}] {message}", end=end, flush=True)


def run(address: str, token: str | None) -> None:
    x, y = load()
    with AdvisorClient(address, token=token, timeout=300) as client:
        data = client.upload(features=x, targets=y)  # sent once, referenced twice
        rec = client.recommend(data["targets"], features=data["features"], top_k=3)
        print(f"server {address} recommends {rec.best.call_text()}")
        report = client.validate(
            data["features"], data["targets"], rec.candidates, task="regression",
            folds=3 if QUICK else 5, epochs=10 if QUICK else 100, progress=progress,
        )  # fmt: skip
        print(report.table())
        client.delete(data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="HOST:PORT of a running server; default: start one")
    parser.add_argument("--token-file", help="file holding the server's bearer token")
    args = parser.parse_args(argv)
    token = Path(args.token_file).read_text().strip() if args.token_file else None
    if args.address:
        run(args.address, token)
        return
    with local_server() as address:
        run(address, token)


if __name__ == "__main__":
    main()
