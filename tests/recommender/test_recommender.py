"""The recommender: table integrity, pure ranking, data-derived hyperparameters, goals, avoid."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import advisor
from advisor import losses
from advisor.errors import ParameterError
from advisor.recommender import RULES, describe, parse_goal, recommend_from_profile
from advisor.recommender.derive import DERIVATIONS
from advisor.recommender.facts import facts
from advisor.schema.recommendation import Goal, Recommendation

R = np.random.default_rng(0)


# ----- the table is data, and consistent with the catalog ---------------------------------


def test_rule_ids_are_unique_and_every_row_cites_a_source():
    assert len({r.id for r in RULES}) == len(RULES)
    for r in RULES:
        assert re.search(r"guide 00[0-3]|past the guides", r.template), r.id
        assert r.favour or r.avoid, r.id


def test_rules_name_only_catalog_losses_params_and_derivations():
    names = set(losses.names())
    for r in RULES:
        for loss in (*r.favour, *r.avoid, *r.params, *r.say):
            assert loss in names, (r.id, loss)
        for loss, how in r.params.items():
            spec = losses.get(loss)
            for param, derivation in how.items():
                assert param in spec.param_names, (r.id, loss, param)
                assert derivation in DERIVATIONS, (r.id, derivation)


def test_guide_000_rows_are_all_covered():
    cites = " ".join(r.cite for r in RULES)
    for row in ("L1 Loss (MAE)", "L2 Loss (MSE)", "Cross-Entropy", "Hinge", "Huber", "Poisson"):
        assert f"table row {row}" in cites, row


def test_templates_only_quote_known_facts():
    # Every fact a template can name must exist in some profile's facts.
    known: set[str] = set()
    samples = [
        advisor.profile(
            R.normal(size=200), features=R.normal(size=(200, 3)), predictions=R.normal(size=200)
        ),
        advisor.profile(R.poisson(2, 300)),
        advisor.profile(R.poisson(2, 300), features=R.normal(size=(300, 2))),
        advisor.profile(R.integers(0, 2, 100), predictions=R.normal(size=100)),
        advisor.profile(R.integers(0, 2, 100), features=R.normal(size=(100, 2))),
        advisor.profile((R.random((100, 4)) < 0.3).astype(int)),
        advisor.profile(R.dirichlet(np.ones(3), 50)),
    ]
    for p in samples:
        known |= set(facts(p, Goal(kind="quantile", quantiles=[0.9])))
    for r in RULES:
        assert r.fields() <= known, (r.id, r.fields() - known)


def test_describe_is_json():
    rows = json.loads(json.dumps(describe()))
    assert len(rows) == len(RULES)


# ----- ranking is pure -----------------------------------------------------------------------


def test_ranking_is_a_pure_function_of_the_profile():
    y = R.standard_t(3, 500)
    rec = advisor.recommend(y, goal="robust")
    wire = type(rec.profile).model_validate_json(rec.profile.model_dump_json())
    again = recommend_from_profile(wire, goal="robust")
    assert again.model_dump() == rec.model_dump()


def test_recommendation_round_trips_as_json():
    rec = advisor.recommend((R.random(300) < 0.1).astype(int))
    back = Recommendation.model_validate_json(rec.model_dump_json())
    assert back == rec
    assert back.best == rec.candidates[0]


def test_top_k_limits_and_orders_candidates():
    rec = advisor.recommend(R.normal(size=200), top_k=3)
    assert len(rec.candidates) == 3
    scores = [c.score for c in rec.candidates]
    assert scores == sorted(scores, reverse=True)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ParameterError) as e:
            advisor.recommend(R.normal(size=20), top_k=bad)
        assert e.value.field == "top_k"


# ----- hyperparameters come from the data ----------------------------------------------------


def _params(rec: Recommendation, loss: str) -> dict:
    return next(c.params for c in rec.candidates if c.loss == loss)


def test_huber_delta_and_smoothl1_beta_from_the_mad():
    y = R.normal(10, 3, 1000)
    y[:80] += 100
    rec = advisor.recommend(y, top_k=10)
    mad = np.median(np.abs(y - np.median(y)))
    assert _params(rec, "HuberLoss")["delta"] == pytest.approx(1.345 * 1.4826 * mad)
    assert _params(rec, "SmoothL1Loss")["beta"] == pytest.approx(1.345 * 1.4826 * mad)
    assert _params(rec, "AdaptiveRobustLoss")["scale"] == pytest.approx(1.4826 * mad)


def test_outlier_rationale_quotes_the_measured_share():
    y = R.normal(0, 1, 1000)
    y[:81] = 40.0
    rec = advisor.recommend(y, top_k=10)
    share = rec.profile.targets.outlier_share_mz
    huber = next(c for c in rec.candidates if c.loss == "HuberLoss")
    expected = f"{100 * share:.1f}% of targets are outliers by modified z > 3.5"
    assert any(expected in r and "(guide 000, table row Huber)" in r for r in huber.rationale)
    assert any(a.loss == "MSELoss" for a in rec.avoid)


def test_pos_weight_is_n_neg_over_n_pos():
    y = np.array([0] * 90 + [1] * 10)
    rec = advisor.recommend(y)
    assert _params(rec, "BCEWithLogitsLoss")["pos_weight"] == [pytest.approx(9.0)]


def test_multilabel_pos_weight_per_label():
    y = np.zeros((100, 3), dtype=int)
    y[:10, 0] = 1
    y[:50, 1] = 1
    y[:25, 2] = 1
    pw = _params(advisor.recommend(y), "BCEWithLogitsLoss")["pos_weight"]
    assert pw == pytest.approx([9.0, 1.0, 3.0])


def test_class_weights_balanced_and_effective_number():
    y = np.array([0] * 700 + [1] * 200 + [2] * 100)
    rec = advisor.recommend(y, top_k=10)
    assert _params(rec, "CrossEntropyLoss")["weight"] == pytest.approx(
        [1000 / (3 * n) for n in (700, 200, 100)]
    )
    cb = _params(rec, "ClassBalancedLoss")
    assert cb["samples_per_class"] == [700.0, 200.0, 100.0]
    assert cb["beta"] == pytest.approx(1 - 1 / 700)
    assert _params(rec, "LogitAdjustedLoss")["class_priors"] == pytest.approx([0.7, 0.2, 0.1])
    focal = _params(rec, "FocalLoss")
    assert focal["gamma"] == pytest.approx(1 + 0.5 * np.log2(7))
    assert sum(focal["alpha"]) == pytest.approx(1.0)


def test_tweedie_power_and_nb_dispersion():
    y = np.where(R.random(2000) < 0.4, 0.0, R.gamma(2, 2, 2000))
    rec = advisor.recommend(y)
    assert rec.best.loss == "TweedieLoss"
    assert rec.best.params["power"] == pytest.approx(2 - rec.profile.targets.share_zeros)
    counts = R.negative_binomial(2, 0.25, 2000)
    nb = advisor.recommend(counts)
    assert nb.best.loss == "NegativeBinomialNLLLoss"
    m, v = counts.mean(), counts.var(ddof=1)
    assert nb.best.params["dispersion"] == pytest.approx((v - m) / m**2)


def test_poisson_log_input_follows_the_predictions():
    y = R.poisson(2, 300)
    rates = advisor.recommend(y, predictions=R.gamma(2, 1, 300))
    log_rates = advisor.recommend(y, predictions=R.normal(size=300))
    assert _params(rates, "PoissonNLLLoss")["log_input"] is False
    assert _params(log_rates, "PoissonNLLLoss")["log_input"] is True


def test_calibrated_goal_drops_reweighting():
    y = (R.random(500) < 0.1).astype(int)
    rec = advisor.recommend(y, goal="calibrated", top_k=10)
    assert "pos_weight" not in rec.best.params
    assert {"HingeLoss", "SoftMarginLoss"} <= {a.loss for a in rec.avoid}


# ----- goals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "qs"),
    [
        ("robust", "robust", []),
        ("Calibrated", "calibrated", []),
        ("median", "median", [0.5]),
        ("quantile:0.9", "quantile", [0.9]),
        ("quantile:0.1,0.5,0.9", "quantile", [0.1, 0.5, 0.9]),
        ("q=0.25", "quantile", [0.25]),
        ("p90", "quantile", [0.9]),
        ("quantile:0.5", "median", [0.5]),
        ("ranking", "ranking", []),
    ],
)
def test_goal_parsing(text, kind, qs):
    g = parse_goal(text)
    assert (g.kind, g.quantiles) == (kind, qs)


@pytest.mark.parametrize(
    "bad", ["fast", "quantile:1.5", "quantile:0", "quantile:abc", "quantile:", 3]
)
def test_bad_goals_are_parameter_errors(bad):
    with pytest.raises(ParameterError) as e:
        advisor.recommend([0.0, 1.0, 2.5], goal=bad)
    assert e.value.field == "goal"


def test_quantile_goal_sets_the_levels():
    rec = advisor.recommend(R.normal(size=300), goal="quantile:0.1,0.9")
    assert rec.best.loss == "QuantileLoss"
    assert rec.best.params["quantiles"] == [0.1, 0.9]
    assert any(a.loss == "MSELoss" for a in rec.avoid)


# ----- avoid: the guides' mistakes -----------------------------------------------------------


def test_bce_avoided_on_logits_and_bce_with_logits_on_probabilities():
    y = R.integers(0, 2, 200)
    logits = advisor.recommend(y, predictions=R.normal(size=200) * 3)
    assert "BCELoss" in {a.loss for a in logits.avoid}
    probs = advisor.recommend(y, predictions=R.random(200))
    assert "BCEWithLogitsLoss" in {a.loss for a in probs.avoid}


def test_cross_entropy_on_softmax_outputs_is_guide_002s_mistake():
    y = R.integers(0, 3, 150)
    z = R.normal(size=(150, 3))
    probs = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    rec = advisor.recommend(y, predictions=probs)
    ce = next(a for a in rec.avoid if a.loss == "CrossEntropyLoss")
    assert any("guide 002" in r for r in ce.reasons)
    # every loss that applies its own softmax is kept out of the ranking, not just CE
    ranked = {c.loss for c in rec.candidates}
    assert not ranked & {"CrossEntropyLoss", "FocalLoss", "ClassBalancedLoss", "LogitAdjustedLoss"}


def test_nll_on_raw_scores_is_guide_003s_mistake():
    rec = advisor.recommend(R.integers(0, 3, 150), predictions=R.normal(size=(150, 3)))
    nll = next(a for a in rec.avoid if a.loss == "NLLLoss")
    assert any("guide 003" in r for r in nll.reasons)


def test_explain_is_readable_and_complete():
    rec = advisor.recommend(R.standard_t(2, 400))
    text = rec.explain()
    assert text.startswith("Task: regression")
    assert rec.best.loss in text
    assert "Avoid:" in text and "MSELoss" in text


def test_schema_modules_import_neither_torch_nor_sklearn():
    code = (
        "import sys; import advisor.schema.profile, advisor.schema.recommendation; "
        "bad = [m for m in ('torch', 'sklearn') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_recommend_is_deterministic():
    y = R.poisson(3, 400)
    x = R.normal(size=(400, 4))
    assert advisor.recommend(y, x).model_dump() == advisor.recommend(y, x).model_dump()


def test_avoid_reason_joins_its_reasons():
    rec = advisor.recommend(R.integers(0, 3, 150), predictions=R.normal(size=(150, 3)))
    for a in rec.avoid:
        assert a.reason == "; ".join(a.reasons)


# ----- cancellation ----------------------------------------------------------------------------


def test_a_cancelled_recommendation_raises_at_once_or_at_its_next_step(monkeypatch):
    """``cancel`` already set: nothing runs. Set mid-call (as the baselines' second fold
    starts): that fit sees it and nothing more runs. Never set: the same recommendation."""
    import threading
    import time

    from advisor.errors import CancelledError
    from advisor.profiler import residuals

    recommend = advisor.recommend  # loaded before the clock starts
    x = R.normal(size=(900, 6))  # too few rows for the trees: the ridge baseline alone
    y = x @ R.normal(size=6) + R.standard_t(3, size=900)
    stop = threading.Event()
    stop.set()
    started = time.perf_counter()
    with pytest.raises(CancelledError) as err:
        recommend(y, features=x, cancel=stop)
    assert err.value.field == "cancel" and time.perf_counter() - started < 0.5

    stop = threading.Event()
    fits: list[float] = []
    fit = residuals._fit

    def counted(model, *args):
        fits.append(time.perf_counter())
        if len(fits) == 2:
            stop.set()
        return fit(model, *args)

    monkeypatch.setattr(residuals, "_fit", counted)
    with pytest.raises(CancelledError):
        recommend(y, features=x, cancel=stop)
    assert len(fits) == 2 and time.perf_counter() - fits[1] < 1.0
    monkeypatch.setattr(residuals, "_fit", fit)
    assert recommend(y, features=x, cancel=threading.Event()) == recommend(y, features=x)
