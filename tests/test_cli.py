"""The command line: tables for people, JSON for machines, one-line errors and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

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
