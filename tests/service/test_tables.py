"""One table, four doors: the library, the command line on CSV and on Parquet, and the
service through the light client all give the same profile, classes and recommendation."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

import advisor
from advisor.schema.recommendation import Recommendation
from client.cli import main
from tests.ingest.frames import mixed, sklearn_frames, statsmodels_frames


@pytest.fixture(scope="module")
def table():
    frame, churn = mixed(n=300, seed=3)
    return frame.assign(churn=churn)


def _cli(capsys, path, target="churn"):
    assert main(["recommend", str(path), "--target", target, "--json"]) == 0
    return Recommendation.model_validate_json(capsys.readouterr().out)


@pytest.mark.parametrize("door", ["csv", "parquet", "service"])
def test_every_entry_point_reads_the_table_alike(door, table, tmp_path, capsys, client):
    features = table.drop(columns="churn")
    expected = advisor.recommend(table["churn"], features=features)
    if door == "csv":
        path = tmp_path / "table.csv"
        table.to_csv(path, index=False)
        got = _cli(capsys, path)
    elif door == "parquet":
        pytest.importorskip("pyarrow")
        path = tmp_path / "table.parquet"
        table.to_parquet(path, index=False)
        got = _cli(capsys, path)
    else:
        got = client.recommend(table["churn"], features=features)
    assert got.profile.classes == expected.profile.classes
    assert got.profile.features.preparation == expected.profile.features.preparation
    assert got.profile == expected.profile
    assert [c.model_dump() for c in got.candidates] == [c.model_dump() for c in expected.candidates]


def _real_frames():
    pytest.importorskip("statsmodels")
    return {**statsmodels_frames(), **sklearn_frames()}


@pytest.mark.parametrize(
    "name", ["grunfeld", "fertility", "anes96", "fair", "iris_species", "wine", "breast_cancer", "diabetes"]
)
def test_real_published_tables_read_alike_through_files_and_the_service(name, tmp_path, capsys, client):
    """As shipped: grunfeld's text firm, fertility's ID, constant and empty columns, anes96's
    integer codes, iris with its species as text; written to CSV and Parquet, sent as a table."""
    features, target = _real_frames()[name]
    column = str(target.name or "target")
    table = features.assign(**{column: target})
    expected = advisor.recommend(target, features=features)
    table.to_csv(tmp_path / "t.csv", index=False)
    doors = {"csv": tmp_path / "t.csv"}
    if importlib.util.find_spec("pyarrow") is not None:
        table.to_parquet(tmp_path / "t.parquet", index=False)
        doors["parquet"] = tmp_path / "t.parquet"
    got = {door: _cli(capsys, path, column) for door, path in doors.items()}
    got["service"] = client.recommend(target, features=features)
    for door, rec in got.items():
        assert rec.profile == expected.profile, door
        assert [c.model_dump() for c in rec.candidates] == [c.model_dump() for c in expected.candidates], door


def test_the_service_takes_categorical_and_validates_a_table(table, client):
    features = table.drop(columns="churn")
    report = client.validate(
        features, table["churn"], ["BCEWithLogitsLoss"], folds=3, epochs=3, categorical=["plan_code"]
    )
    local = advisor.validate(
        features, table["churn"], ["BCEWithLogitsLoss"], folds=3, epochs=3, categorical=["plan_code"]
    )
    assert report.preparation == local.preparation
    code = next(c for c in report.preparation.columns if c.name == "plan_code")
    assert code.action == "encoded"
    assert report.results[0].mean == pytest.approx(local.results[0].mean, rel=1e-6)


def test_a_table_without_pandas_a_dict_of_columns(table, client):
    columns = {name: table[name].to_numpy() for name in table.columns if name != "churn"}
    remote = client.profile(table["churn"].to_numpy(), features=columns)
    assert remote == advisor.profile(table["churn"], features=table.drop(columns="churn"))


def test_the_cli_says_which_columns_it_used(table, tmp_path, capsys):
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    assert main(["recommend", str(path), "--target", "churn"]) == 0
    err = capsys.readouterr().err
    assert "features: 5 columns used" in err
    assert "customer_id (ID-like" in err and "country (constant" in err
    assert main(["recommend", str(path), "--target", "churn", "--json"]) == 0
    assert capsys.readouterr().err == ""


def test_missing_labels_over_the_wire_are_missing(client):
    labels = pd.Series(["a", "b", np.nan, "a", None, "b"] * 20, dtype=object)
    remote = client.recommend(labels, top_k=2)
    assert remote.profile.classes.labels == ["a", "b"]
    assert remote.profile.targets.n_missing == 40
    assert remote.profile == advisor.profile(labels)


def test_the_profile_command_shows_what_became_of_each_column(table, tmp_path, capsys):
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    assert main(["profile", str(path), "--target", "churn", "--categorical", "plan_code"]) == 0
    out = capsys.readouterr().out
    assert "Task: binary" in out and "Classes: 2 (no: " in out
    assert "  plan_code: numeric, encoded: 4 of 4 categories one-hot encoded" in out
    assert "  customer_id: text, dropped: ID-like" in out
    assert "np." not in out  # plain values, no numpy reprs
    assert main(["profile", str(path), "--target", "churn", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["residuals"]["confident_mistake_share"] is not None
