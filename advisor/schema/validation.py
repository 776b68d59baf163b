"""What empirical validation found: held-out metrics per candidate and fold, curves, ranking.

Free of torch and scikit-learn so the light client can receive it; ``plot`` imports
matplotlib only when called (an optional extra).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.schema.profile import FeaturePreparation

__all__ = ["CandidateValidation", "PairedComparison", "ValidationReport"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PairedComparison(_Model):
    """The candidate against the best one, fold by fold (the folds pair the two)."""

    against: str
    mean_difference: float = Field(
        description="mean over folds of (this - best) on the primary metric"
    )
    std_difference: float
    p_value: float | None = Field(
        description="paired t-test over folds; None with fewer than 2 folds"
    )
    folds_better_or_equal: int
    within_noise: bool = Field(description="p_value >= 0.05: the folds do not separate the two")


class CandidateValidation(_Model):
    loss: str
    label: str = Field(description="the loss name, with its params when a name repeats")
    params: dict[str, Any] = Field(default_factory=dict)
    skipped: bool = False
    reason: str | None = None
    fold_metrics: list[dict[str, float]] = Field(default_factory=list)
    mean: dict[str, float] = Field(default_factory=dict)
    std: dict[str, float] = Field(default_factory=dict)
    train_curve: list[float] = Field(default_factory=list, description="per epoch, mean over folds")
    validation_curve: list[float] = Field(
        default_factory=list, description="per epoch, held-out loss, mean over folds"
    )
    validation_curve_std: list[float] = Field(
        default_factory=list,
        description="per epoch, the held-out loss's standard deviation over folds (0 with one)",
    )
    paired: PairedComparison | None = None


class ValidationReport(_Model):
    task: str
    metric: str
    greater_is_better: bool
    model: Literal["linear", "mlp"]
    folds: int
    seed: int
    epochs_requested: int
    epochs_completed: int
    partial: bool
    stop_reason: Literal["completed", "budget", "cancelled"]
    elapsed_s: float
    device: str
    results: list[CandidateValidation]
    ranking: list[str] = Field(description="candidate labels by mean primary metric, best first")
    recommended: str | None = Field(default=None, description="recommend()'s top choice")
    agrees_with_recommendation: bool | None = None
    disagreement: list[str] = Field(default_factory=list, description="why the two may differ")
    notes: list[str] = Field(default_factory=list)
    preparation: FeaturePreparation | None = Field(
        default=None, description="what became of each feature column (fitted per fold)"
    )
    n_excluded: int = Field(0, description="rows left out because their target is missing")
    classes: list[int | float | str | bool] | None = Field(
        None,
        description="binary and multiclass: the class labels in index order, the mapping the "
        "probes were trained on (the profile's and evaluate's for the same targets)",
    )

    @property
    def best(self) -> CandidateValidation | None:
        """The top-ranked candidate; None when every candidate was skipped."""
        return next((r for r in self.results if self.ranking and r.label == self.ranking[0]), None)

    def table(self) -> str:
        """Readable ranking: mean ± std of the primary metric per candidate."""
        arrow = "higher is better" if self.greater_is_better else "lower is better"
        lines = [
            f"{self.task}: {self.metric} over {self.folds} folds ({arrow}), {self.model} probe, "
            f"{self.epochs_completed}/{self.epochs_requested} epochs"
            + (f" — partial ({self.stop_reason})" if self.partial else "")
        ]
        by_label = {r.label: r for r in self.results}
        for label in self.ranking:
            r = by_label[label]
            m, s = r.mean.get(self.metric, float("nan")), r.std.get(self.metric, float("nan"))
            close = r.paired is not None and r.paired.against != label and r.paired.within_noise
            lines.append(
                f"  {label:<32} {m:.4g} ± {s:.2g}"
                + (" (within noise of the best)" if close else "")
            )
        lines.extend(f"  skipped {r.label}: {r.reason}" for r in self.results if r.skipped)
        if self.recommended is not None:
            verdict = "agrees" if self.agrees_with_recommendation else "differs"
            lines.append(f"recommend() chose {self.recommended}: validation {verdict}")
            lines.extend(f"  - {d}" for d in self.disagreement)
        return "\n".join(lines)

    def plot(self, path: str) -> str:
        """Loss curves per candidate, each over its own first held-out epoch, and the metric
        with its spread over folds, as a PNG (needs matplotlib)."""
        from advisor.reporting.plots import save_validation

        return save_validation(self, path)
