"""In-process use: recommend, evaluate and validate losses for the bundled delivery-times table.

Run: ``python examples/in_process.py`` (``LOSS_ADVISOR_EXAMPLE_QUICK=1`` for a seconds-long
run on 200 rows). The same three calls work through ``client.LocalAdvisor()``, which has the
remote client's methods; swapping it for ``client.AdvisorClient(address)`` moves the work to
a server without changing the rest.
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np

import advisor
from advisor import io
from client import LocalAdvisor

QUICK = os.environ.get("LOSS_ADVISOR_EXAMPLE_QUICK") == "1"


def load() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The feature columns (distance, items, hour, rain) and delivery minutes (the target)."""
    with resources.as_file(resources.files("advisor") / "data" / "delivery_times.csv") as path:
        table = io.read_table(path)
    y, features = io.select(table, "minutes", None)
    rows = 200 if QUICK else len(y)
    return {name: column[:rows] for name, column in features.items()}, y[:rows]


def main() -> None:
    x, y = load()
    rec = advisor.recommend(y, features=x, top_k=3)
    print(rec.explain())

    # Score a quick least-squares fit with each candidate. Raw values of different losses are
    # not comparable; skill (1 - loss / loss of the trivial baseline) is.
    design = np.column_stack([*x.values(), np.ones(len(y))])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    candidates = [{"loss": c.loss, "params": c.params} for c in rec.candidates]
    evaluation = advisor.evaluate(fitted, y, candidates)
    print("\nA least-squares fit, scored by each candidate:")
    for r in evaluation.results:
        if r.skipped:  # GaussianNLLLoss wants a predicted variance, which a point fit lacks
            print(f"  {r.loss:<14} skipped: {r.reason}")
        else:
            print(f"  {r.loss:<14} value {r.value:8.4g}   skill {r.diagnostics.skill:.3f}")

    report = advisor.validate(
        x, y, [*candidates, "MSELoss"],
        task="regression", folds=3 if QUICK else 5, epochs=10 if QUICK else 100, seed=0,
    )  # fmt: skip
    print()
    print(report.table())

    # The same validation through the in-process client twin.
    with LocalAdvisor(device="cpu") as local:
        again = local.validate(x, y, report.ranking[:2], task="regression", folds=3, epochs=5)
    print(f"\nLocalAdvisor, top two only: best = {again.ranking[0]}")


if __name__ == "__main__":
    main()
