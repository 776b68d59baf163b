"""Benchmark: what the wire costs. Evaluate on 1e6 float32 pairs in-process against over
loopback (inline, and streamed through UploadDataset as the client does by default), and the
latency distribution of a small request.

Run with ``pytest benchmarks/test_service_bench.py --benchmark-only`` (``make bench``). The
server is a real subprocess on a free loopback port, so the numbers include serialisation,
HTTP/2 framing and the thread hop, i.e. what a remote caller pays.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import advisor
from client import AdvisorClient, LocalAdvisor

pytest.importorskip("pytest_benchmark")
pytestmark = pytest.mark.benchmark(group="service", min_rounds=5)

N = 1_000_000
CANDIDATES = ["MSELoss", "L1Loss", {"loss": "HuberLoss", "params": {"delta": 1.0}}]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.service.conftest import ServerProcess

    proc = ServerProcess(tmp_path_factory.mktemp("bench"), "--max-message-mb", "64")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def pairs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal(N, dtype=np.float32), rng.standard_normal(N, dtype=np.float32)


def _run(benchmark, advisor_like, pairs):
    preds, targets = pairs
    advisor_like.evaluate(preds, targets, CANDIDATES, diagnostics=False)  # compile, allocate
    report = benchmark.pedantic(
        advisor_like.evaluate,
        args=(preds, targets, CANDIDATES),
        kwargs={"diagnostics": False},
        rounds=5,
        iterations=1,
    )
    assert report.n_samples == N
    return report


def test_evaluate_1e6_in_process(benchmark, pairs):
    report = _run(benchmark, LocalAdvisor(), pairs)
    direct = advisor.evaluate(*pairs, CANDIDATES, diagnostics=False)
    assert [r.value for r in report.results] == [r.value for r in direct.results]


def test_evaluate_1e6_loopback_inline(benchmark, server, pairs):
    with AdvisorClient(server.target, stream_threshold=1 << 30) as client:
        _run(benchmark, client, pairs)


def test_evaluate_1e6_loopback_streamed(benchmark, server, pairs):
    with AdvisorClient(server.target) as client:
        _run(benchmark, client, pairs)


def test_small_request_latency(benchmark, server):
    """p50/p99 of a 16-row Evaluate, the round trip a training loop would pay per call."""
    preds = np.linspace(-1, 1, 16, dtype=np.float32)
    with AdvisorClient(server.target) as client:
        for _ in range(20):
            client.evaluate(preds, preds * 0, ["MSELoss"], diagnostics=False)
        samples = []
        for _ in range(300):
            t0 = time.perf_counter()
            client.evaluate(preds, preds * 0, ["MSELoss"], diagnostics=False)
            samples.append(time.perf_counter() - t0)
        benchmark.pedantic(
            client.evaluate,
            args=(preds, preds * 0, ["MSELoss"]),
            kwargs={"diagnostics": False},
            rounds=50,
            iterations=1,
        )
    p50, p99 = np.percentile(samples, [50, 99])
    benchmark.extra_info.update({"p50_ms": round(p50 * 1e3, 3), "p99_ms": round(p99 * 1e3, 3)})
    print(f"\nsmall Evaluate over loopback: p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms")
    assert p99 < 0.5, "a 16-row request should never cost half a second"
