"""Result models of ``advisor.evaluate``: one report, one result per candidate, report-level lints.

Imports neither torch nor scikit-learn: the light client builds these from the wire.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NOT_COMPARABLE_NOTE = (
    "Raw loss values of different losses are not comparable (each has its own scale and units); "
    "compare candidates by diagnostics.skill, which normalises each loss by its own trivial baseline."
)


class Quantiles(BaseModel):
    """Order statistics of the per-sample losses (the 'lower' method: an observed value, never interpolated)."""

    model_config = ConfigDict(frozen=True)

    p50: float
    p90: float
    p99: float
    max: float


class Diagnostics(BaseModel):
    """How one loss treats this data.

    Gradients are those of each sample's own (unreduced) loss with respect to its predictions,
    so they do not shrink with N the way the gradient of a mean does; a sample's magnitude is the
    L2 norm over its prediction entries (a row of logits, a pair of scores).
    """

    model_config = ConfigDict(frozen=True)

    n_samples: int = Field(
        description="entries of the unreduced loss (torch's reduction='none' output)"
    )
    loss_quantiles: Quantiles | None = Field(
        None, description="None when no per-sample loss is finite"
    )
    grad_mean: float | None = Field(None, description="mean per-sample gradient magnitude")
    grad_max: float | None = Field(None, description="largest per-sample gradient magnitude")
    top1pct_grad_share: float | None = Field(
        None, description="share of the total gradient magnitude carried by the top 1% of samples"
    )
    zero_grad_fraction: float | None = Field(None, description="samples with exactly zero gradient")
    nonfinite_losses: int = 0
    nonfinite_grads: int = 0
    saturation: float | None = Field(
        None,
        description="share of samples whose predicted probability is 0 or 1 in this dtype; None where no probability is implied",
    )
    skill: float | None = Field(
        None, description="1 - loss / loss of the trivial baseline; > 0 beats it"
    )
    baseline: str | None = Field(None, description="what the trivial baseline predicts")
    baseline_value: float | None = None


class CandidateResult(BaseModel):
    """One candidate, in the caller's order. Skipped candidates carry the reason, never a value."""

    model_config = ConfigDict(frozen=True)

    loss: str
    params: dict[str, Any] = Field(
        default_factory=dict, description="the candidate's params, JSON-friendly"
    )
    value: float | None = Field(
        None, description="the reduced loss with the candidate's own reduction"
    )
    values: list[float] | None = Field(
        None, description="the unreduced output, flattened, for reduction='none'"
    )
    skipped: bool = False
    reason: str | None = None
    family: str | None = None
    path: str | None = Field(
        None, description="'fused-compiled', 'fused-eager' or 'reference' (the catalog function)"
    )
    diagnostics: Diagnostics | None = None


class Lint(BaseModel):
    """A likely mistake in how the inputs were prepared, with the fix."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    fix: str
    losses: list[str] = Field(default_factory=list, description="candidates the lint concerns")
    severity: str = "warning"


class EvaluationReport(BaseModel):
    """Everything ``advisor.evaluate`` found."""

    model_config = ConfigDict(frozen=True)

    results: list[CandidateResult]
    lints: list[Lint] = Field(default_factory=list)
    n_samples: int
    device: str
    dtype: str
    note: str = NOT_COMPARABLE_NOTE

    def result(self, loss: str) -> CandidateResult:
        """The first result for ``loss``."""
        for r in self.results:
            if r.loss == loss:
                return r
        raise KeyError(loss)

    @property
    def lint_codes(self) -> list[str]:
        return [lint.code for lint in self.lints]
