"""The steps of a report, run in order on whatever runs them: this process or a server.

``assemble`` takes ``steps``, any object with the advisor's ``recommend``, ``evaluate`` and
``validate`` methods: the ``advisor`` package itself in-process (``advisor.report``), a
``LocalAdvisor``, or an ``AdvisorClient`` whose server computes while this side renders. One
sequence of calls for all three, so a page looks the same whoever computed it.

The evaluation and the validation take the recommendation's candidates with their
hyperparameters, so every table on the page speaks of the same losses in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from advisor import installed_version
from advisor.schema.report import Report

Progress = Callable[[int, int, str], None]


def assemble(
    steps: Any,
    targets: Any,
    features: Any = None,
    predictions: Any = None,
    *,
    task: str | None = None,
    goal: str | None = None,
    top_k: int = 5,
    categorical: list[str] | None = None,
    validate: bool = False,
    folds: int = 5,
    model: str = "linear",
    epochs: int = 100,
    budget_s: float | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    title: str | None = None,
    source: str | None = None,
    target: str | None = None,
) -> Report:
    """Recommend; evaluate the candidates on ``predictions`` when given; validate when asked."""
    recommendation = steps.recommend(
        targets,
        features=features,
        predictions=predictions,
        task=task,
        goal=goal,
        top_k=top_k,
        categorical=categorical,
    )
    inferred = recommendation.profile.task.task.value
    candidates = [{"loss": c.loss, "params": dict(c.params)} for c in recommendation.candidates]
    notes = []
    evaluation = None
    if predictions is not None:
        evaluation = steps.evaluate(predictions, targets, candidates, task=inferred)
    else:
        notes.append("no predictions were given, so no candidate was evaluated and nothing was linted")
    validation = None
    if validate and features is None:
        notes.append("validation needs feature columns, and none were given")
    elif validate:
        validation = steps.validate(
            features,
            targets,
            candidates,
            task=inferred,
            folds=folds,
            model=model,
            epochs=epochs,
            budget_s=budget_s,
            seed=seed,
            progress=progress,
            categorical=categorical,
        )
    else:
        notes.append("validation was not asked for: probe models were not trained")
    return Report(
        title=title or (f"Loss report: {target}" if target else "Loss report"),
        source=source,
        target=target,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        version=installed_version(),
        recommendation=recommendation,
        evaluation=evaluation,
        validation=validation,
        notes=notes,
    )


class Reports:
    """``report`` for the client classes (``AdvisorClient``, ``LocalAdvisor``): their own
    ``recommend``, ``evaluate`` and ``validate`` become the report's steps."""

    def report(self, targets: Any, features: Any = None, predictions: Any = None, **options: Any) -> Report:
        """Recommend; evaluate on ``predictions``; validate when ``validate=True``. The options
        are ``assemble``'s; render with ``advisor.reporting.render.write(report, path)``."""
        return assemble(self, targets, features, predictions, **options)
