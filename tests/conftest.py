"""Fixtures every suite may use.

``record(**figures)`` appends a test's figures as one JSON line to the file named by
``RELIABILITY_REPORT`` (and does nothing without it): ``tests.reliability.report`` runs the
long forms of the reliability suites and the lifecycle tests of ``tests/service`` with it set,
and turns the lines into the README's reliability table.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def record_figures(test: str, **figures) -> None:
    """Append ``figures`` of ``test`` to the report file, if one is named."""
    value = os.environ.get("RELIABILITY_REPORT")
    if not value:
        return
    long = os.environ.get("RELIABILITY_LONG") == "1"
    with Path(value).open("a") as out:
        out.write(json.dumps({"test": test, "long": long, **figures}) + "\n")


@pytest.fixture
def record(request):
    """``record(**figures)``: keep this test's figures for the README table."""
    return lambda **figures: record_figures(request.node.name, **figures)
