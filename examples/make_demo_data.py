"""Regenerates the bundled demo table ``advisor/data/delivery_times.csv`` and a model's
predictions for it, ``advisor/data/delivery_predictions.csv``.

Delivery times in minutes: linear in distance and basket size, with Student-t noise and a
share of gross delays (traffic, wrong address), so a robust regression loss is the right
call and the advisor should say why. The predictions are what a user would bring: a
least-squares linear model's, out of fold (5 folds), so each row's prediction comes from a
model that never saw it. ``loss-advisor report`` reads them with ``--predictions``.
Deterministic under the fixed seed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def main(n: int = 800, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    distance_km = rng.gamma(2.0, 2.0, n)
    items = rng.integers(1, 15, n)
    hour = rng.integers(10, 23, n)
    rain = (rng.random(n) < 0.2).astype(int)
    minutes = 12 + 2.1 * distance_km + 0.8 * items + 4.0 * rain + 1.5 * rng.standard_t(3, n)
    delayed = rng.random(n) < 0.07
    minutes[delayed] += rng.uniform(30, 120, delayed.sum())
    out = Path(__file__).resolve().parent.parent / "advisor" / "data" / "delivery_times.csv"
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["distance_km", "items", "hour", "rain", "minutes"])
        for row in zip(distance_km, items, hour, rain, minutes, strict=True):
            writer.writerow([f"{row[0]:.3f}", row[1], row[2], row[3], f"{row[4]:.2f}"])
    write_predictions(out, out.with_name("delivery_predictions.csv"))
    return out


def write_predictions(table: Path, out: Path, folds: int = 5) -> Path:
    """Out-of-fold least-squares predictions of ``minutes``, from the table as written."""
    data = np.loadtxt(table, delimiter=",", skiprows=1)
    x = np.column_stack([np.ones(len(data)), data[:, :4]])
    y = data[:, 4]
    fold = np.arange(len(y)) % folds
    predicted = np.empty_like(y)
    for k in range(folds):
        held_out = fold == k
        coef, *_ = np.linalg.lstsq(x[~held_out], y[~held_out], rcond=None)
        predicted[held_out] = x[held_out] @ coef
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["predicted_minutes"])
        writer.writerows([f"{p:.2f}"] for p in predicted)
    return out


if __name__ == "__main__":
    print(main())
