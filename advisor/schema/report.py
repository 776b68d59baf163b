"""The report a person reads: one object holding what every step found, for one data set.

``advisor.report`` and ``loss-advisor report`` build it; ``advisor.reporting.render`` turns it
into one self-contained HTML page, and ``model_dump_json`` into JSON. The page is rendered from
this object only, so the JSON and the page never disagree. Free of torch and scikit-learn: the
light client assembles it from a server's replies and renders it on its own side.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from advisor.schema.evaluation import EvaluationReport
from advisor.schema.recommendation import Recommendation
from advisor.schema.validation import ValidationReport

__all__ = ["Report"]


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(description="the page's heading: the data set and its target")
    source: str | None = Field(None, description="the file the data came from, as given")
    target: str | None = Field(None, description="the target column's name, when known")
    created: str = Field(description="when the report was made, ISO 8601 in UTC")
    version: str = Field(description="loss-advisor's version")
    recommendation: Recommendation = Field(description="the profile and the ranked losses")
    evaluation: EvaluationReport | None = Field(
        None, description="the candidates on the given predictions; None without predictions"
    )
    validation: ValidationReport | None = Field(
        None, description="probe models trained with each candidate; None unless asked for"
    )
    notes: list[str] = Field(
        default_factory=list, description="why a part is missing, and what the report left out"
    )
    command: str | None = Field(
        None, description="the command line that made it, to make it again (the CLI's)"
    )

    def summary(self) -> str:
        """A few lines for a terminal: the choice, and what each part of the page holds."""
        rec = self.recommendation
        lines = [f"{self.title}: {rec.profile.task.task.value}, recommended {rec.best.call_text()}"]
        if self.evaluation is not None:
            done = [r for r in self.evaluation.results if not r.skipped]
            lines.append(
                f"  evaluated {len(done)} of {len(self.evaluation.results)} candidates on "
                f"{self.evaluation.n_samples} predictions, {len(self.evaluation.lints)} lints"
            )
        if self.validation is not None and self.validation.best is not None:
            v = self.validation
            lines.append(
                f"  validation ({v.metric}, {v.folds} folds) ranks {v.best.label} first"
            )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)
