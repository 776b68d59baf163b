"""Was squared error the right loss for a model you already have? Ask its predictions.

A least-squares model (what ``nn.MSELoss`` or scikit-learn's default regressor fits) is trained
on the delivery-times table; its held-out predictions then go to ``advisor.recommend`` (which
reads the residuals) and ``advisor.evaluate``, which shows how each candidate loss would treat
them: the share of the gradient the worst 1% of deliveries carry is what decides whether a
few gross delays steer the fit.

Run: ``python examples/evaluate_model.py`` (``LOSS_ADVISOR_EXAMPLE_QUICK=1``: 200 rows).
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

import advisor
from advisor import io

QUICK = os.environ.get("LOSS_ADVISOR_EXAMPLE_QUICK") == "1"


def load() -> tuple[np.ndarray, np.ndarray]:
    with resources.as_file(resources.files("advisor") / "data" / "delivery_times.csv") as path:
        table = io.read_table(path)
    y, features = io.select(table, "minutes", None)
    x = np.column_stack(list(features.values()))  # its columns are all numbers
    rows = 200 if QUICK else len(y)
    return x[:rows], y[:rows]


def main() -> None:
    x, y = load()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0)
    model = LinearRegression().fit(x_train, y_train)  # squared error
    predictions = model.predict(x_test)

    rec = advisor.recommend(y_test, features=x_test, predictions=predictions, top_k=3)
    print(f"The model was fit with squared error; the advisor recommends {rec.best.call_text()}.")
    for reason in rec.best.rationale:
        print(f"  - {reason}")
    for avoid in rec.avoid:
        print(f"  avoid {avoid.loss}: {avoid.reason}")

    candidates = ["MSELoss", *({"loss": c.loss, "params": c.params} for c in rec.candidates)]
    report = advisor.evaluate(predictions, y_test, candidates)
    print(f"\nHow each loss treats the model's {report.n_samples} held-out predictions:")
    print(f"  {'loss':<14} {'skill':>7} {'top 1% share of gradient':>26}")
    for r in report.results:
        if r.skipped:  # GaussianNLLLoss wants a predicted variance, which a point model lacks
            print(f"  {r.loss:<14} skipped: {r.reason}")
            continue
        d = r.diagnostics
        print(f"  {r.loss:<14} {d.skill:7.3f} {d.top1pct_grad_share:26.1%}")
    for lint in report.lints:
        print(f"lint {lint.code}: {lint.message} Fix: {lint.fix}")


if __name__ == "__main__":
    main()
