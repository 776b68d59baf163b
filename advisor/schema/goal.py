"""Parse what the user optimises for: 'robust', 'calibrated', 'median', 'quantile:q', 'ranking'.

A goal is a short string on the command line and over the wire, so it is parsed in one place
and every malformed form fails with a ``ParameterError`` on ``field="goal"`` that lists what
is accepted, rather than being ignored and silently yielding a goal-less ranking.
"""

from __future__ import annotations

import re

from advisor.errors import ParameterError
from advisor.schema.recommendation import Goal

ACCEPTED = (
    "robust, calibrated, median, quantile:q (0 < q < 1, several as quantile:0.1,0.5,0.9), ranking"
)
_SYNONYMS = {
    "robust": "robust",
    "robustness": "robust",
    "outliers": "robust",
    "calibrated": "calibrated",
    "calibration": "calibrated",
    "probabilities": "calibrated",
    "median": "median",
    "ranking": "ranking",
    "rank": "ranking",
    "order": "ranking",
}
_QUANTILE = re.compile(r"^(?:quantile|q|pinball)\s*[:=]?\s*(.+)$")
_PERCENTILE = re.compile(r"^p(\d{1,2})$")


def _fail(goal: object, why: str) -> ParameterError:
    return ParameterError(
        f"{why}; accepted goals: {ACCEPTED}", field="goal", expected=ACCEPTED, got=goal
    )


def parse_goal(goal: str | Goal | None) -> Goal | None:
    if goal is None or isinstance(goal, Goal):
        return goal
    if not isinstance(goal, str):
        raise _fail(goal, f"must be a string, got {type(goal).__name__}")
    text = goal.strip().lower()
    if not text:
        return None
    if text in _SYNONYMS:
        kind = _SYNONYMS[text]
        return Goal(kind=kind, quantiles=[0.5] if kind == "median" else [])
    m = _PERCENTILE.match(text)
    if m:
        return _quantiles(goal, [int(m.group(1)) / 100.0])
    m = _QUANTILE.match(text)
    if not m:
        raise _fail(goal, f"unknown goal {goal!r}")
    try:
        qs = [float(part) for part in m.group(1).split(",") if part.strip()]
    except ValueError:
        raise _fail(goal, f"quantile levels in {goal!r} are not numbers") from None
    return _quantiles(goal, qs)


def _quantiles(goal: object, qs: list[float]) -> Goal:
    if not qs:
        raise _fail(goal, "no quantile level given")
    bad = [q for q in qs if not 0.0 < q < 1.0]
    if bad:
        raise _fail(goal, f"quantile levels must lie strictly between 0 and 1, got {bad}")
    if qs == [0.5]:
        return Goal(kind="median", quantiles=[0.5])
    return Goal(kind="quantile", quantiles=sorted(set(qs)))
