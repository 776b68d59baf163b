"""Every step reads a table and its labels the same way: profile, recommend, evaluate, validate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import advisor
from advisor import io
from advisor.validation.data import prepare
from advisor.vocabulary import Task
from tests.ingest.frames import mixed, sklearn_frames, statsmodels_frames


def _label_containers():
    words = ["yes", "no", "yes", "maybe"] * 10
    holes = {3: "", 9: "NA", 14: None, 22: float("nan")}
    as_list = [holes.get(i, w) for i, w in enumerate(words)]
    series = pd.Series(as_list, dtype="string")  # pandas' NA
    return {
        "list": as_list,
        "numpy": np.array(as_list, dtype=object),
        "pandas-string": series,
        "pandas-object": pd.Series(as_list, dtype=object),
    }


@pytest.mark.parametrize("container", list(_label_containers()))
def test_missing_labels_are_one_thing_in_every_container(container):
    labels = _label_containers()[container]
    profile = advisor.profile(labels)
    assert profile.classes.labels == ["maybe", "no", "yes"]
    assert profile.targets.n_missing == 4 and profile.targets.n_used == 36


def test_a_csv_reads_its_missing_labels_like_pandas(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("y,x\n" + "\n".join(f"{v},{i}" for i, v in enumerate(["a", "", "NA", "b", "null", "a"] * 5)))
    table = io.read_table(path)
    from_csv = advisor.profile(table["y"])
    assert from_csv.classes.labels == ["a", "b"] and from_csv.targets.n_missing == 15


def test_text_labels_have_one_mapping_in_profile_evaluate_and_validate():
    frame, churn = mixed()
    profile = advisor.profile(churn, features=frame)
    kept = churn.notna() & ~churn.isin(["", "NA"])
    logits = np.random.default_rng(0).normal(size=(len(churn), 2))
    evaluation = advisor.evaluate(logits, churn, ["CrossEntropyLoss"])
    report = advisor.validate(frame, churn, ["BCEWithLogitsLoss"], folds=3, epochs=3)
    data = prepare(frame, churn, Task.BINARY, 3, 0)
    assert profile.classes.labels == evaluation.classes == data.classes == report.classes == ["no", "yes"]
    assert evaluation.n_excluded == report.n_excluded == int((~kept).sum())
    codes = torch.as_tensor((churn[kept] == "yes").to_numpy().astype(np.int64))
    expected = torch.nn.functional.cross_entropy(torch.as_tensor(logits[kept.to_numpy()]), codes)
    assert evaluation.results[0].value == pytest.approx(expected.item(), rel=1e-9)


def test_no_held_out_row_shapes_the_inputs_of_its_fold():
    frame, churn = mixed()
    data = prepare(frame, churn, Task.BINARY, 3, 0)
    fold = data.fold.numpy()
    kept = (churn.notna() & ~churn.isin(["", "NA"])).to_numpy()
    rows = np.flatnonzero(kept)
    held_out = rows[fold == 0]
    changed = frame.copy()
    changed.loc[held_out, "income"] = changed.loc[held_out, "income"] * 1000 + 7
    changed.loc[held_out, "city"] = "atlantis"  # a category no training row has
    again = prepare(changed, churn, Task.BINARY, 3, 0)
    assert torch.equal(data.fold, again.fold)
    training = torch.as_tensor(fold != 0)
    width = data.x.shape[2]  # other folds see "atlantis" and may widen the padded stack
    torch.testing.assert_close(again.x[0][training][:, :width], data.x[0][training], rtol=0, atol=0)
    assert not again.x[0][:, width:].any()
    # the other folds trained on those rows, so their inputs do change
    assert not torch.equal(again.x[1][training], data.x[1][training])


def test_validate_takes_text_labels_with_missing_cells_and_reports_the_preparation():
    frame, churn = mixed()
    report = advisor.validate(frame, churn, folds=3, epochs=5)
    assert report.task == "binary" and report.ranking
    assert report.preparation is not None
    dropped = {c.name for c in report.preparation.columns if c.action == "dropped"}
    assert dropped == {"customer_id", "country", "comment"}
    assert any("missing target" in note for note in report.notes)


REAL = {**sklearn_frames(), **statsmodels_frames()}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_tables_pass_every_step(name):
    frame, target = REAL[name]
    rec = advisor.recommend(target, features=frame)
    prep = rec.profile.features.preparation
    assert prep.n_output_columns > 0
    assert {c.name for c in prep.columns} == set(frame.columns)
    report = advisor.validate(frame, target, [rec.best.loss], task=rec.profile.task.task.value, folds=3, epochs=3)
    assert report.ranking == [rec.best.loss]
    if rec.profile.classes is not None and rec.profile.classes.encoding == "labels":
        labels = pd.Series(target).map(lambda v: f"class {float(v):g}")  # the labels as text
        k = rec.profile.classes.n_classes
        scores = np.random.default_rng(0).normal(size=(len(labels), k))
        evaluation = advisor.evaluate(scores, labels, ["CrossEntropyLoss"])
        assert evaluation.classes == sorted(f"class {float(v):g}" for v in rec.profile.classes.labels)


def test_a_text_column_with_signal_beats_the_numbers_alone():
    """grunfeld: each firm invests at its own level; firm is text as shipped."""
    frame, invest = statsmodels_frames()["grunfeld"]
    numeric = frame[["value", "capital", "year"]]
    scores = {}
    for label, features in (("all", frame), ("numeric", numeric)):
        report = advisor.validate(features, invest, ["HuberLoss"], task="regression", epochs=100, seed=0)
        scores[label] = report.results[0].mean["mae"]
    assert scores["all"] < 0.7 * scores["numeric"], scores


@pytest.mark.parametrize(
    "labels",
    [
        pd.Series([True, False, None, True] * 25, dtype=object),  # as a CSV of yes/no reads
        pd.Series([True, False, None, True] * 25, dtype="boolean"),  # pandas' nullable booleans
        pd.Series([1, 0, None, 1] * 25, dtype="Int64"),
    ],
    ids=["object", "boolean", "Int64"],
)
def test_boolean_and_nullable_labels_with_holes_evaluate_like_their_numbers(labels):
    probabilities = np.linspace(0.05, 0.95, len(labels))
    report = advisor.evaluate(probabilities, labels, ["BCELoss"])
    kept = labels.notna().to_numpy()
    expected = torch.nn.functional.binary_cross_entropy(
        torch.as_tensor(probabilities[kept]), torch.as_tensor(np.array(labels[kept].astype(float)))
    )
    assert report.n_excluded == 25 and report.n_samples == 75
    assert report.results[0].value == pytest.approx(expected.item(), rel=1e-12)
