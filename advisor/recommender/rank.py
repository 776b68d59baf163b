"""Ranking: a pure function of the profile's facts and the decision table.

No state, no randomness, no I/O: the same profile, goal and table always give the same
ranking, so a recommendation can be recomputed and audited from the profile alone. Ties are
broken by catalog order (torch.nn losses first), which favours the standard loss when the
evidence does not separate two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from advisor import losses
from advisor.recommender.derive import derive
from advisor.recommender.table import RULES, Rule
from advisor.schema.profile import DataProfile
from advisor.schema.recommendation import Avoid, Candidate, Goal


@dataclass
class _Tally:
    score: float = 0.0
    reasons: list[tuple[float, str]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    params: dict[str, tuple[Any, str]] = field(default_factory=dict)


def rank(
    profile: DataProfile,
    goal: Goal | None,
    facts: Mapping[str, Any],
    top_k: int,
    rules: Sequence[Rule] = RULES,
) -> tuple[list[Candidate], list[Avoid]]:
    order = {name: i for i, name in enumerate(losses.names())}
    fired = [r for r in rules if r.fires(facts)]
    tallies: dict[str, _Tally] = {}
    avoided: dict[str, Avoid] = {}
    for rule in fired:
        text = rule.render(facts)
        for loss, weight in rule.favour.items():
            t = tallies.setdefault(loss, _Tally())
            t.score += weight
            said = rule.render(facts, loss)
            t.reasons.append((weight, said if weight >= 0 else f"against: {said}"))
            t.rules.append(rule.id)
        for loss, how in rule.params.items():
            t = tallies.setdefault(loss, _Tally())
            for param, derivation in how.items():
                out = derive(loss, param, derivation, profile, goal)
                if out is not None:
                    t.params[param] = out
        for loss in rule.avoid:
            prev = avoided.get(loss)
            reasons = [*(prev.reasons if prev else []), text]
            ids = [*(prev.rules if prev else []), rule.id]
            avoided[loss] = Avoid(loss=loss, reasons=reasons, rules=ids)
    ranked = sorted(
        (
            (loss, t)
            for loss, t in tallies.items()
            if loss not in avoided and t.rules and t.score > 0
        ),
        key=lambda item: (-item[1].score, order.get(item[0], len(order))),
    )
    candidates = [
        Candidate(
            loss=loss,
            params={p: v for p, (v, _) in t.params.items()},
            score=round(t.score, 6),
            rationale=_ordered(t.reasons) + [why for _, why in t.params.values()],
            rules=list(dict.fromkeys(t.rules)),
        )
        for loss, t in ranked[:top_k]
    ]
    avoid = sorted(avoided.values(), key=lambda a: order.get(a.loss, len(order)))
    return candidates, avoid


def _ordered(reasons: list[tuple[float, str]]) -> list[str]:
    """Strongest evidence first (stable for equal weights), duplicates dropped."""
    ranked = sorted(enumerate(reasons), key=lambda item: (-abs(item[1][0]), item[0]))
    return list(dict.fromkeys(text for _, (_, text) in ranked))
