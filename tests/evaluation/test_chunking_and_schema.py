"""Chunking changes neither values nor diagnostics, and its bound does not grow with K; the schema stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import advisor
from advisor.evaluation import chunking
from tests.evaluation.data import multiclass_data, regression_data

REG = ["MSELoss", {"loss": "HuberLoss", "params": {"delta": 0.5}}, "LogCoshLoss", {"loss": "L1Loss", "params": {"reduction": "none"}}]


@pytest.mark.parametrize("quantile_sample", [None, 200])
def test_chunked_equals_unchunked(monkeypatch, quantile_sample):
    """Exact (every row written) and sampled (the sample's rows, then the state pass) alike."""
    x, y = regression_data(1001)
    xc, yc = multiclass_data(301, 7)

    def both():
        return (
            advisor.evaluate(x, y, REG, quantile_sample=quantile_sample),
            advisor.evaluate(xc, yc, ["CrossEntropyLoss", "LogitAdjustedLoss"], quantile_sample=quantile_sample),
        )

    whole = both()
    monkeypatch.setattr(chunking, "CHUNK_BUDGET_BYTES", 4096)
    monkeypatch.setattr(chunking, "DIAG_BUDGET_BYTES", 20000)  # forces candidate blocks too
    chunks = []
    real = chunking.chunk_rows
    monkeypatch.setattr(chunking, "chunk_rows", lambda n, per, *rest: chunks.append(len(real(n, per, *rest))) or real(n, per, *rest))
    parts = both()
    assert max(chunks) > 10  # the evaluations above ran in many chunks
    for a, b in zip(whole, parts, strict=True):
        for ra, rb in zip(a.results, b.results, strict=True):
            assert ra.value == pytest.approx(rb.value, rel=1e-6) if ra.value is not None else ra.values == rb.values
            assert ra.diagnostics.loss_quantiles == rb.diagnostics.loss_quantiles
            assert ra.diagnostics.grad_max == pytest.approx(rb.diagnostics.grad_max, rel=1e-6)
            assert ra.diagnostics.top1pct_grad_share == pytest.approx(rb.diagnostics.top1pct_grad_share, rel=1e-6)


@pytest.mark.parametrize("kernel", ["regression", "binary", "multiclass"])
@pytest.mark.parametrize("k", [1, 8, 64])
@pytest.mark.parametrize("mode", ["values", "stats", "rows"])
def test_chunk_workspace_stays_under_the_budget_for_any_k(kernel, k, mode):
    per_row = chunking.row_bytes(kernel, k, 1, 1000, 2, 4, mode=mode, compiled=False)
    bounds = chunking.chunk_rows(1_000_000, per_row)
    biggest = max(b - a for a, b in bounds)
    assert biggest * per_row <= chunking.CHUNK_BUDGET_BYTES or biggest <= 2 * chunking.MIN_ROWS
    assert bounds[0][0] == 0 and bounds[-1][1] == 1_000_000
    assert all(b - a >= chunking.MIN_ROWS for a, b in bounds)


@pytest.mark.parametrize("kernel", ["regression", "binary", "multiclass"])
def test_only_rows_mode_pays_for_written_rows(kernel):
    """The state pass writes nothing per sample: its chunks are bounded by its temporaries alone."""
    args = (kernel, 8, 1, 32, 0, 4)
    rows = chunking.row_bytes(*args, mode="rows", compiled=True)
    stats = chunking.row_bytes(*args, mode="stats", compiled=True)
    values = chunking.row_bytes(*args, mode="values", compiled=True)
    assert 0 < values <= stats < rows
    written = 2 * 8 * 4  # a loss and a gradient magnitude per candidate
    held = chunking.COMPILED_STATE_TEMPORARIES_PER_SLOT * 8 * 4 if kernel != "multiclass" else 0
    assert rows - stats == written - held


def test_candidate_blocks_bound_per_sample_outputs():
    blocks = chunking.candidate_blocks(16, 10_000_000, 4)
    assert sum(b - a for a, b in blocks) == 16
    assert all((b - a) * 2 * 10_000_000 * 4 <= chunking.DIAG_BUDGET_BYTES for a, b in blocks)


def test_schema_imports_neither_torch_nor_sklearn():
    code = (
        "import sys; import advisor.schema.evaluation as m; "
        "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules, sorted(sys.modules); "
        "print(m.EvaluationReport.model_fields['note'].default)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "not comparable" in out.stdout


def test_report_round_trips_through_json():
    from advisor.schema.evaluation import EvaluationReport

    x, y = regression_data(50)
    report = advisor.evaluate(x, y, ["MSELoss", "CrossEntropyLoss"])
    again = EvaluationReport.model_validate_json(report.model_dump_json())
    assert again == report
