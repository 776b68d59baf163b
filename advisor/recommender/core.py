"""``recommend``: profile the data, read the decision table, return ranked losses with reasons.

When the profile's task inference is ambiguous (integers that read as counts or as classes,
say), the table is read a second time with the runner-up task, and its top losses travel as
``Recommendation.runner_up``.

``cancel`` stops a recommendation between its steps (``advisor.cancel``): the profile's
(``advisor.profile``), and before the ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from advisor.cancel import cancellable, check
from advisor.errors import InvalidInputError, ParameterError
from advisor.profiler import profile as _profile
from advisor.recommender.facts import facts as _facts
from advisor.recommender.rank import rank
from advisor.schema.goal import parse_goal
from advisor.schema.profile import DataProfile
from advisor.schema.recommendation import Candidate, Goal, Recommendation
from advisor.vocabulary import Task

RUNNER_UP_LOSSES = 3


def recommend(
    targets: Any,
    features: Any = None,
    predictions: Any = None,
    task: Task | str | None = None,
    goal: str | Goal | None = None,
    top_k: int = 5,
    categorical: Sequence[str] | None = None,
    *,
    cancel: Any = None,
) -> Recommendation:
    """Rank catalog losses for this data; every candidate's params validate against its spec.

    ``features`` and ``categorical`` are read as ``advisor.profile`` reads them.

    Arguments are validated before any work so a bad ``goal`` or ``top_k`` fails fast with a
    ``ParameterError`` naming the field.

    ``cancel`` (a ``threading.Event`` or a callable returning True) is checked between the
    profile's expensive steps and before the ranking, so a recommendation on a million rows
    stops within a fraction of a second once it is set, raising
    ``advisor.errors.CancelledError``.
    """
    parsed_goal = parse_goal(goal)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ParameterError(
            f"must be a positive integer, got {top_k!r}", field="top_k", expected=">= 1", got=top_k
        )
    with cancellable(cancel):
        prof = _profile(
            targets, features=features, predictions=predictions, task=task, categorical=categorical
        )
        check()
        return recommend_from_profile(prof, goal=parsed_goal, top_k=top_k)


def recommend_from_profile(
    profile: DataProfile, goal: str | Goal | None = None, top_k: int = 5
) -> Recommendation:
    """The pure half: a profile (e.g. one received over the wire) and a goal to a ranking."""
    parsed_goal = parse_goal(goal)
    candidates, avoid = rank(profile, parsed_goal, _facts(profile, parsed_goal), top_k)
    if not candidates:
        raise InvalidInputError(
            f"no catalog loss fits a {profile.task.task.value} task with these predictions; "
            "every candidate was ruled out (see the avoid reasons by passing fewer constraints)",
            field="predictions",
        )
    return Recommendation(
        profile=profile,
        goal=parsed_goal,
        candidates=candidates,
        avoid=avoid,
        runner_up=_runner_up(profile, parsed_goal),
    )


def _runner_up(profile: DataProfile, goal: Goal | None) -> list[Candidate]:
    """The runner-up task's top losses, when the inference is ambiguous; else none."""
    t = profile.task
    if not t.ambiguous or t.runner_up is None or t.runner_up == t.task:
        return []
    other = profile.model_copy(update={"task": t.model_copy(update={"task": t.runner_up})})
    candidates, _ = rank(other, goal, _facts(other, goal), RUNNER_UP_LOSSES)
    return candidates
