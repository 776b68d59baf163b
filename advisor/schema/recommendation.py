"""A recommendation: ranked candidate losses with data-derived hyperparameters and reasons.

Kept free of torch and scikit-learn so the light client can receive and print it. ``params``
hold only JSON values (tensor-valued hyperparameters travel as lists of floats), so a
recommendation round-trips through ``model_dump_json`` unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.schema.profile import DataProfile, reading_lines

__all__ = ["Avoid", "Candidate", "Goal", "Recommendation"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Goal(_Model):
    """What the user optimises for beyond fitting the data; parsed from text like 'quantile:0.9'."""

    kind: Literal["robust", "calibrated", "median", "quantile", "ranking"]
    quantiles: list[float] = Field(default_factory=list)

    def __str__(self) -> str:
        if self.kind == "quantile":
            return "quantile:" + ",".join(f"{q:g}" for q in self.quantiles)
        return self.kind


class Candidate(_Model):
    loss: str
    params: dict[str, Any] = Field(default_factory=dict)
    score: float
    rationale: list[str] = Field(default_factory=list)
    rules: list[str] = Field(
        default_factory=list, description="ids of the table rows that scored it"
    )

    def build(self) -> Any:
        """The configured ``torch.nn.Module`` (imports torch, so only where it is installed)."""
        from advisor.losses import build

        return build(self.loss, **self.params)

    def call_text(self) -> str:
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.loss}({args})"


class Avoid(_Model):
    loss: str
    reasons: list[str]
    rules: list[str] = Field(default_factory=list)

    @property
    def reason(self) -> str:
        """All reasons in one sentence, for one-line displays."""
        return "; ".join(self.reasons)


class Recommendation(_Model):
    profile: DataProfile
    goal: Goal | None = None
    candidates: list[Candidate]
    avoid: list[Avoid] = Field(default_factory=list)
    runner_up: list[Candidate] = Field(
        default_factory=list,
        description="the top losses if the targets are read as the runner-up task; given only when "
        "the task inference is ambiguous (profile.task.ambiguous)",
    )

    @property
    def best(self) -> Candidate:
        """The top-ranked candidate; the recommender never returns an empty ranking."""
        return self.candidates[0]

    def explain(self) -> str:
        """Readable text for people: the task and why, the ranking with reasons, what to avoid."""
        t = self.profile.task
        lines = [f"Task: {t.task.value} (confidence {t.confidence:.2f}, {t.source}): {t.reason}"]
        lines.extend(reading_lines(t))
        if self.goal is not None:
            lines.append(f"Goal: {self.goal}")
        lines.append("Recommended losses:")
        for i, c in enumerate(self.candidates, 1):
            lines.append(f"  {i}. {c.call_text()}  [score {c.score:.2f}]")
            lines.extend(f"     - {r}" for r in c.rationale)
            if c.rules:
                lines.append(f"     rules: {', '.join(c.rules)} (docs/decision-table.md)")
        if self.runner_up and t.runner_up is not None:
            lines.append(f"If the targets are read as {t.runner_up_reading or t.runner_up.value} ({t.runner_up.value}):")
            for i, c in enumerate(self.runner_up, 1):
                lines.append(f"  {i}. {c.call_text()}  [score {c.score:.2f}]")
                lines.extend(f"     - {r}" for r in c.rationale[:1])
        if self.avoid:
            lines.append("Avoid:")
            for a in self.avoid:
                lines.append(f"  x {a.loss}")
                lines.extend(f"     - {r}" for r in a.reasons)
        if self.profile.notes:
            lines.append("Notes:")
            lines.extend(f"  - {n}" for n in self.profile.notes)
        return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and len(value) > 6:
        head = ", ".join(_short(v) for v in value[:5])
        return f"[{head}, ... {len(value)} values]"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return repr(value)
