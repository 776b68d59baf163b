"""Every example under examples/ runs to completion on its quick setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TIMEOUT_S = 300


def run_example(name: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOSS_ADVISOR_EXAMPLE_QUICK": "1"}
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert out.returncode == 0, f"{name} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def test_in_process():
    out = run_example("in_process.py")
    assert "Recommended losses:" in out and "regression: mae over 3 folds" in out
    assert "LocalAdvisor, top two only" in out


def test_evaluate_model():
    out = run_example("evaluate_model.py")
    assert "The model was fit with squared error" in out
    assert "MSELoss" in out and "top 1% share of gradient" in out


def test_remote_client(tmp_path):
    from tests.service.conftest import ServerProcess

    server = ServerProcess(tmp_path)
    try:
        out = run_example("remote_client.py", "--address", server.target)
    finally:
        assert server.stop() == 0, server.tail()
    assert f"server {server.target} recommends" in out
    assert "epoch 10/10" in out and "regression: mae over 3 folds" in out


def test_tune_with_optuna():
    pytest.importorskip("optuna")
    out = run_example("tune_with_optuna.py")
    assert "each recommended loss as derived" in out and "best: {'loss':" in out


def test_benchmark_throughput():
    pytest.importorskip("advisor.benchmarking.throughput")
    assert run_example("benchmark_throughput.py").strip()
