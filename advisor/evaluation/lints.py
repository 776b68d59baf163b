"""Report-level lints: the input mistakes the guides themselves make, each with its fix.

Lints look at the raw request (before any candidate converts it), and only for the candidates
they concern, so a regression request never pays for the classification checks. Each check
reads the data at most once or twice, and reuses the request's cached min/max where it can;
the scale check, a heuristic with a tenfold margin, reads ``SCALE_SAMPLE`` evenly spaced
entries instead of every entry.
"""

from __future__ import annotations

import math

import torch

from advisor.evaluation.candidates import Candidate
from advisor.evaluation.inputs import Inputs
from advisor.evaluation.plans import class_last
from advisor.losses.classification import n_classes
from advisor.schema.evaluation import Lint

LOGIT_LOSSES = {"CrossEntropyLoss", "BCEWithLogitsLoss", "FocalLoss", "LogitAdjustedLoss", "ClassBalancedLoss", "MultiLabelSoftMarginLoss"}
INDEX_LOSSES = {"CrossEntropyLoss", "NLLLoss", "FocalLoss", "LogitAdjustedLoss", "MultiMarginLoss", "ClassBalancedLoss"}
BCE_LOSSES = {"BCELoss", "BCEWithLogitsLoss", "FocalLoss", "ClassBalancedLoss", "MultiLabelSoftMarginLoss"}
VALUE_LOSSES = {"L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss", "LogCoshLoss", "QuantileLoss", "AdaptiveRobustLoss", "GaussianNLLLoss"}
LOG_LINK_LOSSES = {"PoissonNLLLoss", "NegativeBinomialNLLLoss", "TweedieLoss"}  # input: a log-rate
RATE_MEAN = 2.0  # below this target mean, rates and log-rates are too alike to tell apart
SCALE_RATIO = 10.0  # predictions whose spread differs from the targets' by more than this
NLL_TOLERANCE = 1e-2  # |logsumexp| of a row of log-probabilities
SCALE_SAMPLE = 1 << 16  # entries the scale check reads
ORDER_MAX_CLASSES = 256  # the class-order check builds a C x C table
ORDER_GAIN = 0.25  # reordered columns must match this much more of the rows than as given
ORDER_MATCH = 0.5  # ... and at least this share of them
SWAPPED_AUC = 0.25  # binary scores whose ROC AUC against the labels is at most this look swapped
SWAP_SAMPLE = 4096  # rows the swap check reads: the AUC's standard error is at most 0.01 there
BINARY_SCORE_LOSSES = BCE_LOSSES | {"SoftMarginLoss", "HingeLoss"}


def _names(cands: list[Candidate], pool: set[str]) -> list[str]:
    return list(dict.fromkeys(c.name for c in cands if c.name in pool))


def lint(inp: Inputs, cands: list[Candidate]) -> list[Lint]:
    """Every lint that applies to this request."""
    out: list[Lint] = []
    if len(inp.predictions) == len(inp.targets) == 1 and inp.predictions[0].is_floating_point():
        x, y = inp.predictions[0], inp.targets[0]
        out += _probabilities_as_logits(inp, x, y, cands)
        out += _nll_on_scores(x, cands)
        out += _one_hot(x, y, cands)
        out += _pm1_to_bce(inp, y, cands)
        out += _labels_out_of_range(inp, x, y, cands)
        out += _class_order(x, y, cands)
        out += _binary_order(inp, x, y, cands)
        out += _scale(x, y, cands)
        out += _rates_as_log_rates(inp, x, y, cands)
    return out + _mixed_precision(inp, cands)


def _rates_as_log_rates(inp: Inputs, x, y, cands) -> list[Lint]:
    """Rates given where a log link expects log-rates: positive predictions whose mean sits
    near the targets' mean and far from its log (TweedieLoss on rates scored a skill of
    -0.80 where the log-rates scored 0.13)."""
    names = _names([c for c in cands if c.params.get("log_input", True)], LOG_LINK_LOSSES)
    if not names or x.shape != y.shape:
        return []
    lo, _ = inp.minmax(x)
    if lo < 0.0:
        return []
    mean_x = float(x.double().mean())
    mean_y = float(y.double().mean())
    if mean_y < RATE_MEAN or not 0.5 <= mean_x / mean_y <= 2.0:
        return []
    if abs(mean_x - math.log(mean_y)) <= abs(mean_x - mean_y):
        return []
    return [
        Lint(
            code="rates-as-log-rates",
            message=f"The predictions are all non-negative with mean {mean_x:.4g}, near the targets' mean {mean_y:.4g} "
            f"and far from its log {math.log(mean_y):.3g}: they look like rates, but {', '.join(names)} read(s) the "
            "input as a log-rate (log link) and would exponentiate it.",
            fix="Pass torch.log(rate) (the model's output before its exp), or set log_input=False where the loss has it "
            "(PoissonNLLLoss, NegativeBinomialNLLLoss).",
            losses=names,
        )
    ]


def _probabilities_as_logits(inp: Inputs, x, y, cands) -> list[Lint]:
    names = _names(cands, LOGIT_LOSSES)
    if not names:
        return []
    lo, hi = inp.minmax(x)
    if not (lo >= 0.0 and hi <= 1.0):
        return []
    multiclass = x.dim() >= 2 and x.shape != y.shape
    if multiclass:
        sums = class_last(x).sum(-1, dtype=torch.float64)
        softmax = bool(((sums - 1.0).abs() < 1e-3).all())
        what = "softmax outputs (rows in [0, 1] summing to 1)" if softmax else "sigmoid outputs (values in [0, 1])"
        fix = "Pass the raw logits (drop the final softmax/sigmoid), or use NLLLoss on torch.log_softmax(logits, 1)."
    else:
        what = "probabilities (every value in [0, 1])"
        fix = "Pass the raw logits (drop the final sigmoid), or use BCELoss on the probabilities."
    return [
        Lint(
            code="probabilities-as-logits",
            message=f"The predictions look like {what}, but {', '.join(names)} expect(s) raw logits and apply the softmax/sigmoid "
            "themselves; applied twice, the loss is squashed and its gradients vanish.",
            fix=fix,
            losses=names,
        )
    ]


def _nll_on_scores(x, cands) -> list[Lint]:
    if "NLLLoss" not in {c.name for c in cands} or x.dim() == 0:
        return []
    lse = class_last(x).logsumexp(-1)
    off = (lse.abs() > NLL_TOLERANCE) & torch.isfinite(lse)
    share = float(off.sum()) / max(1, off.numel())
    if share == 0:
        return []
    worst = float(lse[off].abs().max())
    return [
        Lint(
            code="nll-not-log-probabilities",
            message=f"NLLLoss expects log-probabilities, whose rows have logsumexp 0; {share:.0%} of rows are off "
            f"(up to |logsumexp| = {worst:.3g}). On raw scores NLLLoss silently returns a wrong, even negative, value.",
            fix="Apply torch.log_softmax(scores, dim=1) first, or use CrossEntropyLoss on the raw scores.",
            losses=["NLLLoss"],
        )
    ]


def _one_hot(x, y, cands) -> list[Lint]:
    names = _names(cands, INDEX_LOSSES)
    if not names or x.dim() < 2 or y.shape != x.shape:
        return []
    yr = class_last(y)
    binary = bool(((yr == 0) | (yr == 1)).all())
    if not binary or not bool((yr.sum(-1) == 1).all()):
        return []
    return [
        Lint(
            code="one-hot-targets",
            message=f"The targets are one-hot rows, but {', '.join(names)} take(s) class indices "
            "(CrossEntropyLoss reads one-hot floats as class probabilities: slower, and ignore_index does not apply).",
            fix="Pass class indices: targets.argmax(dim=1).",
            losses=names,
        )
    ]


def _pm1_to_bce(inp: Inputs, y, cands) -> list[Lint]:
    names = _names(cands, BCE_LOSSES)
    if not names:
        return []
    lo, hi = inp.minmax(y)
    if lo != -1.0 or hi != 1.0 or not bool(((y == -1) | (y == 1)).all()):
        return []
    return [
        Lint(
            code="pm1-labels-for-bce",
            message=f"The targets are {{-1, 1}} labels, but {', '.join(names)} take(s) 0/1 targets; -1 is not a probability.",
            fix="Map the labels with (y + 1) / 2, or use a margin loss (SoftMarginLoss, HingeLoss) that takes {-1, 1}.",
            losses=names,
        )
    ]


def _labels_out_of_range(inp: Inputs, x, y, cands) -> list[Lint]:
    names = [c for c in cands if c.name in INDEX_LOSSES]
    if not names or x.dim() < 1 or y.shape == x.shape or (y.is_floating_point() and not bool((y == y.round()).all())):
        return []
    c = n_classes(x)
    lo, hi = inp.minmax(y)
    if lo >= 0 and hi < c:  # every label in range, ignored ones included: no pass over the labels
        return []
    ignore = {int(cand.params.get("ignore_index", -100)) for cand in names}
    valid = y.reshape(-1).long()
    for ii in ignore:
        valid = valid[valid != ii]
    if valid.numel() == 0:
        return []
    lo, hi = int(valid.min()), int(valid.max())
    if lo >= 0 and hi < c:
        return []
    bad = hi if hi >= c else lo
    hint = " (labels look 1-based)" if lo >= 1 and hi == c else ""
    return [
        Lint(
            code="labels-out-of-range",
            message=f"A class label is {bad}, outside [0, {c - 1}] for {c} predicted classes{hint}; these candidates are skipped.",
            fix="Map labels to 0..C-1 (for 1-based labels: y - 1), or give the model one output per class.",
            losses=_names(names, INDEX_LOSSES),
            severity="error",
        )
    ]


def _class_order(x, y, cands) -> list[Lint]:
    """Prediction columns in another order than the class indices: the model's argmax matches
    the labels far better once its columns are reordered. Typical with text labels, which
    ``evaluate`` indexes in sorted order, scored by a model that numbered them otherwise.

    Reads at most ``SCALE_SAMPLE`` evenly spaced rows; the best reordering is the assignment
    that maximises matches (scipy's ``linear_sum_assignment`` on the C x C table of label
    against argmax)."""
    names = _names(cands, INDEX_LOSSES)
    if not names or x.dim() != 2 or y.dim() != 1 or y.shape[0] != x.shape[0] or y.is_floating_point():
        return []
    n, c = x.shape
    if not 2 <= c <= ORDER_MAX_CLASSES or n < 5 * c:
        return []
    rows = torch.linspace(0, n - 1, min(n, SCALE_SAMPLE), device=x.device).long()
    labels, guess = y[rows].long(), x[rows].argmax(dim=1)
    valid = (labels >= 0) & (labels < c)
    labels, guess = labels[valid], guess[valid]
    if labels.numel() < 5 * c:
        return []
    table = torch.bincount(labels * c + guess, minlength=c * c).reshape(c, c).cpu().numpy()
    from scipy.optimize import linear_sum_assignment

    label_of_column, column = linear_sum_assignment(table, maximize=True)
    total = table.sum()
    as_given = table.trace() / total
    reordered = table[label_of_column, column].sum() / total
    if reordered < ORDER_MATCH or reordered - as_given < ORDER_GAIN:
        return []
    order = [0] * c  # order[label] = the column that predicts it
    for label, col in zip(label_of_column.tolist(), column.tolist(), strict=True):
        order[label] = col
    moved = [f"class {label} in column {col}" for label, col in enumerate(order) if label != col]
    shown = "; ".join(moved[:6]) + (f"; and {len(moved) - 6} more" if len(moved) > 6 else "")
    return [
        Lint(
            code="class-order",
            message=f"The predictions' argmax matches the labels on {as_given:.1%} of rows as the columns stand, "
            f"but on {reordered:.1%} with the columns reordered ({shown}): the columns look out of the class "
            "indices' order. Text labels are indexed in sorted order (the report's classes).",
            fix=f"Reorder the columns to the class indices: predictions[:, {order}] if this reading is right, "
            "or train and predict on the same label encoding.",
            losses=names,
        )
    ]


def _binary_order(inp: Inputs, x, y, cands) -> list[Lint]:
    """One score per row that ranks the rows labelled 0 above those labelled 1: the positive
    class looks swapped. Typical with text labels, indexed in sorted order ('benign' 0,
    'malignant' 1), scored by a model that took the other class as positive; every loss of
    the scores then looks like a bad model's.

    Reads at most ``SWAP_SAMPLE`` evenly spaced rows; the ranking is the ROC AUC, which neither
    a threshold nor the scores' scale (logits, probabilities, margins) moves."""
    names = _names(cands, BINARY_SCORE_LOSSES)
    if not names or x.numel() != y.numel() or x.numel() < 10 or (x.dim() == 2 and x.shape[1] != 1) or x.dim() > 2:
        return []
    lo, hi = inp.minmax(y)
    if hi != 1.0 or lo not in (0.0, -1.0):
        return []
    step = max(1, math.ceil(x.numel() / SWAP_SAMPLE))
    scores = x.reshape(-1)[::step].double().cpu().numpy()
    sampled = y.reshape(-1)[::step]
    labels = (sampled == 1).cpu().numpy()
    if labels.all() or not labels.any() or not bool(((sampled == lo) | (sampled == 1)).all()):
        return []
    from scipy.stats import rankdata

    # ROC AUC as the Mann-Whitney U of the positives' ranks (ties at half), without
    # scikit-learn's input checks, which cost more than the count itself
    positives = int(labels.sum())
    negatives = labels.size - positives
    auc = (float(rankdata(scores)[labels].sum()) - positives * (positives + 1) / 2) / (positives * negatives)
    if auc > SWAPPED_AUC:
        return []
    given = f"{lo:g}"
    mapping = ""
    if inp.classes is not None and len(inp.classes) == 2:
        mapping = f" Text labels are indexed in sorted order: {inp.classes[0]!r} is 0, {inp.classes[1]!r} is 1."
    return [
        Lint(
            code="binary-labels-swapped",
            message=f"The scores rank the rows labelled {given} above those labelled 1 (ROC AUC {auc:.3f}; "
            f"{1.0 - auc:.3f} with the labels swapped): the positive class looks reversed, and every loss here "
            f"reads the model as worse than a coin.{mapping}",
            fix="Score the class the targets call 1 (for probabilities 1 - p, for logits -z), or encode the targets "
            "as the model did (its classes_ order).",
            losses=names,
        )
    ]


def _scale(x, y, cands) -> list[Lint]:
    names = _names(cands, VALUE_LOSSES)
    if not names or x.shape != y.shape or not y.is_floating_point():
        return []
    step = max(1, math.ceil(x.numel() / SCALE_SAMPLE))
    xs, ys = x.reshape(-1)[::step].double(), y.reshape(-1)[::step].double()
    sx, sy = float(xs.std(unbiased=False)), float(ys.std(unbiased=False))
    mx, my = float(xs.mean()), float(ys.mean())
    scale_y = max(sy, abs(my), 1e-12)
    scale_x = max(sx, abs(mx), 1e-12)
    ratio = scale_x / scale_y
    if 1.0 / SCALE_RATIO <= ratio <= SCALE_RATIO or not math.isfinite(ratio):
        return []
    return [
        Lint(
            code="prediction-scale-mismatch",
            message=f"The predictions' scale (mean {mx:.3g}, std {sx:.3g}) is {ratio:.3g}× the targets' (mean {my:.3g}, std {sy:.3g}); "
            "the predictions may still be standardised, or in other units.",
            fix="Undo the target scaling on the predictions (inverse_transform) or scale the targets the same way before the loss.",
            losses=names,
        )
    ]


def _mixed_precision(inp: Inputs, cands) -> list[Lint]:
    floats = {d for d in inp.original_dtypes if d.is_floating_point}
    if len(floats) < 2:
        return []
    kinds = ", ".join(sorted(str(d).replace("torch.", "") for d in floats))
    return [
        Lint(
            code="mixed-precision",
            message=f"The arrays mix floating dtypes ({kinds}); torch.nn losses may reject the mix; here everything is computed in the widest one.",
            fix="Cast predictions and targets to one dtype, usually float32 (targets.to(predictions.dtype)).",
            losses=[c.name for c in cands],
            severity="info",
        )
    ]
