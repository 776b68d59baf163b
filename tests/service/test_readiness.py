"""Readiness: each warm-up step logged with its duration between "listening" and "serving", and
health SERVING only once the warm-up has succeeded."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from grpc_health.v1 import health_pb2

from server import app


def test_the_log_says_what_the_server_did_between_listening_and_serving(server):
    lines = server.lines()
    events = [line.get("event") for line in lines]
    listening, serving = events.index("listening"), events.index("serving")
    steps = [line for line in lines[listening:serving] if line.get("event") == "warm-up step"]
    assert [s["step"] for s in steps] == ["import", "self-check"]  # the shared server: --warmup import
    assert steps[0]["duration_ms"] >= 0
    assert lines[serving]["warmup_ms"] >= steps[0]["duration_ms"]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.lines.append(json.loads(message) if message.startswith("{") else {"event": message})


@pytest.fixture
def server_log():
    handler = _Lines()
    logger = logging.getLogger("server")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(old)


def test_each_compile_step_is_logged_with_its_duration(monkeypatch, server_log):
    import advisor

    def warmup(device, on_step):
        on_step("regression/float32/values", 1.25)
        on_step("binary/float32/values", 0.5)

    monkeypatch.setattr(advisor, "warmup", warmup)
    app._warm("compile", "cpu")
    steps = [(line["step"], line["duration_ms"]) for line in server_log if line["event"] == "warm-up step"]
    assert [name for name, _ in steps[:2]] == ["import", "self-check"]
    assert steps[2:] == [("compile regression/float32/values", 1250.0), ("compile binary/float32/values", 500.0)]


def test_warmup_reports_each_step_as_it_is_done(monkeypatch):
    from advisor.evaluation import warm

    monkeypatch.setattr(warm, "evaluate", lambda *args, **kwargs: None)
    seen: list[str] = []
    spent = warm.warmup(("regression", "binary"), device="cpu", on_step=lambda step, s: seen.append(step))
    assert seen == list(spent) == [
        "regression/float32/values",
        "regression/float32/diagnostics",
        "binary/float32/values",
        "binary/float32/diagnostics",
    ]


class _Health:
    def __init__(self) -> None:
        self.set_to: list[int] = []

    async def set(self, _name: str, status: int) -> None:
        self.set_to.append(status)


def test_a_failed_warmup_is_logged_and_health_never_says_serving(monkeypatch, server_log):
    def broken(mode, device):
        raise ImportError("no module named torch")

    monkeypatch.setattr(app, "_warm", broken)
    assert health_pb2.HealthCheckResponse.SERVING not in _warm_up().set_to
    assert [line["event"] for line in server_log] == ["warm-up failed; health stays NOT_SERVING"]


def _warm_up() -> _Health:
    """``app.warm`` with --warmup import on a one-thread pool; the health states it set."""
    health = _Health()
    with ThreadPoolExecutor(1) as pool:
        built = SimpleNamespace(servicer=SimpleNamespace(pool=pool), health=health)
        asyncio.run(app.warm(built, argparse.Namespace(warmup="import", device="cpu")))
    return health


def test_a_method_that_fails_its_self_check_keeps_health_not_serving(monkeypatch, server_log):
    import advisor

    def broken(*args, **kwargs):
        raise RuntimeError("validation is broken")

    monkeypatch.setattr(advisor, "validate", broken)
    assert health_pb2.HealthCheckResponse.SERVING not in _warm_up().set_to
    assert server_log[-1]["event"] == "warm-up failed; health stays NOT_SERVING"


def test_by_default_it_serves_first_and_compiles_in_the_background(tmp_path):
    """SERVING after the import alone; the kernels compile afterwards on their own thread in
    forced compiled mode while a call is answered in auto mode, eagerly, without waiting."""
    import numpy as np

    from client import AdvisorClient
    from tests.service.conftest import TOKEN, ServerProcess

    token = tmp_path / "token"
    token.write_text(TOKEN)
    server = ServerProcess(tmp_path, "--warmup", "background", "--token-file", str(token))
    try:
        events = [line.get("event") for line in server.lines()]
        serving = events.index("serving")
        assert "warm-up step" in events[:serving]  # the import, before SERVING
        assert all(
            not str(line.get("step", "")).startswith("compile") for line in server.lines()[:serving]
        )
        y = np.random.default_rng(0).normal(size=4_000)
        with AdvisorClient(server.target, token=TOKEN, timeout=60) as client:
            report = client.evaluate(y + 0.1, y, ["MSELoss"], diagnostics=False)
        assert report.results[0].value == pytest.approx(0.01, rel=1e-6)
        assert report.results[0].path == "fused-eager"  # small: auto mode runs it eagerly
    finally:
        assert server.stop() == 0
    events = [(line.get("event"), line.get("state")) for line in server.lines()]
    assert events.index(("kernel warm-up", "started")) > events.index(("serving", None))


def test_time_to_serving_first_and_second_start(tmp_path, record):
    """Seconds from the process's start to health SERVING with the default warm-up, twice:
    the second start finds the operating system's file cache filled by the first."""
    from tests.service.conftest import ServerProcess

    times = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        server = ServerProcess(tmp_path / run, "--warmup", "background")
        try:
            assert server.serving_s is not None
            steps = [line.get("step") for line in server.lines() if line.get("event") == "warm-up step"]
            assert steps[:2] == ["import", "self-check"], steps
            times.append(server.serving_s)
        finally:
            assert server.stop() == 0
    print(f"time to SERVING: first start {times[0]:.2f} s, second {times[1]:.2f} s")
    record(suite="serving", first_s=times[0], second_s=times[1])
