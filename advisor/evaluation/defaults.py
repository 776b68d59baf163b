"""The candidates evaluated when the caller names none.

This is the one place to route to the recommender once it exists: return its proposals here.
Until then: every catalog loss whose input convention and checks accept the data (and that
serves ``task`` when one is given).
"""

from __future__ import annotations

from typing import Any

from advisor.errors import InvalidInputError
from advisor.evaluation.candidates import params_to
from advisor.evaluation.inputs import Inputs, assemble
from advisor.evaluation.prepare import PrepareCache
from advisor.losses import registry, specs
from advisor.vocabulary import Task


def default_candidates(inp: Inputs, task: Task | str | None = None, cache: PrepareCache | None = None) -> list[str]:
    """Names of the catalog losses compatible with these inputs, in catalog order."""
    task = Task(task) if task is not None else _infer_task(inp)
    cache = cache or PrepareCache(inp)
    names = []
    for spec in specs():
        if task is not None and task not in spec.tasks:
            continue
        try:
            tensors = cache.prepare(spec, assemble(spec, inp))
            first = next(iter(tensors.values()))
            params: dict[str, Any] = params_to(registry.resolve_params(spec, {}), first.dtype, first.device)
            cache.check(spec, tensors, params)
        except InvalidInputError:
            continue
        names.append(spec.name)
    return names


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
