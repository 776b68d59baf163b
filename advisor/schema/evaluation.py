"""Result models of ``advisor.evaluate``: one report, one result per candidate, report-level lints.

Imports neither torch nor scikit-learn: the light client builds these from the wire.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from advisor.errors import InvalidInputError

NOT_COMPARABLE_NOTE = (
    "Raw loss values of different losses are not comparable (each has its own scale and units); "
    "compare candidates by diagnostics.skill, which normalises each loss by its own trivial baseline."
)


#: Rows of the quantile sample unless the caller says otherwise (``advisor.evaluate``'s
#: ``quantile_sample``, the Evaluate RPC's field, the CLI's ``--quantile-sample``).
DEFAULT_QUANTILE_SAMPLE = 65536


def check_quantile_sample(m: Any) -> int | None:
    """A positive number of rows, or None for exact order statistics; anything else is refused by field."""
    if m is None:
        return None
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise InvalidInputError(
            "must be a positive number of rows, or None for exact quantiles", field="quantile_sample", got=m
        )
    return m


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
        None,
        description="None when no per-sample loss is finite; max is exact, the others as quantile_method says",
    )
    grad_mean: float | None = Field(None, description="mean per-sample gradient magnitude")
    grad_max: float | None = Field(None, description="largest per-sample gradient magnitude")
    top1pct_grad_share: float | None = Field(
        None, description="share of the total gradient magnitude carried by the top 1% of samples"
    )
    zero_grad_fraction: float | None = Field(None, description="samples with exactly zero gradient")
    nonfinite_losses: int = 0
    nonfinite_grads: int = 0
    quantile_method: str = Field(
        "exact",
        description="'exact' (order statistics of every sample) or 'sampled' (of a seeded uniform sample of rows)",
    )
    quantile_sample: int | None = Field(
        None, description="rows in the quantile sample; None when every row was read (exact)"
    )
    quantile_rank_error: float = Field(
        0.0,
        description=(
            "DKW bound: with 95% confidence each loss quantile's rank, and the top-1% share's "
            "threshold rank, are within this fraction of their nominal level (0 when exact)"
        ),
    )
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
    n_samples: int = Field(description="rows evaluated")
    device: str
    dtype: str
    note: str = NOT_COMPARABLE_NOTE
    classes: list[int | float | str] | None = Field(
        None, description="text labels in index order: targets were mapped to 0..C-1 by them"
    )
    n_excluded: int = Field(0, description="rows left out because their target is missing")

    def result(self, loss: str) -> CandidateResult:
        """The first result for ``loss``."""
        for r in self.results:
            if r.loss == loss:
                return r
        raise KeyError(loss)

    @property
    def lint_codes(self) -> list[str]:
        return [lint.code for lint in self.lints]

    def table(self) -> str:
        """Readable text for people: one line per candidate, then the lints and the caveat."""
        header = ("loss", "value", "skill", "p99", "grad max", "top1% grad", "dead zone", "note")
        rows = [header]
        for r in self.results:
            d = r.diagnostics
            q = d.loss_quantiles if d else None
            rows.append(
                (
                    _call_text(r.loss, r.params),
                    _num(r.value),
                    _num(d.skill if d else None),
                    _num(q.p99 if q else None),
                    _num(d.grad_max if d else None),
                    _share(d.top1pct_grad_share if d else None),
                    _share(d.zero_grad_fraction if d else None),
                    f"skipped: {r.reason}" if r.skipped else "",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
        lines = [
            "  ".join([*(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)), row[-1]])
            .rstrip()
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append(f"\n{self.n_samples} samples, {self.dtype} on {self.device}. {self.note}")
        if self.n_excluded:
            lines.append(f"{self.n_excluded} rows with a missing target were left out.")
        if self.classes is not None:
            mapping = ", ".join(f"{i}={c}" for i, c in enumerate(self.classes[:20]))
            lines.append(f"Text labels as class indices: {mapping}")
        for lint in self.lints:
            lines.append(f"\n[{lint.code}] {lint.message}\n  fix: {lint.fix}")
        return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _call_text(loss: str, params: dict[str, Any]) -> str:
    def short(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        if isinstance(v, list) and len(v) > 3:
            return f"[{len(v)} values]"
        return repr(v)

    return f"{loss}({', '.join(f'{k}={short(v)}' for k, v in params.items())})"
