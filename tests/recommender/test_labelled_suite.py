"""The labelled suite: each case names the expected task and the acceptable top-1 losses.

Cases are synthetic (seeded) or scikit-learn's bundled data sets, which need no network.
Every case is its own test, and one test reports the pass rates against the issue's bars
(95% task, 90% top-1), so a regression in one rule shows up as a named failure. Every
candidate of every case must also validate against the catalog spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from sklearn import datasets

import advisor
from advisor import losses
from advisor.schema.recommendation import Recommendation


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], dict[str, Any]]
    task: str
    top1: frozenset[str]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _gross_outliers() -> dict[str, Any]:
    g = rng(1)
    y = g.normal(10.0, 2.0, 1000)
    hit = g.random(1000) < 0.08
    y[hit] += g.choice([-1.0, 1.0], hit.sum()) * g.uniform(20, 60, hit.sum())
    return {"targets": y}


def _mild_outliers() -> dict[str, Any]:
    g = rng(2)
    y = g.normal(0.0, 1.0, 1000)
    hit = g.random(1000) < 0.04
    y[hit] *= 4.0
    return {"targets": y}


def _probabilities(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ROBUST = frozenset({"HuberLoss", "L1Loss", "SmoothL1Loss", "AdaptiveRobustLoss", "LogCoshLoss"})
REGRESSION_OK = frozenset({"MSELoss"}) | ROBUST
BINARY_IMBALANCED = frozenset({"BCEWithLogitsLoss", "FocalLoss", "ClassBalancedLoss"})
MULTICLASS_IMBALANCED = frozenset(
    {"CrossEntropyLoss", "ClassBalancedLoss", "LogitAdjustedLoss", "FocalLoss"}
)


def _sk(name: str, **kw: Any) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        b = getattr(datasets, f"load_{name}")()
        return {"targets": b.target, "features": b.data, **kw}

    return build


CASES = [
    # --- scikit-learn's bundled data sets --------------------------------------------------
    Case("sk-diabetes", _sk("diabetes"), "regression", frozenset({"MSELoss", "HuberLoss"})),
    Case("sk-breast_cancer", _sk("breast_cancer"), "binary", frozenset({"BCEWithLogitsLoss"})),
    Case("sk-iris", _sk("iris"), "multiclass", frozenset({"CrossEntropyLoss"})),
    Case("sk-wine", _sk("wine"), "multiclass", frozenset({"CrossEntropyLoss"})),
    Case("sk-digits", _sk("digits"), "multiclass", frozenset({"CrossEntropyLoss"})),
    Case("sk-linnerud", _sk("linnerud"), "regression", REGRESSION_OK),
    Case(
        "sk-iris-one-hot",
        lambda: {"targets": np.eye(3)[datasets.load_iris().target]},
        "multiclass",
        frozenset({"CrossEntropyLoss"}),
    ),
    Case(
        "sk-breast_cancer-strings",
        lambda: {
            "targets": np.array(["malignant", "benign"])[datasets.load_breast_cancer().target]
        },
        "binary",
        frozenset({"BCEWithLogitsLoss"}),
    ),
    # --- regression -----------------------------------------------------------------------
    Case(
        "gaussian",
        lambda: {"targets": rng(3).normal(5.0, 2.0, 1000)},
        "regression",
        frozenset({"MSELoss"}),
    ),
    Case(
        "uniform",
        lambda: {"targets": rng(4).uniform(-3, 7, 800)},
        "regression",
        frozenset({"MSELoss"}),
    ),
    Case("gross-outliers", _gross_outliers, "regression", frozenset({"L1Loss", "HuberLoss"})),
    Case("mild-outliers", _mild_outliers, "regression", ROBUST),
    Case("student-t2", lambda: {"targets": rng(5).standard_t(2, 1000)}, "regression", ROBUST),
    Case(
        "lognormal",
        lambda: {"targets": rng(6).lognormal(0.0, 1.0, 1000)},
        "regression",
        ROBUST | {"TweedieLoss"},
    ),
    Case(
        "zero-mass-positive",
        lambda: {"targets": np.where(rng(7).random(1000) < 0.6, 0.0, rng(8).gamma(2.0, 3.0, 1000))},
        "regression",
        frozenset({"TweedieLoss"}),
    ),
    Case(
        "integer-regression",
        lambda: {"targets": rng(9).normal(200, 40, 500).round()},
        "regression",
        frozenset({"MSELoss"}),
    ),
    Case(
        "multi-output",
        lambda: {"targets": rng(10).normal(size=(400, 3)) * [1.0, 10.0, 100.0]},
        "regression",
        frozenset({"MSELoss"}),
    ),
    Case(
        "torch-targets",
        lambda: {"targets": torch.from_numpy(rng(11).normal(size=500)).float()},
        "regression",
        frozenset({"MSELoss"}),
    ),
    Case(
        "list-with-missing",
        lambda: {
            "targets": [
                None if i % 10 == 0 else float(v) for i, v in enumerate(rng(12).normal(size=300))
            ]
        },
        "regression",
        frozenset({"MSELoss"}),
    ),
    # --- counts ---------------------------------------------------------------------------
    Case(
        "poisson-2",
        lambda: {"targets": rng(13).poisson(2.0, 1000)},
        "count",
        frozenset({"PoissonNLLLoss"}),
    ),
    Case(
        "poisson-0.5",
        lambda: {"targets": rng(14).poisson(0.5, 800)},
        "count",
        frozenset({"PoissonNLLLoss"}),
    ),
    Case(
        "negative-binomial",
        lambda: {"targets": rng(15).negative_binomial(1, 0.2, 1000)},
        "count",
        frozenset({"NegativeBinomialNLLLoss"}),
    ),
    Case(
        "zero-inflated-counts",
        lambda: {"targets": np.where(rng(16).random(1000) < 0.5, 0, rng(17).poisson(4.0, 1000))},
        "count",
        frozenset({"TweedieLoss", "NegativeBinomialNLLLoss"}),
    ),
    # --- binary ---------------------------------------------------------------------------
    Case(
        "binary-ints",
        lambda: {"targets": rng(18).integers(0, 2, 500)},
        "binary",
        frozenset({"BCEWithLogitsLoss"}),
    ),
    Case(
        "binary-floats",
        lambda: {"targets": rng(19).integers(0, 2, 500).astype(float)},
        "binary",
        frozenset({"BCEWithLogitsLoss"}),
    ),
    Case(
        "binary-bool",
        lambda: {"targets": rng(20).random(400) < 0.4},
        "binary",
        frozenset({"BCEWithLogitsLoss"}),
    ),
    Case(
        "binary-margin-labels",
        lambda: {"targets": rng(21).choice([-1, 1], 500)},
        "binary",
        frozenset({"HingeLoss", "SoftMarginLoss"}),
    ),
    Case(
        "binary-imbalanced-5pct",
        lambda: {"targets": (rng(22).random(2000) < 0.05).astype(int)},
        "binary",
        BINARY_IMBALANCED,
    ),
    Case(
        "binary-imbalanced-1pct",
        lambda: {"targets": (rng(23).random(5000) < 0.01).astype(int)},
        "binary",
        frozenset({"FocalLoss", "ClassBalancedLoss"}),
    ),
    Case(
        "binary-sigmoid-predictions",
        lambda: {
            "targets": rng(24).integers(0, 2, 500),
            "predictions": _probabilities(rng(25).normal(size=500)),
        },
        "binary",
        frozenset({"BCELoss"}),
    ),
    Case(
        "binary-logit-predictions",
        lambda: {
            "targets": rng(26).integers(0, 2, 500),
            "predictions": 3 * rng(27).normal(size=500),
        },
        "binary",
        frozenset({"BCEWithLogitsLoss"}),
    ),
    Case(
        "binary-calibrated",
        lambda: {"targets": (rng(28).random(500) < 0.2).astype(int), "goal": "calibrated"},
        "binary",
        frozenset({"BCEWithLogitsLoss"}),
    ),
    # --- multiclass -----------------------------------------------------------------------
    Case(
        "string-classes",
        lambda: {"targets": np.array(["cat", "dog", "bird"])[rng(29).integers(0, 3, 300)].tolist()},
        "multiclass",
        frozenset({"CrossEntropyLoss"}),
    ),
    Case(
        "multiclass-imbalanced",
        lambda: {"targets": rng(30).choice(4, 1000, p=[0.7, 0.2, 0.07, 0.03])},
        "multiclass",
        MULTICLASS_IMBALANCED,
    ),
    Case(
        "multiclass-severe",
        lambda: {"targets": rng(31).choice(3, 3000, p=[0.9, 0.08, 0.02])},
        "multiclass",
        frozenset({"ClassBalancedLoss", "FocalLoss", "LogitAdjustedLoss"}),
    ),
    Case(
        "multiclass-softmax-predictions",
        lambda: {
            "targets": rng(32).integers(0, 4, 400),
            "predictions": _softmax(rng(33).normal(size=(400, 4))),
        },
        "multiclass",
        frozenset({"NLLLoss"}),
    ),
    Case(
        "multiclass-log-softmax-predictions",
        lambda: {
            "targets": rng(34).integers(0, 4, 400),
            "predictions": np.log(_softmax(rng(35).normal(size=(400, 4)))),
        },
        "multiclass",
        frozenset({"NLLLoss"}),
    ),
    Case(
        "multiclass-logit-predictions",
        lambda: {
            "targets": rng(36).integers(0, 5, 400),
            "predictions": rng(37).normal(size=(400, 5)),
        },
        "multiclass",
        frozenset({"CrossEntropyLoss"}),
    ),
    # --- multilabel, distributions --------------------------------------------------------
    Case(
        "multi-hot",
        lambda: {"targets": (rng(38).random((500, 6)) < 0.35).astype(int)},
        "multilabel",
        frozenset({"BCEWithLogitsLoss", "MultiLabelSoftMarginLoss"}),
    ),
    Case(
        "sparse-multilabel",
        lambda: {"targets": (rng(39).random((2000, 30)) < 0.03).astype(float)},
        "multilabel",
        frozenset({"BCEWithLogitsLoss", "FocalLoss", "MultiLabelSoftMarginLoss"}),
    ),
    Case(
        "soft-labels",
        lambda: {"targets": rng(40).dirichlet(np.ones(5), 300)},
        "distribution",
        frozenset({"KLDivLoss", "CrossEntropyLoss"}),
    ),
    # --- scikit-learn generators ----------------------------------------------------------
    Case(
        "make_regression",
        lambda: dict(
            zip(
                ("features", "targets"),
                datasets.make_regression(600, 8, noise=4.0, random_state=0),
                strict=True,
            )
        ),
        "regression",
        frozenset({"MSELoss"}),
    ),
    Case(
        "make_classification-imbalanced",
        lambda: dict(
            zip(
                ("features", "targets"),
                datasets.make_classification(1500, weights=[0.93], random_state=0),
                strict=True,
            )
        ),
        "binary",
        BINARY_IMBALANCED,
    ),
    Case(
        "make_multilabel_classification",
        lambda: dict(
            zip(
                ("features", "targets"),
                datasets.make_multilabel_classification(400, 10, n_classes=6, random_state=0),
                strict=True,
            )
        ),
        "multilabel",
        frozenset({"BCEWithLogitsLoss", "MultiLabelSoftMarginLoss"}),
    ),
    Case(
        "laplace",
        lambda: {"targets": rng(47).laplace(0.0, 1.0, 2000)},
        "regression",
        ROBUST,
    ),
    Case(
        "poisson-1-small",
        lambda: {"targets": rng(48).poisson(1.0, 300)},
        "count",
        frozenset({"PoissonNLLLoss"}),
    ),
    Case(
        "multiclass-5-sorted-imbalance",
        lambda: {"targets": rng(49).choice(5, 1000, p=[0.5, 0.25, 0.15, 0.07, 0.03])},
        "multiclass",
        MULTICLASS_IMBALANCED,
    ),
    # --- hints and goals ------------------------------------------------------------------
    Case(
        "ranking-hint",
        lambda: {"targets": rng(41).choice([-1, 1], 300), "task": "ranking"},
        "ranking",
        frozenset({"MarginRankingLoss"}),
    ),
    Case(
        "embedding-hint",
        lambda: {"targets": rng(42).integers(0, 10, 300), "task": "embedding"},
        "embedding",
        frozenset({"TripletMarginLoss", "CosineEmbeddingLoss", "HingeEmbeddingLoss"}),
    ),
    Case(
        "goal-median",
        lambda: {"targets": rng(43).normal(size=400), "goal": "median"},
        "regression",
        frozenset({"QuantileLoss", "L1Loss"}),
    ),
    Case(
        "goal-quantile",
        lambda: {"targets": rng(44).gamma(2.0, 2.0, 400), "goal": "quantile:0.9"},
        "regression",
        frozenset({"QuantileLoss"}),
    ),
    Case(
        "goal-robust",
        lambda: {"targets": rng(45).normal(size=400), "goal": "robust"},
        "regression",
        frozenset({"HuberLoss", "AdaptiveRobustLoss", "L1Loss"}),
    ),
    Case(
        "goal-ranking",
        lambda: {"targets": rng(46).normal(size=400), "goal": "ranking"},
        "regression",
        frozenset({"MarginRankingLoss"}),
    ),
]


_CACHE: dict[str, Recommendation] = {}


def _run(case: Case) -> Recommendation:
    if case.id not in _CACHE:
        _CACHE[case.id] = advisor.recommend(**case.build())
    return _CACHE[case.id]


def test_suite_is_large_enough():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)
    sk = {c.id.split("-")[1] for c in CASES if c.id.startswith("sk-")}
    assert {"diabetes", "breast_cancer", "iris", "wine", "digits", "linnerud"} <= sk


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case):
    rec = _run(case)
    assert rec.profile.task.task.value == case.task, rec.profile.task.reason
    assert rec.best.loss in case.top1, rec.explain()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_candidate_validates_against_the_catalog(case: Case):
    rec = _run(case)
    assert rec.candidates
    for c in rec.candidates:
        losses.resolve_params(losses.get(c.loss), c.params)
        assert c.rationale, c.loss
    for a in rec.avoid:
        losses.get(a.loss)
        assert a.reasons
        assert a.loss not in {c.loss for c in rec.candidates}


def test_pass_rates_meet_the_bar():
    task_ok = sum(_run(c).profile.task.task.value == c.task for c in CASES)
    top_ok = sum(_run(c).best.loss in c.top1 for c in CASES)
    assert task_ok / len(CASES) >= 0.95
    assert top_ok / len(CASES) >= 0.90
