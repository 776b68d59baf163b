"""``advisor.report``: what the page holds, that it is rendered from the JSON alone, that data
never becomes markup, and that the plots put candidates of different scales on fair axes."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import advisor
from advisor.reporting import plots, render
from advisor.schema.report import Report
from advisor.schema.validation import CandidateValidation, ValidationReport
from tests.ingest.frames import mixed, statsmodels_frames

pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")

SECTIONS = ("summary", "profile", "recommendation", "lints", "evaluation", "validation", "rules")


def _sections(page: str) -> list[str]:
    return re.findall(r'<section id="[^"]+" data-section="([^"]+)"', page)


def test_the_page_is_rendered_from_the_json_alone(full_report):
    again = Report.model_validate_json(full_report.model_dump_json())
    assert again == full_report
    page = render.html(full_report)
    assert render.html(again) == page  # nothing but the JSON reaches the page
    assert _sections(page) == list(SECTIONS)
    assert sorted(re.findall(r'data-figure="([^"]+)"', page)) == sorted(
        ["loss_spread", "gradient_share", "curves", "metric"]
    )


def test_every_part_the_steps_found_is_on_the_page(full_report):
    page = render.html(full_report)
    rec, ev, val = full_report.recommendation, full_report.evaluation, full_report.validation
    assert full_report.notes == []
    assert len(ev.results) == len(rec.candidates) == 4
    assert [r.loss for r in ev.results] == [c.loss for c in rec.candidates]
    assert {r.loss for r in val.results} == {c.loss for c in rec.candidates}
    for candidate in rec.candidates:
        for line in candidate.rationale:
            assert render._environment().from_string("{{ s }}").render(s=line) in page
        for rule in candidate.rules:  # each cited rule links to its entry, and the entry is there
            assert f'href="#rule-{rule}"' in page and f'id="rule-{rule}"' in page
    for lint in ev.lints:
        assert f"[{lint.code}]" in page
    for column in ("distance_km", "items", "hour", "rain"):
        assert f"<code>{column}</code>" in page
    assert full_report.recommendation.profile.residuals is not None
    assert "What a quick model leaves unexplained" in page


def test_missing_parts_say_why_and_the_sections_stay():
    frame = pd.read_csv("advisor/data/delivery_times.csv")
    report = advisor.report(frame["minutes"], title="Minutes only")
    assert report.evaluation is None and report.validation is None
    assert any("no predictions" in n for n in report.notes)
    assert any("validation was not asked for" in n for n in report.notes)
    page = render.html(report)
    assert _sections(page) == list(SECTIONS)
    assert "data-figure" not in page
    assert "<h1>Minutes only</h1>" in page
    no_features = advisor.report(frame["minutes"], validate=True)
    assert any("needs feature columns" in n for n in no_features.notes)


def test_text_from_the_data_never_becomes_markup():
    frame, churn = mixed(n=300, seed=1)
    frame = frame.rename(columns={"city": "<script>alert('city')</script>"})
    report = advisor.report(churn, frame, title="<b>churn</b> & more")
    page = render.html(report)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;city&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;churn&lt;/b&gt; &amp; more" in page


@pytest.mark.parametrize("name", ["grunfeld", "fertility", "anes96"])
def test_real_tables_as_they_ship(name, tmp_path):
    """Text firms, ID and constant columns, empty year columns, integer class codes."""
    features, target = statsmodels_frames()[name]
    path = tmp_path / f"{name}.html"
    report = advisor.report(target, features, path=path, validate=True, folds=3, epochs=5)
    page = path.read_text(encoding="utf-8")
    assert _sections(page) == list(SECTIONS)
    dropped = [c.name for c in report.recommendation.profile.features.preparation.columns if c.action == "dropped"]
    for column in dropped:
        assert f"<code>{column}</code>" in page
    assert report.validation is not None and report.validation.best is not None


def _validation(curves: dict[str, list[float]]) -> ValidationReport:
    results = [
        CandidateValidation(
            loss=name,
            label=name,
            params={"delta": 1.5} if name == "HuberLoss" else {},
            train_curve=[v * 0.9 for v in curve],
            validation_curve=curve,
            validation_curve_std=[v / 10 for v in curve],
            mean={"mae": float(i + 1)},
            std={"mae": 0.1},
        )
        for i, (name, curve) in enumerate(curves.items())
    ]
    return ValidationReport(
        task="regression", metric="mae", greater_is_better=False, model="linear", folds=3,
        seed=0, epochs_requested=4, epochs_completed=4, partial=False, stop_reason="completed",
        elapsed_s=1.0, device="cpu", results=results, ranking=list(curves),
    )


def test_curves_are_each_over_their_own_first_epoch():
    report = _validation({"HuberLoss": [2e6, 1e6, 5e5, 4e5], "L1Loss": [4.0, 2.0, 1.0, 1.0]})
    curves = plots.normalised_curves(report)
    np.testing.assert_allclose(curves["HuberLoss"][1], [1.0, 0.5, 0.25, 0.2])
    np.testing.assert_allclose(curves["L1Loss"][1], [1.0, 0.5, 0.25, 0.25])
    np.testing.assert_allclose(curves["L1Loss"][0], [0.9, 0.45, 0.225, 0.225])
    np.testing.assert_allclose(curves["HuberLoss"].spread, [0.1, 0.05, 0.025, 0.02])
    plt = plots._pyplot()
    fig, ax = plt.subplots()
    plots.draw_curves(ax, report)
    bands = [c.get_paths()[0].vertices[:, 1] for c in ax.collections]
    assert len(bands) == 2  # one held-out band per candidate, ± its normalised spread
    assert bands[0].min() == pytest.approx(0.2 - 0.02) and bands[0].max() == pytest.approx(1.1)
    assert ax.get_yscale() == "linear"  # 0.2 to 1: raw losses of 4 and 2e6 would have hidden one
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["HuberLoss(delta=1.5)", "L1Loss"]
    plt.close(fig)


def test_a_log_axis_when_the_curves_span_more_than_100x():
    report = _validation({"MSELoss": [1.0, 1e-2, 1e-4], "L1Loss": [1.0, 0.5, 0.4]})
    plt = plots._pyplot()
    fig, ax = plt.subplots()
    plots.draw_curves(ax, report)
    assert ax.get_yscale() == "log"
    plt.close(fig)


def test_a_negative_first_loss_leaves_its_curve_unscaled():
    report = _validation({"GaussianNLLLoss": [-0.5, -1.0, -1.2]})
    assert plots.normalised_curves(report)["GaussianNLLLoss"][1] == [-0.5, -1.0, -1.2]


def test_the_loss_spread_is_each_candidates_quantiles_over_its_max(full_report):
    plt = plots._pyplot()
    fig, ax = plt.subplots()
    plots.draw_loss_spread(ax, full_report.evaluation)
    q = full_report.evaluation.results[0].diagnostics.loss_quantiles
    p50_marks = ax.collections[0].get_offsets()
    assert p50_marks[0][0] == pytest.approx(max(q.p50 / q.max, plots.SPREAD_FLOOR))
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        plots.label_of(r.loss, r.params) for r in full_report.evaluation.results
    ]
    plt.close(fig)


def test_labels_carry_hyperparameters_but_not_the_reduction():
    assert plots.label_of("HuberLoss", {"delta": 1.23456, "reduction": "mean"}) == "HuberLoss(delta=1.23)"
    assert plots.label_of("CrossEntropyLoss", {"weight": [0.5, 1.0, 2.0, 4.0]}) == "CrossEntropyLoss(weight=[4 values])"
    assert plots.label_of("L1Loss", {}) == "L1Loss"
    assert len(plots.label_of("X", {"a": "y" * 100}, limit=20)) == 20


def test_the_validation_png_uses_the_same_plots(full_report, tmp_path):
    path = full_report.validation.plot(str(tmp_path / "v.png"))
    with open(path, "rb") as fh:
        assert fh.read(4) == b"\x89PNG"


def test_rendering_imports_neither_torch_nor_sklearn(full_report, tmp_path):
    saved = tmp_path / "report.json"
    saved.write_text(full_report.model_dump_json(), encoding="utf-8")
    code = (
        "import sys\n"
        "from advisor.schema.report import Report\n"
        "from advisor.reporting import render\n"
        f"report = Report.model_validate_json(open({str(saved)!r}).read())\n"
        f"render.write(report, {str(tmp_path / 'page.html')!r})\n"
        "print(sorted(m for m in ('torch', 'sklearn', 'scipy', 'pandas') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == render.html(full_report)


def _task_cases():
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=(n, 3))
    mu = np.exp(0.5 + 0.6 * x[:, 0])
    visits = rng.negative_binomial(2, 2 / (2 + mu))
    bought = (x[:, 1] + rng.normal(size=n) > 0).astype(object)
    bought[::37] = None  # missing labels: left out of every step
    tags = (rng.random((n, 4)) < [0.5, 0.2, 0.05, 0.3]).astype(float)
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    return {
        "count": (pd.Series(visits, name="visits"), frame, np.log(mu)),
        "binary": (pd.Series(bought, name="bought"), frame, 1 / (1 + np.exp(-x[:, 1]))),
        "multilabel": (tags, x, rng.normal(size=(n, 4))),
    }


@pytest.mark.parametrize("task", ["count", "binary", "multilabel"])
def test_each_task_fills_every_part(task):
    targets, features, predictions = _task_cases()[task]
    report = advisor.report(targets, features, predictions, validate=True, folds=2, epochs=3, top_k=3)
    assert report.recommendation.profile.task.task.value == task
    assert any(not r.skipped for r in report.evaluation.results)
    assert report.validation.best is not None
    page = render.html(report)
    assert _sections(page) == list(SECTIONS)
    assert len(re.findall(r'data-figure="', page)) == 4


def test_an_ambiguous_reading_shows_both_readings_losses():
    from tests.profiler.test_integer_readings import _long_tailed_classes

    y, _ = _long_tailed_classes(2)
    report = advisor.report(y)
    t, rec = report.recommendation.profile.task, report.recommendation
    assert t.ambiguous and rec.runner_up
    page = render.html(report)
    assert f"Integers read as <strong>{t.reading}</strong>, runner-up: {t.runner_up_reading}" in page
    assert f"If the targets are read as {t.runner_up_reading}" in page
    for c in rec.runner_up:
        assert f"<code>{plots.label_of(c.loss, c.params, limit=200)}</code>" in page
        for rule in c.rules:
            assert f'id="rule-{rule}"' in page
