"""Streams of batches: the same report as the whole arrays, within the stated bounds, in bounded memory."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import advisor
from advisor.errors import InvalidInputError
from advisor.evaluation import diagnostics
from tests.evaluation.data import rank_ok

CANDS = ["MSELoss", {"loss": "HuberLoss", "params": {"delta": 1.0}}, "L1Loss", {"loss": "QuantileLoss", "params": {"quantiles": [0.9]}}]


def _data(n=300_000):
    g = torch.Generator().manual_seed(0)
    y = torch.randn(n, generator=g)
    x = y + 0.5 * torch.randn(n, generator=g)
    y[::97] += 20.0
    return x, y


def _batches(*arrays, size):
    n = arrays[0].shape[0]
    for a in range(0, n, size):
        yield tuple(t[a : a + size] for t in arrays)


@pytest.mark.parametrize("size", [40_000, 299_999, 7_777])
def test_a_stream_reports_what_the_whole_arrays_do(size):
    x, y = _data()
    whole = advisor.evaluate(x, y, CANDS)
    streamed = advisor.evaluate(_batches(x, y, size=size), None, CANDS)
    assert streamed.n_samples == whole.n_samples
    for a, b in zip(whole.results, streamed.results, strict=True):
        assert b.value == pytest.approx(a.value, rel=1e-12), a.loss
        da, db = a.diagnostics, b.diagnostics
        assert db.loss_quantiles.max == da.loss_quantiles.max
        assert db.grad_max == da.grad_max
        assert db.grad_mean == pytest.approx(da.grad_mean, rel=1e-12)
        assert db.zero_grad_fraction == da.zero_grad_fraction
        assert db.quantile_method == "sampled" and db.quantile_sample == diagnostics.QUANTILE_SAMPLE
        r = x - y
        per_sample = {"MSELoss": r * r, "L1Loss": r.abs()}.get(a.loss)
        if per_sample is not None:
            losses = per_sample.double().numpy()
            for q, v in zip(diagnostics.QUANTILES, (db.loss_quantiles.p50, db.loss_quantiles.p90, db.loss_quantiles.p99), strict=True):
                assert rank_ok(losses, v, q, db.quantile_rank_error), (a.loss, q, v)
        assert db.skill == pytest.approx(da.skill, abs=0.05)  # baselines from a sample of the raw rows


def test_a_stream_of_multiclass_batches_with_weights():
    g = torch.Generator().manual_seed(1)
    n, c = 200_000, 6
    x = torch.randn(n, c, generator=g)
    t = torch.randint(0, c, (n,), generator=g)
    w = torch.rand(n, generator=g) + 0.5
    cands = ["CrossEntropyLoss", {"loss": "FocalLoss", "params": {"gamma": 2.0}}, {"loss": "LogitAdjustedLoss", "params": {"class_priors": [1.0] * c}}]
    whole = advisor.evaluate(x, t, cands, sample_weight=w)
    streamed = advisor.evaluate(_batches(x, t, w, size=30_000), None, cands)
    for a, b in zip(whole.results, streamed.results, strict=True):
        assert b.value == pytest.approx(a.value, rel=1e-10), a.loss
        assert b.diagnostics.saturation == a.diagnostics.saturation
        assert b.diagnostics.grad_max == pytest.approx(a.diagnostics.grad_max, rel=1e-6)


def test_what_cannot_stream_is_skipped_with_the_reason():
    x, y = _data(20_000)
    cands = [{"loss": "L1Loss", "params": {"reduction": "none"}}, "LogitAdjustedLoss", "GaussianNLLLoss", "MSELoss"]
    results = advisor.evaluate(_batches(x, y, size=5000), None, cands).results
    assert [r.skipped for r in results] == [True, True, True, False]
    assert "reduction='none'" in results[0].reason
    assert results[3].value == pytest.approx(float(torch.nn.MSELoss()(x, y)), rel=1e-6)


def test_a_batch_refused_mid_stream_names_its_index():
    x, y = _data(20_000)
    parts = list(_batches(x, y, size=5000))
    parts[2] = (parts[2][0], parts[2][1][:10])
    with pytest.raises(InvalidInputError) as err:
        advisor.evaluate(iter(parts), None, ["MSELoss"])
    assert err.value.field.startswith("batches[2].")
    with pytest.raises(InvalidInputError) as err:
        advisor.evaluate(iter([]), None, ["MSELoss"])
    assert err.value.field == "batches"
    with pytest.raises(InvalidInputError) as err:
        advisor.evaluate(iter(parts[:1]), None, ["MSELoss"], quantile_sample=None)
    assert err.value.field == "quantile_sample"
    with pytest.raises(InvalidInputError) as err:
        advisor.evaluate(iter([x]), None, ["MSELoss"])
    assert err.value.field == "batches[0]"


_PEAK = """
import resource, sys, torch, advisor
rows, size = int(sys.argv[1]), 1_000_000
def batches():
    g = torch.Generator().manual_seed(0)
    for _ in range(rows // size):
        y = torch.randn(size, generator=g)
        yield y + 0.3 * torch.randn(size, generator=g), y
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = advisor.evaluate(batches(), None, ["MSELoss", "L1Loss"])
assert report.n_samples == rows and report.results[0].diagnostics.quantile_method == "sampled"
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_a_ten_million_row_stream_takes_the_memory_of_two_million():
    """Peak memory is bounded by the batch and the sample, not by the rows streamed."""

    env = {**os.environ, "ADVISOR_EVAL_MODE": "eager"}  # a compilation's own memory is not the stream's

    def grown(rows: int) -> int:
        done = subprocess.run([sys.executable, "-c", _PEAK, str(rows)], capture_output=True, text=True, timeout=600, check=True, env=env)
        return int(done.stdout.strip().splitlines()[-1])  # KiB

    small, large = grown(2_000_000), grown(10_000_000)
    assert large - small < 64 * 1024, (small, large)


def test_a_batch_that_fuses_differently_is_refused_with_its_index():
    """Class indices, then class probabilities: the second batch cannot join the first's state."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3000, 4, generator=g)
    t = torch.randint(0, 4, (3000,), generator=g)
    parts = [(x[:1000], t[:1000]), (x[1000:2000], torch.softmax(torch.randn(1000, 4, generator=g), 1))]
    with pytest.raises(InvalidInputError) as err:
        advisor.evaluate(iter(parts), None, ["CrossEntropyLoss"])
    assert err.value.field == "batches[1]"
