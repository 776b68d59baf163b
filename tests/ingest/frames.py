"""Tables as they arrive: real published data, and one made messy on purpose."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


def mixed(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Features with every kind of messiness the ingestion layer handles, and text labels
    whose missing cells are written four ways; the label depends on city and income."""
    rng = np.random.default_rng(seed)
    city = rng.choice(np.array(["north", "south", "east", "west"], dtype=object), n)
    income = rng.gamma(2.0, 20.0, n)
    score = (city == "north") * 2.0 + (city == "south") * -2.0 + (income - 40) / 20
    label = np.where(score + rng.normal(0, 0.5, n) > 0, "yes", "no").astype(object)
    label[::23] = None
    label[5::29] = ""
    label[7::31] = "NA"
    city_cells = city.copy()
    city_cells[3::17] = None
    city_cells[4::19] = ""
    income_cells = income.copy()
    income_cells[2::13] = np.nan
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(n)],
            "city": city_cells,
            "income": income_cells,
            "member": rng.random(n) < 0.4,
            "plan_code": rng.integers(1, 5, n),
            "country": "FR",
            "signup": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
            "comment": pd.Series([None] * n, dtype=object),
        }
    )
    return frame, pd.Series(label, name="churn")


def sklearn_frames() -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    """scikit-learn's bundled sets as frames, each with a text column made of its classes."""
    from sklearn import datasets

    out = {}
    for name in ("iris", "wine", "breast_cancer", "diabetes"):
        bunch = getattr(datasets, f"load_{name}")(as_frame=True)
        frame = bunch.frame.copy()
        target = frame.pop("target")
        out[name] = (frame, target)
    iris = out["iris"][0].copy()
    species = np.asarray(datasets.load_iris().target_names, dtype=object)[out["iris"][1]]
    iris["species"] = species  # predict petal length from the other measures and the species
    out["iris_species"] = (iris.drop(columns="petal length (cm)"), iris["petal length (cm)"])
    return out


def statsmodels_frames() -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    """statsmodels' bundled sets with their text, ID, constant and missing columns as shipped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from statsmodels import datasets

        grunfeld = datasets.grunfeld.load_pandas().data
        fertility = datasets.fertility.load_pandas().data
        anes = datasets.anes96.load_pandas().data
        fair = datasets.fair.load_pandas().data
    return {
        # firm is text: General Motors, US Steel, ...
        "grunfeld": (grunfeld.drop(columns="invest"), grunfeld["invest"]),
        # country name and code are identifiers, the indicator columns constant, years missing
        # (2012 and 2013 are empty as shipped: an all-missing feature column)
        "fertility": (fertility.drop(columns=["2011"]), fertility["2011"]),
        # party identification from 0 to 6: multiclass integer codes
        "anes96": (anes.drop(columns="PID"), anes["PID"]),
        "fair": (fair.drop(columns="affairs"), fair["affairs"]),
    }
