"""Optuna: a recommendation as a conditional search space over losses and their settings.

In an objective function, one call picks the loss and its hyperparameters for the trial::

    rec = advisor.recommend(y_train, features=x_train)

    def objective(trial):
        loss_fn = build_loss(trial, rec)          # or: name, params = suggest_loss(trial, rec)
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        ...train with loss_fn, return a held-out metric...

    study = optuna.create_study()
    enqueue_recommended(study, rec)               # first trials: exactly the recommendation
    study.optimize(objective, n_trials=30)

The loss is a categorical over the recommended candidates; each loss's hyperparameters are
named ``"<loss>.<param>"`` and sampled only when that loss is chosen, over ranges centred on
the data-derived values (see ``advisor.integrations.space`` for the ranges and why).
Optuna is imported only to check that it is installed; the functions work on any object
with Optuna's ``suggest_*`` and ``enqueue_trial`` methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from advisor import losses
from advisor.integrations.space import Dimension, dimensions
from advisor.schema.recommendation import Recommendation

LOSS = "loss"  # the categorical's name in the trial's params

__all__ = ["SuggestedLoss", "build_loss", "enqueue_recommended", "search_space", "suggest_loss"]


class SuggestedLoss(NamedTuple):
    """A trial's loss: unpacks as ``name, params``; ``build()`` makes the module."""

    loss: str
    params: dict[str, Any]

    def build(self) -> Any:
        return losses.build(self.loss, **self.params)


def search_space(
    recommendation: Recommendation, *, include_avoid: bool = False
) -> dict[str, tuple[dict[str, Any], list[Dimension]]]:
    """Loss name -> (its recommended params, its tuned dimensions), best candidate first.

    ``include_avoid`` adds the losses the recommendation advises against, at their catalog
    defaults, for a study meant to confirm (or refute) the advice.
    """
    entries = [(c.loss, dict(c.params)) for c in recommendation.candidates]
    if include_avoid:
        entries += [(a.loss, {}) for a in recommendation.avoid]
    space: dict[str, tuple[dict[str, Any], list[Dimension]]] = {}
    for loss, params in entries:
        if loss not in space:  # a loss listed twice keeps its better-ranked configuration
            space[loss] = (params, dimensions(loss, params))
    return space


def suggest_loss(
    trial: Any, recommendation: Recommendation, *, include_avoid: bool = False
) -> SuggestedLoss:
    """Sample this trial's loss and hyperparameters; values are checked against the catalog."""
    _require()
    space = search_space(recommendation, include_avoid=include_avoid)
    loss = trial.suggest_categorical(LOSS, list(space))
    recommended, dims = space[loss]
    params = dict(recommended)
    for dim in dims:
        if dim.scale == "choice":
            sampled = trial.suggest_categorical(dim.name, list(dim.choices))
        else:
            sampled = trial.suggest_float(dim.name, dim.low, dim.high, log=dim.log)
        params[dim.param] = dim.value(sampled, recommended.get(dim.param))
    spec = losses.get(loss)
    for name, value in params.items():
        spec.param(name).validate(value, loss)
    return SuggestedLoss(loss, params)


def build_loss(trial: Any, recommendation: Recommendation, *, include_avoid: bool = False) -> Any:
    """The trial's loss as a ready ``torch.nn.Module``."""
    return suggest_loss(trial, recommendation, include_avoid=include_avoid).build()


def enqueue_recommended(
    study: Any,
    recommendation: Recommendation,
    *,
    include_avoid: bool = False,
    losses_to_enqueue: Sequence[str] | None = None,
) -> int:
    """Queue every candidate at its recommended values as the study's next trials.

    Why: the derived values are the advisor's best guess, so the study measures them first
    and its sampler then searches around a known baseline. Returns how many were queued.
    """
    _require()
    space = search_space(recommendation, include_avoid=include_avoid)
    chosen = list(space) if losses_to_enqueue is None else list(losses_to_enqueue)
    for loss in chosen:
        _, dims = space[loss]
        study.enqueue_trial({LOSS: loss, **{d.name: d.centre for d in dims}})
    return len(chosen)


def _require() -> None:
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise ImportError(
            "advisor.integrations.optuna needs Optuna: pip install 'loss-advisor[optuna]'"
        ) from None
