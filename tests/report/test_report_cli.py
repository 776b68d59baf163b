"""``loss-advisor report``: the page from a file, predictions from a column or another file,
the JSON and the page from it, and every error before any work, with its field and exit 2."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from advisor.reporting import render
from advisor.schema.report import Report
from client.cli import main

pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")

DATA = "advisor/data/delivery_times.csv"
PREDICTIONS = "advisor/data/delivery_predictions.csv:predicted_minutes"


def test_a_page_from_a_table_and_a_prediction_column(tmp_path, capsys):
    table = tmp_path / "scored.csv"
    rows = Path(DATA).read_text().splitlines()
    predicted = Path("advisor/data/delivery_predictions.csv").read_text().splitlines()
    table.write_text("\n".join(f"{a},{b}" for a, b in zip(rows, predicted, strict=True)) + "\n")
    page = tmp_path / "out.html"
    args = ["report", str(table), "--target", "minutes", "--predictions", "predicted_minutes", "-o", str(page)]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith(f"wrote {page}")
    assert "evaluated" in out
    assert "predicted_minutes" not in err  # the features line: the predictions are not a feature
    assert "features: 4 columns used" in err
    text = page.read_text(encoding="utf-8")
    assert "<code>predicted_minutes</code>" not in text
    assert 'data-figure="loss_spread"' in text


def test_json_then_the_page_from_it(tmp_path, capsys):
    saved, page = tmp_path / "r.json", tmp_path / "r.html"
    args = ["report", DATA, "--target", "minutes", "--predictions", PREDICTIONS, "--json"]
    assert main([*args, "--validate", "--folds", "2", "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    report = Report.model_validate_json(out)
    assert report.evaluation is not None and report.validation is not None
    assert report.target == "minutes" and report.source == "delivery_times.csv"
    assert report.command == "loss-advisor " + " ".join([*args, "--validate", "--folds", "2", "--epochs", "3"])
    assert not list(tmp_path.iterdir())  # --json alone writes no page
    saved.write_text(out, encoding="utf-8")
    assert main(["report", "--from-json", str(saved), "-o", str(page)]) == 0
    assert page.read_text(encoding="utf-8") == render.html(report)


@pytest.mark.parametrize(
    ("args", "field", "says"),
    [
        (["report", DATA], "target", "give DATA and --target"),
        (["report", "--target", "minutes"], "data", "give DATA and --target"),
        (["report", "--from-json", "r.json", DATA], "from_json", "give no DATA"),
        (["report", DATA, "--target", "minutes", "--predictions", "nope"], "predictions", "neither a column"),
        (["report", DATA, "--target", "nope"], "target", "no column 'nope'"),
        (["report", DATA, "--target", "minutes", "--top-k", "0"], "top_k", "at least 1"),
        (["report", DATA, "--target", "minutes", "--task", "sorting"], "task", ""),
    ],
)
def test_errors_name_their_field_and_exit_2(args, field, says, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {field}: ") and says in err


def test_a_missing_extra_is_reported_before_any_work(monkeypatch, tmp_path, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jinja2" else real(name, *a)
    )
    page = tmp_path / "r.html"
    assert main(["report", DATA, "--target", "minutes", "--validate", "-o", str(page)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: output: this needs jinja2") and "loss-advisor[report]" in err
    assert "epoch" not in err and not page.exists()
    # --json alone renders nothing, so it needs no extra
    assert main(["report", DATA, "--target", "minutes", "--json", "--top-k", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["recommendation"]["candidates"]
