"""One report of the bundled example with every part filled in, shared by the report tests."""

from __future__ import annotations

import pandas as pd
import pytest

ROOT_DATA = "advisor/data"


@pytest.fixture(scope="session")
def delivery() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The bundled table's features, its target and a model's out-of-fold predictions."""
    frame = pd.read_csv(f"{ROOT_DATA}/delivery_times.csv")
    predictions = pd.read_csv(f"{ROOT_DATA}/delivery_predictions.csv")["predicted_minutes"]
    return frame.drop(columns="minutes"), frame["minutes"], predictions


@pytest.fixture(scope="session")
def full_report(delivery):
    import advisor

    features, target, predictions = delivery
    return advisor.report(
        target, features, predictions.to_numpy(), validate=True, folds=3, epochs=12, top_k=4
    )
