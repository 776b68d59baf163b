"""Real data sets that ship inside packages, each with what its literature fits to it.

``losses`` are the catalog losses that express the literature's model (a Poisson GLM is
PoissonNLLLoss, least squares is MSELoss, median regression is L1Loss, a Gamma GLM is
TweedieLoss near power 2, a logit is BCEWithLogitsLoss). Tables come as the packages ship
them, text columns and missing cells included.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AdviceCase:
    name: str
    source: str  # the package it ships in
    target: str
    task: str  # the task its literature treats it as
    losses: tuple[str, ...]  # catalog losses expressing the literature's model
    citation: str
    load: Callable[[], tuple[Any, Any]]  # (features, target)


def _statsmodels(name: str, target: str, drop: tuple[str, ...] = ()) -> Callable[[], tuple[Any, Any]]:
    def load() -> tuple[Any, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from statsmodels import datasets

            frame = getattr(datasets, name).load_pandas().data
        return frame.drop(columns=[target, *drop]), frame[target]

    return load


def _star98() -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from statsmodels import datasets

        frame = datasets.star98.load_pandas().data
    share = frame["NABOVE"] / (frame["NABOVE"] + frame["NBELOW"])
    return frame.drop(columns=["NABOVE", "NBELOW"]), share


def _sklearn(name: str) -> Callable[[], tuple[Any, Any]]:
    def load() -> tuple[Any, Any]:
        from sklearn import datasets

        frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
        return frame.drop(columns="target"), frame["target"]

    return load


CASES: tuple[AdviceCase, ...] = (
    AdviceCase(
        "randhie", "statsmodels", "mdvis", "count", ("NegativeBinomialNLLLoss",),
        "Deb & Trivedi 2002, J. Health Econ.: outpatient visits of the RAND Health Insurance Experiment, "
        "negative-binomial count models",
        _statsmodels("randhie", "mdvis"),
    ),
    AdviceCase(
        "fair", "statsmodels", "affairs", "regression", ("PoissonNLLLoss", "TweedieLoss"),
        "Fair 1978, J. Political Economy (a Tobit for a zero-heavy rate); statsmodels fits it as a Poisson GLM",
        _statsmodels("fair", "affairs"),
    ),
    AdviceCase(
        "engel", "statsmodels", "foodexp", "regression", ("L1Loss", "QuantileLoss"),
        "Koenker & Bassett 1982, Econometrica: food expenditure against income, median and quantile regression",
        _statsmodels("engel", "foodexp"),
    ),
    AdviceCase(
        "grunfeld", "statsmodels", "invest", "regression", ("MSELoss",),
        "Grunfeld 1958: firms' investment on value and capital, least squares",
        _statsmodels("grunfeld", "invest"),
    ),
    AdviceCase(
        "anes96", "statsmodels", "PID", "multiclass", ("CrossEntropyLoss",),
        "Rosenstone et al. 1997, American National Election Study: party identification (7 codes), "
        "multinomial logit in statsmodels' MNLogit example",
        _statsmodels("anes96", "PID"),
    ),
    AdviceCase(
        "modechoice", "statsmodels", "choice", "binary", ("BCEWithLogitsLoss",),
        "Greene, Econometric Analysis: travel mode chosen per alternative, a (conditional) logit",
        _statsmodels("modechoice", "choice"),
    ),
    AdviceCase(
        "spector", "statsmodels", "GRADE", "binary", ("BCEWithLogitsLoss",),
        "Spector & Mazzeo 1980, J. Economic Education: grade improvement, logit and probit",
        _statsmodels("spector", "GRADE"),
    ),
    AdviceCase(
        "star98", "statsmodels", "NABOVE share", "regression", ("BCEWithLogitsLoss",),
        "Jeff Gill 2001, Generalized Linear Models: share of students above the national median, "
        "a binomial GLM (cross-entropy on proportions)",
        _star98,
    ),
    AdviceCase(
        "cpunish", "statsmodels", "EXECUTIONS", "count", ("PoissonNLLLoss",),
        "Gill 2001, Generalized Linear Models: executions per state, a Poisson GLM",
        _statsmodels("cpunish", "EXECUTIONS"),
    ),
    AdviceCase(
        "committee", "statsmodels", "BILLS104", "count", ("NegativeBinomialNLLLoss",),
        "Gill 2001, Generalized Linear Models: bills assigned to House committees, a negative-binomial GLM",
        _statsmodels("committee", "BILLS104"),
    ),
    AdviceCase(
        "strikes", "statsmodels", "duration", "regression", ("TweedieLoss",),
        "Kennan 1985, J. Econometrics: strike durations, exponential and Gamma duration models "
        "(Tweedie near power 2)",
        _statsmodels("strikes", "duration"),
    ),
    AdviceCase(
        "statecrime", "statsmodels", "murder", "regression", ("HuberLoss", "L1Loss", "SmoothL1Loss"),
        "Agresti & Finlay, Statistical Methods for the Social Sciences: murder rates by state, with DC an "
        "outlier; robust (Huber) regression in statsmodels' RLM examples",
        _statsmodels("statecrime", "murder"),
    ),
    AdviceCase(
        "ccard", "statsmodels", "AVGEXP", "regression", ("MSELoss", "GaussianNLLLoss"),
        "Greene, Econometric Analysis: credit-card expenditure, least squares with heteroscedasticity",
        _statsmodels("ccard", "AVGEXP"),
    ),
    AdviceCase(
        "scotland", "statsmodels", "YES", "regression", ("TweedieLoss",),
        "Scottish Parliament 1997 referendum: the YES share by council, a Gamma GLM in statsmodels' GLM docs",
        _statsmodels("scotland", "YES"),
    ),
    AdviceCase(
        "iris", "scikit-learn", "species", "multiclass", ("CrossEntropyLoss",),
        "Fisher 1936, Annals of Eugenics: three species, multinomial logistic regression",
        _sklearn("iris"),
    ),
    AdviceCase(
        "wine", "scikit-learn", "cultivar", "multiclass", ("CrossEntropyLoss",),
        "Forina et al. 1988 (UCI wine): three cultivars, multinomial classification",
        _sklearn("wine"),
    ),
    AdviceCase(
        "breast_cancer", "scikit-learn", "diagnosis", "binary", ("BCEWithLogitsLoss",),
        "Street, Wolberg & Mangasarian 1993: malignant or benign, logistic regression",
        _sklearn("breast_cancer"),
    ),
    AdviceCase(
        "diabetes", "scikit-learn", "progression", "regression", ("MSELoss",),
        "Efron, Hastie, Johnstone & Tibshirani 2004, Annals of Statistics: disease progression, "
        "least squares (LARS)",
        _sklearn("diabetes"),
    ),
)  # fmt: skip
