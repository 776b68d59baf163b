"""The reliability table: every recorded suite becomes its row, the lifecycle figures included."""

from __future__ import annotations

import json

from tests.reliability import report


def test_recorded_figures_become_the_tables_rows(tmp_path):
    figures = [
        {"suite": "serving", "first_s": 5.71, "second_s": 5.49},
        {"suite": "sigterm", "case": "idle", "grace_s": 2.0, "exit_s": 0.061},
        {"suite": "sigterm", "case": "after the suites' hostile calls", "grace_s": 10, "exit_s": 0.4},
        {"suite": "stop", "method": "Profile", "ending": "deadline", "stopped_ms": 98.2, "served_ms": 121.0},
        {"suite": "stop", "method": "Profile", "ending": "client killed", "stopped_ms": 10.0, "served_ms": 28.4},
        {"suite": "stop", "method": "Recommend", "ending": "client cancel", "stopped_ms": 12.0, "served_ms": 28.0},
    ]
    path = tmp_path / "figures.jsonl"
    path.write_text("".join(json.dumps({"test": "t", "long": True, **f}) + "\n" for f in figures))
    rows = report.table(report._load(path)).splitlines()
    assert rows[:2] == ["| Check | Figure |", "|---|---|"]
    text = "\n".join(rows)
    assert "first start 5.7 s, second start 5.5 s" in text
    assert "idle 0.06 s (grace 2.0 s); after the suites' hostile calls 0.40 s (grace 10 s)" in text
    assert "Profile: deadline 98 / 121 ms, client killed 10 / 28 ms; Recommend: client cancel 12 / 28 ms" in text
