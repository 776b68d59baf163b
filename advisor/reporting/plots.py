"""The report's plots, drawn with matplotlib from the result models alone.

Candidates' losses live on different scales (a Huber loss near 1e6 beside a log-cosh near 1),
so no plot puts raw losses of different candidates on one axis:

- ``draw_loss_spread``: each candidate's per-sample loss quantiles over its own largest loss;
- ``draw_gradient_share``: each candidate's share of gradient from its top 1% of samples;
- ``draw_curves``: validation curves over each candidate's own first held-out epoch, on a log
  axis when the plotted range spans more than ``LOG_SPAN``;
- ``draw_metric``: the validation metric per candidate with its spread over folds.

``figures`` gives a report's figures as SVG text (the page inlines them); ``save_validation``
writes the two validation plots as one PNG (``ValidationReport.plot``). Labels carry each
candidate's hyperparameters, so two Huber losses with different deltas stay apart.
matplotlib is imported inside the functions: the schema and the light client import this
module's callers without it.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    from advisor.schema.evaluation import EvaluationReport
    from advisor.schema.report import Report
    from advisor.schema.validation import ValidationReport

#: A plotted range wider than this (max / min) gets a log axis.
LOG_SPAN = 100.0
#: Quantiles at or below this share of the largest loss sit on the axis's floor.
SPREAD_FLOOR = 1e-4
#: Identical bytes for identical reports: no date, a fixed id salt.
_SVG_META = {"Date": None, "Creator": None}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: the figures go to files and strings
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "loss-advisor"
    plt.rcParams["svg.fonttype"] = "path"  # glyphs as paths: the page needs no font
    return plt


def label_of(loss: str, params: dict[str, Any], limit: int = 48) -> str:
    """``Loss(k=v, ...)`` with short numbers, cut at ``limit`` characters."""
    def short(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}"
        if isinstance(v, list):
            return f"[{len(v)} values]" if len(v) > 3 else "[" + ", ".join(short(x) for x in v) + "]"
        return str(v)

    shown = {k: v for k, v in params.items() if k != "reduction"}
    text = f"{loss}({', '.join(f'{k}={short(v)}' for k, v in shown.items())})" if shown else loss
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _no_data(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_loss_spread(ax: Any, evaluation: EvaluationReport) -> None:
    """p50, p90 and p99 of each candidate's per-sample losses over its largest (= 1)."""
    rows = [
        r
        for r in evaluation.results
        if r.diagnostics is not None
        and r.diagnostics.loss_quantiles is not None
        and r.diagnostics.loss_quantiles.max > 0
    ]
    ax.set_title("Per-sample loss spread: how far typical samples sit below the worst")
    if not rows:
        _no_data(ax, "no candidate reported loss quantiles")
        return
    marks = (("p50", "o", "C0"), ("p90", "s", "C1"), ("p99", "D", "C3"))
    for y, r in enumerate(rows):
        q = r.diagnostics.loss_quantiles
        xs = [max(getattr(q, name) / q.max, SPREAD_FLOOR) for name, _, _ in marks]
        ax.plot([min(xs), 1.0], [y, y], color="0.75", zorder=1)
        for x, (name, marker, color) in zip(xs, marks, strict=True):
            ax.scatter([x], [y], marker=marker, color=color, zorder=2, label=name if y == 0 else None)
        ax.scatter([1.0], [y], marker="|", s=200, color="k", zorder=2, label="max" if y == 0 else None)
    ax.set_xscale("log")
    lowest = min(max(r.diagnostics.loss_quantiles.p50 / r.diagnostics.loss_quantiles.max, SPREAD_FLOOR) for r in rows)
    ax.set_xlim(lowest / 3, 2.0)
    ax.set_yticks(range(len(rows)), [label_of(r.loss, r.params) for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(f"per-sample loss ÷ the candidate's largest (log scale; ≤ {SPREAD_FLOOR:g} at the floor)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)


def draw_gradient_share(ax: Any, evaluation: EvaluationReport) -> None:
    """Each candidate's share of the total gradient from its top 1% of samples."""
    rows = [
        r
        for r in evaluation.results
        if r.diagnostics is not None and r.diagnostics.top1pct_grad_share is not None
    ]
    ax.set_title("Share of gradient from the top 1% of samples")
    if not rows:
        _no_data(ax, "no candidate reported gradient shares")
        return
    shares = [100 * r.diagnostics.top1pct_grad_share for r in rows]
    ax.barh(range(len(rows)), shares, color="C0")
    ax.axvline(1.0, color="k", linestyle="--", linewidth=1)
    for y, share in enumerate(shares):
        ax.text(share, y, f" {share:.1f}%", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [label_of(r.loss, r.params) for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, min(105.0, max(2.5, 1.3 * max(shares))))
    ax.set_xlabel("% of the summed per-sample gradient magnitude (dashed: 1%, every sample pulling the same)")


def _name(result: Any) -> str:
    """A validation result's label, with its hyperparameters when the label is the bare name."""
    return label_of(result.loss, result.params) if result.label == result.loss else result.label


def _trained(validation: ValidationReport) -> list[Any]:
    return [r for r in validation.results if not r.skipped and r.validation_curve]


class Curves(NamedTuple):
    """One candidate's curves over its own first held-out loss."""

    train: list[float]
    held_out: list[float]
    spread: list[float]  # per epoch, the held-out loss's std over folds, on the same scale


def normalised_curves(validation: ValidationReport) -> dict[str, Curves]:
    """Per candidate label: its train and held-out curves and the held-out spread over folds,
    each over its own first held-out loss.

    A first held-out loss of zero or below (a loss that can be negative, like a Gaussian
    likelihood) leaves the curves as they are: dividing would flip or blow them up.
    """
    out = {}
    for r in _trained(validation):
        first = r.validation_curve[0]
        scale = first if math.isfinite(first) and first > 0 else 1.0
        out[r.label] = Curves(
            [v / scale for v in r.train_curve],
            [v / scale for v in r.validation_curve],
            [v / scale for v in r.validation_curve_std],
        )
    return out


def draw_curves(ax: Any, validation: ValidationReport) -> None:
    """Train (dashed) and held-out (solid) loss per epoch, each over its first held-out epoch,
    with a band of ± one standard deviation of the held-out loss over folds."""
    ax.set_title("Validation curves, each candidate over its own first epoch")
    curves = normalised_curves(validation)
    if not curves:
        _no_data(ax, "no candidate was trained")
        return
    by_label = {r.label: r for r in validation.results}
    for label, (train, held_out, spread) in curves.items():
        epochs = range(1, len(held_out) + 1)
        (line,) = ax.plot(epochs, held_out, label=_name(by_label[label]))
        if len(spread) == len(held_out) and any(v > 0 for v in spread):
            low = [m - s for m, s in zip(held_out, spread, strict=True)]
            high = [m + s for m, s in zip(held_out, spread, strict=True)]
            ax.fill_between(epochs, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
        if train:
            ax.plot(range(1, len(train) + 1), train, linestyle="--", color=line.get_color(), alpha=0.7)
    values = [v for c in curves.values() for curve in (c.train, c.held_out) for v in curve if math.isfinite(v)]
    positive = [v for v in values if v > 0]
    if positive and len(positive) == len(values) and max(positive) / min(positive) > LOG_SPAN:
        ax.set_yscale("log")
        ax.set_ylabel("loss ÷ first held-out loss (log scale)")
    else:
        ax.set_ylabel("loss ÷ first held-out loss")
    ax.set_xlabel("epoch (dashed: training loss; band: ± one std of the held-out loss over folds)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)


def draw_metric(ax: Any, validation: ValidationReport) -> None:
    """The primary metric per candidate, mean over folds with ± one standard deviation."""
    arrow = "higher is better" if validation.greater_is_better else "lower is better"
    ax.set_title(f"{validation.metric} over {validation.folds} folds ({arrow})")
    done = [r for r in validation.results if not r.skipped and validation.metric in r.mean]
    if not done:
        _no_data(ax, "no candidate was scored")
        return
    best = validation.ranking[0] if validation.ranking else None
    colors = ["C2" if r.label == best else "C0" for r in done]
    ax.barh(
        range(len(done)),
        [r.mean[validation.metric] for r in done],
        xerr=[r.std.get(validation.metric, 0.0) for r in done],
        color=colors,
        capsize=4,
    )
    ax.set_yticks(range(len(done)), [_name(r) for r in done])
    ax.invert_yaxis()
    ax.set_xlabel(f"{validation.metric} (bars: mean; whiskers: ± one std over folds; green: best)")


def _svg(fig: Any) -> str:
    plt = _pyplot()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata=_SVG_META, bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # the XML prolog and doctype do not belong in a data URI


def _figure(draw: Any, data: Any, height: float) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, height))
    draw(ax, data)
    fig.tight_layout()
    return _svg(fig)


def _height(rows: int) -> float:
    """Inches for a chart of one bar or marker row per candidate."""
    return 1.2 + 0.45 * max(rows, 2)


def figures(report: Report) -> dict[str, str]:
    """The report's figures as SVG text, by name; only those its data can fill."""
    out: dict[str, str] = {}
    if report.evaluation is not None:
        height = _height(len(report.evaluation.results))
        out["loss_spread"] = _figure(draw_loss_spread, report.evaluation, height)
        out["gradient_share"] = _figure(draw_gradient_share, report.evaluation, height)
    if report.validation is not None:
        out["curves"] = _figure(draw_curves, report.validation, 4.5)
        out["metric"] = _figure(draw_metric, report.validation, _height(len(report.validation.results)))
    return out


def save_validation(validation: ValidationReport, path: str) -> str:
    """The curves and the metric side by side, as a PNG at ``path``."""
    plt = _pyplot()
    fig, (curves, metric) = plt.subplots(1, 2, figsize=(15, 5))
    draw_curves(curves, validation)
    draw_metric(metric, validation)
    fig.suptitle(
        f"{validation.task}: {validation.model} probe, {validation.epochs_completed} epochs, "
        f"{validation.folds} folds"
    )
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
    return path
