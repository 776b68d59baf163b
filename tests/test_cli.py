"""The command line: tables for people, JSON for machines, one-line errors and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from advisor import losses
from client.cli import main


def test_losses_table_lists_the_whole_catalog(capsys):
    assert main(["losses"]) == 0
    out = capsys.readouterr().out
    for name in losses.names():
        assert name in out
    assert f"{len(losses.names())} losses" in out


def test_losses_json_is_machine_readable_and_filterable(capsys):
    assert main(["losses", "--json", "--task", "count"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = {r["name"] for r in rows}
    assert {"PoissonNLLLoss", "NegativeBinomialNLLLoss", "TweedieLoss"} <= names
    assert all("count" in r["tasks"] for r in rows)
    huber = json.loads(json.dumps(losses.get("HuberLoss").describe()))
    assert huber["params"][1]["name"] == "delta"


def test_errors_are_one_line_with_non_zero_exit(tmp_path):
    missing = tmp_path / "nope.csv"
    result = subprocess.run(
        [sys.executable, "-m", "client.cli", "recommend", str(missing), "--target", "y"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: path: no such file")


def test_unknown_target_column_names_the_columns(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    assert main(["recommend", str(data), "--target", "y"]) == 2
    err = capsys.readouterr().err
    assert "no column 'y'" in err and "a, b" in err


def test_demo_recommends_a_robust_loss_for_the_bundled_example(capsys):
    assert main(["demo", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["profile"]["task"]["task"] == "regression"
    assert rec["candidates"] and rec["candidates"][0]["rationale"]
    # the bundled data has gross delays: the top choice must be a robust loss, and MSE avoided
    assert rec["candidates"][0]["loss"] in {
        "L1Loss",
        "HuberLoss",
        "SmoothL1Loss",
        "AdaptiveRobustLoss",
    }
    assert "MSELoss" in {a["loss"] for a in rec["avoid"]}


def test_recommend_reads_a_csv_with_string_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["f1,f2,label"] + [
        f"{a:.3f},{b:.3f},{'spam' if rng.random() < 0.1 else 'ham'}"
        for a, b in rng.normal(size=(300, 2))
    ]
    path = tmp_path / "mail.csv"
    path.write_text("\n".join(rows) + "\n")
    assert main(["recommend", str(path), "--target", "label"]) == 0
    out = capsys.readouterr().out
    assert "Task: binary" in out
    assert "Recommended losses:" in out


def test_validate_ranks_candidates_and_writes_a_plot(tmp_path, capsys):
    plot = tmp_path / "v.png"
    args = [
        "validate",
        "advisor/data/delivery_times.csv",
        "--target",
        "minutes",
        "--loss",
        "MSELoss",
    ]
    args += ["--loss", "HuberLoss", "--folds", "3", "--epochs", "10", "--json", "--plot", str(plot)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metric"] == "mae" and len(report["ranking"]) == 2
    assert plot.read_bytes()[:4] == b"\x89PNG"
