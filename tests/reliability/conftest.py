"""One shared hostile-environment server, and the switch between quick and long forms.

The quick forms run in the normal suite; ``RELIABILITY_LONG=1`` turns every suite into its long
form (thousands of fuzzed requests, longer load). ``RELIABILITY_REPORT=<file>`` makes the suites
append their figures there as JSON lines, which ``tests.reliability.report`` turns into a table.

The shared server is deliberately small (an 8 MiB store, two million elements per request, two
computations at once) so every bound is reachable in a test, and it has two tenants so every
call also exercises the multi-tenant path.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import grpc
import pytest

from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc
from tests.conftest import record_figures
from tests.reliability.harness import ServerProcess, auth

LONG = os.environ.get("RELIABILITY_LONG") == "1"
TENANT_A = "tenant-a-" + "a" * 24
TENANT_B = "tenant-b-" + "b" * 24
MAX_ELEMENTS = 2_000_000
STORE_MB = 8
CONCURRENCY = 2
GRACE_S = 10


@pytest.fixture(scope="session")
def token_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "tokens"
    path.write_text(f"# one token per tenant\n{TENANT_A}\n\n{TENANT_B}\n")
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory, token_file):
    proc = ServerProcess(
        tmp_path_factory.mktemp("reliability"),
        "--token-file",
        str(token_file),
        "--max-message-mb",
        "16",
        "--max-concurrency",
        str(CONCURRENCY),
        "--store-mb",
        str(STORE_MB),
        "--max-elements",
        str(MAX_ELEMENTS),
        "--grace-s",
        str(GRACE_S),
    )
    yield proc
    assert proc.alive(), f"the shared server died:\n{proc.tail()}"
    started = time.monotonic()
    code = proc.stop()  # SIGTERM after every suite, the fuzz and the soak included
    record_figures("shared server", suite="sigterm", case="after the suites' hostile calls", grace_s=GRACE_S, exit_s=time.monotonic() - started)
    assert code == 0, f"server exited {code}; its log ends:\n{proc.tail()}"


@pytest.fixture(scope="session")
def channel(server):
    options = [("grpc.max_send_message_length", 64 << 20)]
    with grpc.insecure_channel(server.target, options=options) as ch:
        yield ch


@pytest.fixture(scope="session")
def stub(channel):
    return pb_grpc.LossAdvisorStub(channel)


@pytest.fixture(scope="session")
def meta():
    return auth(TENANT_A)
