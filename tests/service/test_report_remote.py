"""A report computed by a server and rendered by the light client is the in-process report."""

from __future__ import annotations

import pandas as pd
import pytest

import advisor
from advisor.reporting import render

pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")


def test_the_server_computes_and_the_client_renders_the_same_report(client):
    frame = pd.read_csv("advisor/data/delivery_times.csv")
    predictions = pd.read_csv("advisor/data/delivery_predictions.csv")["predicted_minutes"]
    features, target = frame.drop(columns="minutes"), frame["minutes"]
    options = {"validate": True, "folds": 2, "epochs": 3, "top_k": 3}
    remote = client.report(target, features, predictions.to_numpy(), **options)
    local = advisor.report(target, features, predictions.to_numpy(), **options)
    assert remote.recommendation == local.recommendation
    assert [r.loss for r in remote.evaluation.results] == [r.loss for r in local.evaluation.results]
    for got, expected in zip(remote.evaluation.results, local.evaluation.results, strict=True):
        assert got.value == pytest.approx(expected.value, rel=1e-6)
    assert remote.evaluation.lints == local.evaluation.lints
    assert remote.validation.ranking == local.validation.ranking
    assert 'data-section="validation"' in render.html(remote)
