"""Tune a small torch model's loss and its hyperparameters with Optuna, around the advice.

``suggest_loss``/``build_loss`` turn the recommendation into the trial's search space: which
loss (among the recommended ones) and its hyperparameters over ranges centred on the values
derived from the data. ``enqueue_recommended`` makes the first trials the recommendation
itself, so the study starts from the advisor's answer and searches around it.

Run: ``pip install 'loss-advisor[optuna]'`` then ``python examples/tune_with_optuna.py``
(``LOSS_ADVISOR_EXAMPLE_QUICK=1``: 200 rows, 4 trials).
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
import optuna
import torch

import advisor
from advisor import io
from advisor.integrations import build_loss, enqueue_recommended

QUICK = os.environ.get("LOSS_ADVISOR_EXAMPLE_QUICK") == "1"
TRIALS = 4 if QUICK else 30
EPOCHS = 20 if QUICK else 200


def load() -> tuple[torch.Tensor, ...]:
    """Standardised features and minutes, split 70/30 into training and held-out rows."""
    with resources.as_file(resources.files("advisor") / "data" / "delivery_times.csv") as path:
        table = io.read_table(path)
    y, features = io.select(table, "minutes", None)
    x = np.column_stack(list(features.values()))  # its columns are all numbers
    rows = 200 if QUICK else len(y)
    x, y = x[:rows], y[:rows]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    order = np.random.default_rng(0).permutation(rows)
    cut = int(0.7 * rows)
    train, test = order[:cut], order[cut:]
    return tuple(
        torch.as_tensor(a, dtype=torch.float32) for a in (x[train], y[train], x[test], y[test])
    )


def main() -> None:
    x_train, y_train, x_test, y_test = load()
    rec = advisor.recommend(y_train.numpy(), features=x_train.numpy())
    # The model below predicts one value per row: search the losses that take
    # (prediction, target), not those that also want a variance (GaussianNLLLoss).
    two_inputs = [c for c in rec.candidates if len(advisor.losses.get(c.loss).inputs) == 2]
    rec = rec.model_copy(update={"candidates": two_inputs})

    def objective(trial: optuna.Trial) -> float:
        loss_fn = build_loss(trial, rec)
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(x_train.shape[1], 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)
        )
        with torch.no_grad():
            model[-1].bias.fill_(float(y_train.median()))  # start at the typical delivery
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(EPOCHS):
            optimizer.zero_grad()
            loss_fn(model(x_train).squeeze(1), y_train).backward()
            optimizer.step()
        with torch.no_grad():  # judged on what the business cares about: minutes off
            return float((model(x_test).squeeze(1) - y_test).abs().mean())

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=0))
    queued = enqueue_recommended(study, rec)
    study.optimize(objective, n_trials=max(TRIALS, queued))

    print(f"{len(study.trials)} trials; the first {queued}: each recommended loss as derived")
    for t in study.trials[:queued]:
        print(f"  {t.params['loss']:<20} held-out MAE {t.value:.3f} min")
    print(f"best: {study.best_params} -> held-out MAE {study.best_value:.3f} min")


if __name__ == "__main__":
    main()
