"""The candidates evaluated when the caller names none: the recommender's ranking.

Evaluating what the recommender proposes (with its data-derived hyperparameters) answers the
question a caller without candidates asks: "how would the losses that suit this data treat my
predictions?". The recommender needs one target array and one prediction array; for inputs it
cannot profile (pairs, triplets, CTC tuples) or data it rules out, the defaults fall back to
every catalog loss whose input convention and checks accept the data.
"""

from __future__ import annotations

import logging
from typing import Any

from advisor.errors import AdvisorError, InvalidInputError
from advisor.evaluation.inputs import Inputs
from advisor.evaluation.prepare import PrepareCache
from advisor.losses import registry, specs
from advisor.vocabulary import Task

log = logging.getLogger("advisor.evaluation")

#: How many recommended candidates a default evaluation covers.
TOP_K = 8


def default_candidates(
    inp: Inputs, task: Task | str | None = None, cache: PrepareCache | None = None
) -> list[str | dict[str, Any]]:
    """The recommender's top candidates as ``{"loss", "params"}`` dicts, else compatible names.

    Recommended candidates whose checks refuse these inputs are left out: a default that can
    only come back skipped answers nothing (a binary task's CrossEntropyLoss given 1-D logits).
    """
    cache = cache or PrepareCache(inp)
    recommended = [c for c in _recommended(inp, task) if _accepts(c["loss"], c["params"], cache)]
    if recommended:
        return recommended
    return compatible_names(inp, task, cache)


def _accepts(name: str, given: dict[str, Any], cache: PrepareCache) -> bool:
    """Whether a loss's checks accept these inputs with these params."""
    spec = registry.get(name)
    try:
        cache.ready(spec, registry.resolve_params(spec, given))
    except InvalidInputError:
        return False
    return True


def _recommended(inp: Inputs, task: Task | str | None) -> list[dict[str, Any]]:
    if len(inp.targets) != 1 or len(inp.predictions) != 1:
        return []
    from advisor.recommender import recommend

    targets = inp.targets[0].detach().cpu()  # the profiler converts (bfloat16 has no numpy dtype)
    predictions = inp.predictions[0].detach().cpu()
    try:
        rec = recommend(targets, predictions=predictions, task=task, top_k=TOP_K)
    except AdvisorError as exc:
        log.info("no recommendation for these inputs (%s); evaluating compatible losses", exc)
        return []
    return [{"loss": c.loss, "params": dict(c.params)} for c in rec.candidates]


def compatible_names(
    inp: Inputs, task: Task | str | None = None, cache: PrepareCache | None = None
) -> list[str]:
    """Names of the catalog losses compatible with these inputs, in catalog order."""
    task = Task(task) if task is not None else _infer_task(inp)
    cache = cache or PrepareCache(inp)
    return [
        spec.name
        for spec in specs()
        if (task is None or task in spec.tasks) and _accepts(spec.name, {}, cache)
    ]


def _infer_task(inp: Inputs) -> Task | None:
    """Continuous targets outside [0, 1] are regression; anything else keeps every convention open."""
    if len(inp.targets) != 1 or len(inp.predictions) != 1:
        return None
    y = inp.targets[0]
    if not y.is_floating_point():
        return None
    lo, hi = inp.minmax(y)
    if lo >= 0.0 and hi <= 1.0:
        return None
    return None if bool((y == y.round()).all()) else Task.REGRESSION
