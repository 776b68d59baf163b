"""Every RPC through the client returns what the in-process library returns."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import advisor
from advisor.schema.evaluation import EvaluationReport
from advisor.schema.profile import DataProfile
from advisor.schema.recommendation import Recommendation
from advisor.schema.validation import ValidationReport
from client import LocalAdvisor

RNG = np.random.default_rng(7)
X = RNG.standard_normal((300, 3)).astype(np.float32)
Y = X @ np.array([1.0, -2.0, 0.5], dtype=np.float32) + RNG.standard_t(2, 300).astype(np.float32)


def test_list_losses_is_the_catalog(client):
    remote = client.list_losses()
    assert [loss["name"] for loss in remote] == advisor.losses.names()
    assert remote == LocalAdvisor().list_losses()
    only = client.list_losses(task="binary")
    assert only and all("binary" in loss["tasks"] for loss in only)
    assert len(only) < len(remote)


def test_profile_matches_in_process(client):
    remote = client.profile(Y, features=X)
    assert isinstance(remote, DataProfile)
    assert remote == advisor.profile(Y, features=X)


def test_recommend_accepts_lists_and_string_labels(client):
    labels = ["cat", "dog", "dog", "bird"] * 50
    remote = client.recommend(labels, top_k=3)
    assert isinstance(remote, Recommendation)
    assert remote == advisor.recommend(np.array(labels), top_k=3)
    assert remote.profile.task.task.value == "multiclass"
    assert 1 <= len(remote.candidates) <= 3


def test_evaluate_matches_in_process(client):
    preds = Y + RNG.standard_normal(300).astype(np.float32)
    candidates = ["MSELoss", {"loss": "HuberLoss", "params": {"delta": 0.5}}]
    remote = client.evaluate(preds, Y, candidates)
    local = advisor.evaluate(preds, Y, candidates)
    assert isinstance(remote, EvaluationReport)
    assert [r.loss for r in remote.results] == ["MSELoss", "HuberLoss"]
    assert remote.results[1].params["delta"] == 0.5
    for a, b in zip(remote.results, local.results, strict=True):
        assert math.isclose(a.value, b.value, rel_tol=1e-6)


def test_evaluate_pairs_and_a_broadcast_variance_over_the_wire(client):
    """Predictions of several arrays with their own shapes: a pair, and one variance per feature."""
    torch = pytest.importorskip("torch")
    mean = RNG.standard_normal((40, 3)).astype(np.float32)
    target = RNG.standard_normal((40, 3)).astype(np.float32)
    var = RNG.uniform(0.5, 2.0, (1, 3)).astype(np.float32)
    a, b = RNG.standard_normal(40).astype(np.float32), RNG.standard_normal(40).astype(np.float32)
    sign = np.where(RNG.random(40) < 0.5, -1.0, 1.0).astype(np.float32)
    gaussian = client.evaluate((mean, var), target, ["GaussianNLLLoss"]).results[0]
    ranking = client.evaluate((a, b), sign, [{"loss": "MarginRankingLoss", "params": {"margin": 0.3}}]).results[0]
    want_gaussian = torch.nn.GaussianNLLLoss()(torch.from_numpy(mean), torch.from_numpy(target), torch.from_numpy(var))
    want_ranking = torch.nn.MarginRankingLoss(margin=0.3)(*(torch.from_numpy(v) for v in (a, b, sign)))
    assert gaussian.value == pytest.approx(float(want_gaussian), rel=1e-5)
    assert ranking.value == pytest.approx(float(want_ranking), rel=1e-5)
    assert gaussian.diagnostics.n_samples == 120 and gaussian.diagnostics.grad_mean is not None


def test_evaluate_takes_torch_tensors_by_duck_typing(client):
    torch = pytest.importorskip("torch")
    preds = torch.tensor([0.0, 2.0], requires_grad=True)
    report = client.evaluate(preds, torch.zeros(2), ["L1Loss"])
    assert report.results[0].value == pytest.approx(1.0)


def test_large_arrays_stream_automatically(server):
    from client import AdvisorClient
    from tests.service.conftest import TOKEN

    preds = RNG.standard_normal(5000).astype(np.float32)
    targets = RNG.standard_normal(5000).astype(np.float32)
    before = len(server.rpc_lines("UploadDataset"))
    with AdvisorClient(server.target, token=TOKEN, stream_threshold=1024) as small:
        report = small.evaluate(preds, targets, ["MSELoss"], diagnostics=False)
    assert report.results[0].value == pytest.approx(
        float(np.mean((preds - targets) ** 2)), rel=1e-5
    )
    uploads = server.rpc_lines("UploadDataset")[before:]
    assert [u["status"] for u in uploads] == ["OK"]
    assert uploads[0]["bytes_in"] == 2 * 5000 * 4
    assert server.rpc_lines("DeleteDataset")[-1]["status"] == "OK"


def test_upload_50mb_then_reference_and_delete(client, server):
    big = np.arange(13_500_000, dtype=np.float32)  # 54 MB, over the 8 MiB message cap
    targets = Y
    dataset = client.upload(big=big, targets=targets, features=X)
    assert dataset.bytes == big.nbytes + targets.nbytes + X.nbytes
    assert dataset.bytes >= 50 * 1000 * 1000
    assert len(dataset.dataset_id) >= 32
    assert client.profile(dataset["targets"], features=dataset["features"]) == advisor.profile(
        Y, features=X
    )
    head = client.evaluate(dataset["big"], dataset["big"], ["MSELoss"], diagnostics=False)
    assert head.results[0].value == 0.0
    assert head.n_samples == big.size
    assert client.delete(dataset) is True
    assert client.delete(dataset) is False
    line = server.rpc_lines("UploadDataset")[-1]
    assert line["status"] == "OK" and line["bytes_in"] == dataset.bytes


def test_validate_streams_progress_then_the_report(client):
    seen: list[tuple[int, int]] = []
    report = client.validate(
        X,
        Y,
        ["MSELoss", "L1Loss"],
        folds=2,
        epochs=5,
        progress=lambda step, total, _msg: seen.append((step, total)),
    )
    assert isinstance(report, ValidationReport)
    assert report.stop_reason == "completed" and report.epochs_completed == 5
    assert seen and seen[-1][0] == seen[-1][1]
    assert [c.loss for c in report.results] == ["MSELoss", "L1Loss"]


def test_validate_takes_several_values_per_row_as_the_library_does(client):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 3))
    y = x @ rng.normal(size=(3, 2)) + 0.1 * rng.normal(size=(300, 2))
    options = {"folds": 2, "epochs": 5, "seed": 1}
    remote = client.validate(x, y, ["MSELoss", "L1Loss"], **options)
    local = advisor.validate(x, y, ["MSELoss", "L1Loss"], **options)
    assert remote.ranking == local.ranking
    assert [r.mean["r2"] for r in remote.results] == pytest.approx([r.mean["r2"] for r in local.results], rel=1e-5)

def test_validate_cancel_stops_the_server(client, server):
    from client.errors import CancelledError

    cancel = threading.Event()

    def progress(step, _total, _msg):
        if step >= 2:
            cancel.set()

    with pytest.raises(CancelledError):
        client.validate(
            X, Y, ["MSELoss"], folds=2, epochs=100_000, progress=progress, cancel=cancel
        )
    # The slot is free again only once the server's training loop has really stopped.
    report = client.validate(X, Y, ["MSELoss"], folds=2, epochs=2)
    assert report.stop_reason == "completed"
    assert "CANCELLED" in [line["status"] for line in server.rpc_lines("Validate")]


def test_benchmark_runs_on_the_server_device(client):
    result = client.benchmark(cases=["regression-100k"])
    assert result["device"] in ("cpu", "cuda") or result["device"].startswith("cuda")
    (row,) = result["rows"]
    assert row["case"] == "regression-100k" and row["seconds"] > 0


def test_local_advisor_has_the_same_methods():
    from client import AdvisorClient

    public = {n for n in dir(AdvisorClient) if not n.startswith("_")} - {"timeout"}
    assert public <= {n for n in dir(LocalAdvisor) if not n.startswith("_")}
    local = LocalAdvisor()
    dataset = local.upload(targets=Y)
    assert local.profile(dataset["targets"]) == advisor.profile(Y)
    assert local.delete(dataset) is True


def test_evaluate_quantile_sample_over_the_wire(client):
    """Unset keeps the default sample, 0 on the wire (None in Python) is exact, a count is that sample."""
    n = 5000
    preds = np.repeat(Y, n // 300 + 1)[:n] + RNG.standard_normal(n).astype(np.float32)
    targets = np.repeat(Y, n // 300 + 1)[:n]
    default = client.evaluate(preds, targets, ["MSELoss"]).results[0].diagnostics
    assert default.quantile_method == "exact"  # 5,000 rows: fewer than the default sample
    sampled = client.evaluate(preds, targets, ["MSELoss"], quantile_sample=1000).results[0].diagnostics
    local = advisor.evaluate(preds, targets, ["MSELoss"], quantile_sample=1000).results[0].diagnostics
    assert sampled == local
    assert sampled.quantile_method == "sampled" and sampled.quantile_sample == 1000
    assert sampled.quantile_rank_error == pytest.approx(math.sqrt(math.log(40) / 2000))
    exact = client.evaluate(preds, targets, ["MSELoss"], quantile_sample=None).results[0].diagnostics
    assert exact == default
