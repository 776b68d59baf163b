"""What the profiler measured about a data set, as plain pydantic models.

These models are the contract between the profiler, the recommender, the service and the
light client, so this module imports neither torch nor scikit-learn. Every number here is
measured; the recommender quotes them in its rationale instead of typing numbers in.
Optional sections are ``None`` when they do not apply (class statistics of a regression
target, say) rather than filled with placeholders a caller could mistake for measurements.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.vocabulary import Task

__all__ = [
    "ClassStats",
    "ColumnPreparation",
    "CountStats",
    "DataProfile",
    "DistributionStats",
    "FeaturePreparation",
    "FeatureStats",
    "MultilabelStats",
    "PredictionStats",
    "Reading",
    "ResidualStats",
    "Tails",
    "TargetStats",
    "TaskInference",
]

Label = int | float | str
Reading = Literal["class index", "ordinal code", "count", "measured quantity", "proportion"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskInference(_Model):
    """The task, how sure the rules are, and the alternative a human should consider."""

    task: Task
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str
    runner_up: Task | None = None
    source: Literal["hint", "rules"]
    rule: str = Field(description="id of the inference rule that decided")
    sklearn_type: str | None = Field(
        default=None, description="what sklearn's type_of_target said, kept for comparison"
    )
    # what the values stand for: integer codes (class index, ordinal code, count, measured
    # quantity), which decides between the tasks above, or shares in [0, 1] (proportion)
    reading: Reading | None = Field(
        default=None,
        description="what integer targets, or non-integer targets in [0, 1], were read as",
    )
    runner_up_reading: Reading | None = None
    ambiguous: bool = Field(
        default=False,
        description="the evidence does not separate the reading from the runner-up's; "
        "a recommendation then lists the runner-up's losses too",
    )
    held_out: dict[str, float] | None = Field(
        default=None,
        description="per reading, the mean out-of-fold log-likelihood per row (nats) of a quick "
        "model of the features that reads the integers that way; higher fits better",
    )

    def __eq__(self, other: object) -> bool:
        # Compares equal to its task too, so `profile.task == "regression"` reads as meant.
        if isinstance(other, (Task, str)):
            return self.task == other
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash((self.task, self.confidence, self.reason, self.rule))

    def __str__(self) -> str:
        return self.task.value


class Tails(_Model):
    """Outliers and tail weight of a set of numbers: the targets, or a model's residuals."""

    skew: float | None = None
    excess_kurtosis: float | None = None
    mad: float | None = Field(default=None, description="median absolute deviation")
    robust_sigma: float | None = Field(default=None, description="1.4826·MAD, or a fallback")
    robust_sigma_method: Literal["mad", "iqr", "std"] | None = None
    outlier_share_mz: float | None = Field(
        default=None, description="share with modified z-score above 3.5 (Iglewicz-Hoaglin)"
    )
    outlier_share_iqr: float | None = Field(
        default=None, description="share outside the Tukey fences Q1-1.5·IQR, Q3+1.5·IQR"
    )
    outlier_severity: float | None = Field(
        default=None, description="median |modified z| of the outliers; 0 when there are none"
    )
    max_abs_mz: float | None = None
    heavy_tailed: bool = False


class TargetStats(Tails):
    """Shape, missingness and the distribution facts that drive regression loss choice."""

    n: int = Field(description="rows given, missing ones included")
    n_missing: int
    n_used: int
    shape: list[int]
    kind: Literal["numeric", "string", "boolean"]
    n_distinct: int
    is_integer: bool
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    median: float | None = None
    share_zeros: float | None = None
    share_ones: float | None = Field(
        default=None, description="share of values exactly 1 (the upper bound of shares)"
    )
    share_negative: float | None = None
    output_scales: list[float | None] | None = Field(
        default=None,
        description="several values per row: each output column's robust scale (1.4826 · MAD), in column order",
    )


class CountStats(_Model):
    """Facts that separate Poisson, negative binomial and Tweedie for count targets."""

    mean: float
    variance: float
    share_zeros: float
    dispersion_index: float = Field(description="variance / mean; 1 for Poisson")
    overdispersion_p_value: float = Field(description="chi-square dispersion test against Poisson")
    overdispersed: bool
    nb_alpha: float = Field(description="method-of-moments alpha in var = mu + alpha·mu²")
    expected_zero_share_poisson: float
    expected_zero_share_nb: float
    excess_zero_share: float = Field(description="observed zero share minus the NB expectation")
    zero_inflated: bool


class ClassStats(_Model):
    """Per-class counts and the imbalance measures the re-weighting losses are derived from."""

    labels: list[Label]
    counts: list[int]
    n_classes: int
    encoding: Literal["labels", "one_hot"]
    label_style: Literal["zero_one", "plus_minus_one", "index", "string", "boolean", "other"]
    positive_label: Label | None = None
    imbalance_ratio: float = Field(description="largest class count / smallest")
    minority_share: float
    majority_share: float
    normalized_entropy: float = Field(description="class entropy / log(n_classes); 1 is balanced")
    effective_beta: float
    effective_numbers: list[float] = Field(description="(1 - beta^n_c) / (1 - beta), Cui et al.")


class MultilabelStats(_Model):
    n_labels: int
    cardinality: float = Field(description="mean number of positive labels per row")
    density: float = Field(description="cardinality / n_labels")
    positives: list[int]
    empty_row_share: float
    min_label_share: float


class DistributionStats(_Model):
    n_components: int
    row_sum_min: float
    row_sum_max: float
    share_zero_entries: float
    mean_normalized_entropy: float


class ColumnPreparation(_Model):
    """What became of one feature column, and why."""

    name: str
    kind: Literal["numeric", "boolean", "categorical", "text", "mixed", "datetime"] = Field(
        description="what the column holds, as read"
    )
    action: Literal["used", "imputed", "encoded", "dropped"]
    reason: str = Field(description="why, with the counts it was decided on")
    n_missing: int
    n_distinct: int | None = Field(
        description="distinct non-missing values; None for non-integer numbers (not counted)"
    )
    outputs: list[str] = Field(
        default_factory=list, description="the prepared columns it became; none when dropped"
    )


class FeaturePreparation(_Model):
    """How a table became the numeric matrix a model reads (``advisor.ingest.features``)."""

    columns: list[ColumnPreparation]
    n_input_columns: int
    n_output_columns: int
    fitted_rows: int = Field(description="rows the medians and category lists were taken from")
    max_categories: int = Field(description="output columns per categorical column, at most")
    min_category_rows: int = Field(description="rarer categories are grouped as infrequent")
    notes: list[str] = Field(default_factory=list)


class FeatureStats(_Model):
    n_rows: int
    n_features: int = Field(description="columns of the prepared matrix")
    n_missing: int = Field(description="missing cells of the input table")
    outlier_share: float | None = None
    outlier_method: str | None = None
    n_scored: int = Field(0, description="rows scored for outliers (a subsample when large)")
    preparation: FeaturePreparation | None = None


class PredictionStats(_Model):
    """How the model's outputs are encoded; pairs a loss with the activation it expects."""

    shape: list[int]
    format: Literal["logits", "probabilities", "log_probabilities", "labels", "values"]
    encoding: Literal["index", "one_hot", "scores"]
    min: float
    max: float
    rows_sum_to_one: bool | None = None


class ResidualStats(Tails):
    """What a quick model of the features leaves unexplained: the errors a loss actually sees.

    The outlier and tail facts mean what ``TargetStats``' do, measured on the out-of-fold
    residuals of a cross-fitted baseline instead of on the targets.
    """

    model: str = Field(description="the baseline whose residuals these are")
    method: str = Field(description="how it was fitted, and on how many rows")
    n_rows: int
    r2: float | None = Field(description="out-of-fold R² of the baseline")
    scale_trend: float | None = Field(
        default=None, description="Spearman correlation of |residual| with the prediction"
    )
    heteroscedastic: bool = Field(
        default=False, description="|scale_trend| >= 0.2 with p < 0.01: the noise grows or shrinks"
    )
    # classes only: what the labels say that the features do not
    accuracy: float | None = Field(default=None, description="out-of-fold accuracy of the baseline")
    confident_mistake_share: float | None = Field(
        default=None,
        description="rows whose true class got probability < 0.1 while another got >= 0.8",
    )
    # counts only: the dispersion left given X
    pearson_dispersion: float | None = Field(
        default=None, description="Pearson chi-square / df of the count baseline; 1 for Poisson"
    )
    dispersion_p_value: float | None = None
    overdispersed: bool | None = None
    nb_alpha: float | None = Field(default=None, description="NB alpha given X, by moments")


class DataProfile(_Model):
    task: TaskInference
    targets: TargetStats
    counts: CountStats | None = None
    classes: ClassStats | None = None
    multilabel: MultilabelStats | None = None
    distribution: DistributionStats | None = None
    features: FeatureStats | None = None
    predictions: PredictionStats | None = None
    residuals: ResidualStats | None = None
    notes: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        """Readable text for people: the task, the target's facts, the features and what a
        quick model left unexplained, then the notes. Plain numbers, no Python reprs."""
        t, k = self.task, self.targets
        lines = [f"Task: {t.task.value} (confidence {t.confidence:.2f}, {t.source}): {t.reason}"]
        lines.extend(reading_lines(t))
        lines.append(f"Targets: {k.n_used} used of {k.n} ({k.n_missing} missing), {k.n_distinct} distinct")
        if k.mean is not None:
            lines.append(
                f"  mean {k.mean:.4g}, median {k.median:.4g}, skew {_num(k.skew)}, excess kurtosis "
                f"{_num(k.excess_kurtosis)}, outliers {_pct(k.outlier_share_mz)} by modified z > 3.5"
            )
        c = self.classes
        if c is not None:
            pairs = ", ".join(f"{label}: {count}" for label, count in zip(c.labels, c.counts, strict=True))
            lines.append(f"Classes: {c.n_classes} ({pairs}); imbalance {c.imbalance_ratio:.3g}:1")
        n = self.counts
        if n is not None:
            lines.append(
                f"Counts: variance/mean {n.dispersion_index:.3g}, zeros {_pct(n.share_zeros)}, "
                f"{'overdispersed' if n.overdispersed else 'not overdispersed'}"
            )
        f = self.features
        if f is not None:
            lines.append(
                f"Features: {f.n_rows} rows, {f.n_features} prepared columns, "
                f"{_pct(f.outlier_share)} outlying rows ({f.outlier_method or 'not scored'})"
            )
            for col in f.preparation.columns if f.preparation else []:
                lines.append(f"  {col.name}: {col.kind}, {col.action}: {col.reason}")
        r = self.residuals
        if r is not None:
            lines.append(f"Residuals of a {r.model} ({r.method}):")
            if r.r2 is not None:
                lines.append(
                    f"  R² {r.r2:.3f}, outliers {_pct(r.outlier_share_mz)} by modified z > 3.5, "
                    f"{'heavy-tailed' if r.heavy_tailed else 'not heavy-tailed'}, "
                    f"{'heteroscedastic' if r.heteroscedastic else 'constant spread'}"
                )
            if r.pearson_dispersion is not None:
                lines.append(f"  Pearson chi-square/df {r.pearson_dispersion:.3g}, NB alpha {_num(r.nb_alpha)}")
            if r.confident_mistake_share is not None:
                lines.append(
                    f"  accuracy {_num(r.accuracy)}, confident mistakes {_pct(r.confident_mistake_share)}"
                )
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  - {note}" for note in self.notes)
        return "\n".join(lines)


def reading_lines(t: TaskInference) -> list[str]:
    """The runner-up task and, for integer targets and shares, the readings (with the
    held-out fits of the integer readings)."""
    lines = []
    if t.runner_up is not None:
        lines.append(f"  runner-up task: {t.runner_up.value}{' (ambiguous)' if t.ambiguous else ''}")
    if t.reading is not None:
        other = f", runner-up: {t.runner_up_reading}" if t.runner_up_reading else ""
        what = "values" if "proportion" in (t.reading, t.runner_up_reading) else "integers"
        lines.append(f"  {what} read as: {t.reading}{other}")
    if t.held_out:
        fits = ", ".join(f"{name} {value:.3f}" for name, value in t.held_out.items())
        lines.append(f"  held-out log-likelihood per row: {fits}")
    return lines


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}%"
