"""Trivial baselines for the skill score: the best constant prediction the loss implies.

skill = 1 - loss / baseline_loss, both under reduction='mean'. The constant comes from the
targets: their median for absolute-error-like losses, their mean for squared error, the q-th
quantile for the pinball loss, log of the mean for log-link count losses, the class prior for
classification. Baselines are estimated on at most ``SUBSAMPLE`` evenly spaced rows: they are a
yardstick, and a full extra pass per candidate would double the cost of diagnostics. The loss
of the constant is evaluated on at most ``SUBSAMPLE_ELEMENTS`` prediction entries of those rows,
so that wide rows (a thousand classes) cost what narrow ones do in time and memory. Class-index
targets need neither: the class prior is counted on every target, and where the candidate
fuses, its loss at the prior over every row comes from one row per target value
(``class_rows``).

The ``memo`` these functions take is one request's (``evaluate`` makes it per call and drops it
on return), keyed by that request's tensors: nothing here is kept across calls.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from advisor.evaluation.diagnostics import lower_quantiles
from advisor.losses.classification import class_counts, focal_is_binary, target_counts
from advisor.losses.spec import LossSpec

SUBSAMPLE = 65536
SUBSAMPLE_ELEMENTS = 1 << 21

MEDIAN = {"L1Loss", "HuberLoss", "SmoothL1Loss", "LogCoshLoss", "AdaptiveRobustLoss"}
LOG_MEAN = {"PoissonNLLLoss", "TweedieLoss", "NegativeBinomialNLLLoss"}
CLASS_PRIOR = {"CrossEntropyLoss", "NLLLoss", "LogitAdjustedLoss", "MultiMarginLoss"}
POSITIVE_RATE = {"BCEWithLogitsLoss", "BCELoss", "MultiLabelSoftMarginLoss", "SoftMarginLoss"}


def _subsample(tensors: dict[str, torch.Tensor], rows: int = SUBSAMPLE) -> dict[str, torch.Tensor]:
    first = next(iter(tensors.values()))
    n = first.shape[0] if first.dim() else 1
    step = max(1, math.ceil(n / rows))
    if step == 1:
        return dict(tensors)
    return {k: (t[::step] if t.dim() and t.shape[0] == n else t) for k, t in tensors.items()}


def _baseline_rows(tensors: dict[str, torch.Tensor], memo: dict | None) -> dict[str, torch.Tensor]:
    """``_subsample`` of a request's inputs, once per memo: the predictions stay a strided view
    (the baselines replace them with a constant and read only their shape), every other input
    is copied contiguous, so that the kernel of each baseline reads its few thousand rows
    packed rather than one in every ``step`` of the whole array."""

    def make() -> dict[str, torch.Tensor]:
        return {k: t if k == "input" else t.contiguous() for k, t in _subsample(tensors).items()}

    return _once(memo, ("rows", *_ident(tensors), tuple(tensors)), make)


def _float_targets(tensors: dict[str, torch.Tensor]) -> torch.Tensor:
    """The targets in the predictions' float dtype (float32 beside integer predictions)."""
    x, y = tensors["input"], tensors["target"]
    return y.to(x.dtype) if x.is_floating_point() else y.float()


def _logit(p: torch.Tensor) -> torch.Tensor:
    eps = torch.finfo(p.dtype).eps
    p = p.clamp(eps, 1 - eps)
    return torch.log(p) - torch.log1p(-p)


def _class_dim(x: torch.Tensor) -> int:
    return 1 if x.dim() >= 2 else 0


def _index_counts(tensors: dict[str, torch.Tensor], ignore_index: int | None, memo: dict | None) -> torch.Tensor | None:
    """``target_counts`` of a request's class-index targets (None for probability targets), once per memo."""
    x, y = tensors["input"], tensors["target"]
    if y.is_floating_point() or x.dim() == 0:
        return None
    c = x.shape[_class_dim(x)]
    return _once(memo, ("counts", *_ident(tensors), ignore_index), lambda: target_counts(y, c, ignore_index))


def _class_prior(x: torch.Tensor, y: torch.Tensor, ignore_index: int | None, counts: torch.Tensor | None = None) -> torch.Tensor:
    """Smoothed class frequencies shaped to broadcast over the class dimension of ``x``.

    ``counts``: ``target_counts`` of every target, where the targets are class indices; else
    they are counted here, on ``y`` (probability targets are summed).
    """
    c = x.shape[_class_dim(x)]
    if counts is not None:
        counts = class_counts(None, c, ignore_index, counted=counts).to(x.dtype)
    elif y.is_floating_point() and y.shape == x.shape:  # probability targets
        dims = [d for d in range(y.dim()) if d != _class_dim(y)]
        counts = y.sum(dim=dims) if dims else y
    else:
        valid = y if ignore_index is None else y[y != ignore_index]
        counts = torch.bincount(valid.reshape(-1), minlength=c)[:c].to(x.dtype)
    prior = (counts + 0.5) / (counts.sum() + 0.5 * c)
    shape = [1] * x.dim()
    shape[_class_dim(x)] = c
    return prior.reshape(shape).to(x.dtype)


def _ident(tensors: dict[str, torch.Tensor]) -> tuple[int, int]:
    """The memo's key for one request's predictions and targets."""
    return id(tensors["input"]), id(tensors["target"])


def _once(memo: dict | None, key: tuple[Any, ...], make: Any) -> Any:
    """``make()``, remembered in ``memo`` (one request's) under ``key``."""
    if memo is None:
        return make()
    if key not in memo:
        memo[key] = make()
    return memo[key]


def target_levels(spec: LossSpec, params: dict[str, Any]) -> list[float]:
    """The target quantiles a candidate's baseline constant is (the median is the level 0.5)."""
    if spec.name in MEDIAN:
        return [0.5]
    if spec.name == "QuantileLoss":
        return [float(q) for q in params["quantiles"]]
    return []


def _quantiles(tensors: dict[str, torch.Tensor], qs: list[float], memo: dict | None) -> list[float]:
    """Target quantiles at ``qs`` on the baseline's subsample, those not yet in ``memo`` from one selection."""
    ident = _ident(tensors)
    known = {} if memo is None else {q: memo[key] for q in qs if (key := ("quantile", *ident, q)) in memo}
    missing = sorted({q for q in qs if q not in known})
    if missing:
        yf = _float_targets(_baseline_rows(tensors, memo))
        known.update(zip(missing, lower_quantiles(yf.reshape(-1), missing), strict=True))
        if memo is not None:
            memo.update((("quantile", *ident, q), known[q]) for q in missing)
    return [known[q] for q in qs]


def prime(requests: list[tuple[LossSpec, dict[str, torch.Tensor], dict[str, Any]]], memo: dict) -> None:
    """Select the target quantiles that several candidates' baselines need together, once per target.

    Each level apart costs a sample sort and a partition of the subsample; a request of the
    regression family needs three (the median and two pinball levels).
    """
    wanted: dict[tuple[int, int], tuple[dict[str, torch.Tensor], list[float]]] = {}
    for spec, tensors, params in requests:
        if "input" not in tensors or "target" not in tensors:
            continue
        levels = target_levels(spec, params)
        if levels:
            wanted.setdefault(_ident(tensors), (tensors, []))[1].extend(levels)
    for tensors, levels in wanted.values():
        _quantiles(tensors, levels, memo)


def baseline_inputs(
    spec: LossSpec, tensors: dict[str, torch.Tensor], params: dict[str, Any], memo: dict | None = None
) -> tuple[str, dict[str, torch.Tensor]] | None:
    """(description, inputs with the constant prediction) or None where no trivial baseline is defined.

    ``memo`` shares the constants (target median, quantiles, class prior) between candidates
    of one request that read the same targets.
    """
    name = spec.name
    if "input" not in tensors or "target" not in tensors:
        return None  # pairs, triplets, CTC: no single constant prediction makes sense
    ident = _ident(tensors)
    sub = _baseline_rows(tensors, memo)
    x, y, yf = sub["input"], sub["target"], _float_targets(sub)
    if name in MEDIAN or name == "MSELoss":
        if name == "MSELoss":
            c, what = yf.mean(), "target mean"
        else:
            (median,) = _quantiles(tensors, [0.5], memo)
            c, what = torch.tensor(median, dtype=x.dtype, device=x.device), "target median"
        return f"{what} {float(c):.6g}", {**sub, "input": c.expand_as(x)}
    if name == "QuantileLoss":
        qs = params["quantiles"]
        levels = _quantiles(tensors, [float(q) for q in qs], memo)
        c = torch.tensor(levels if len(qs) > 1 else levels[0], dtype=x.dtype, device=x.device)
        return "target quantile(s) " + ", ".join(f"{v:.6g}" for v in levels), {**sub, "input": c.expand_as(x)}
    if name == "GaussianNLLLoss":
        var = yf.var(unbiased=False).clamp(min=params["eps"])
        return "target mean and variance", {**sub, "input": yf.mean().expand_as(x), "var": var.expand_as(sub["var"])}
    if name in LOG_MEAN:
        m = yf.mean().clamp(min=torch.finfo(x.dtype).tiny)
        c = torch.log(m) if params.get("log_input", True) else m
        return f"target mean {float(m):.6g}", {**sub, "input": c.expand_as(x)}
    binary_form = x.shape == y.shape
    if name in ("FocalLoss", "ClassBalancedLoss", "DiceLoss"):
        if name == "FocalLoss":
            binary_form = focal_is_binary(x, y, params["mode"])
        elif name == "DiceLoss":
            binary_form = params["mode"] == "multilabel"
        else:
            binary_form = params["base"] == "bce" or (params["base"] == "focal" and x.shape == y.shape)
    if name in CLASS_PRIOR or (name in ("FocalLoss", "ClassBalancedLoss", "DiceLoss") and not binary_form):
        ii = params.get("ignore_index")
        prior = _once(memo, ("prior", *ident, ii), lambda: _class_prior(x, y, ii, _index_counts(tensors, ii, memo)))
        c = prior if (name == "DiceLoss" and not params["from_logits"]) else torch.log(prior)
        return "class prior", {**sub, "input": c.expand_as(x)}
    if name in POSITIVE_RATE or name in ("FocalLoss", "ClassBalancedLoss", "DiceLoss"):
        pos = (yf + 1.0) / 2.0 if name == "SoftMarginLoss" else yf
        rate = pos.mean(dim=0, keepdim=True) if pos.dim() else pos
        probs = name == "BCELoss" or (name == "DiceLoss" and not params["from_logits"])
        eps = torch.finfo(x.dtype).eps
        c = rate.clamp(eps, 1 - eps) if probs else _logit(rate)
        return "positive rate per label", {**sub, "input": c.expand_as(x)}
    if name == "HingeLoss":
        majority = 1.0 if float((yf > 0).float().mean()) >= 0.5 else -1.0
        return "majority class score", {**sub, "input": torch.full_like(x, majority)}
    if name == "KLDivLoss":
        probs = yf.exp() if params["log_target"] else yf
        mean = probs.mean(dim=0, keepdim=True) if probs.dim() >= 2 else probs
        return "mean target distribution", {**sub, "input": torch.log(mean.clamp(min=torch.finfo(x.dtype).tiny)).expand_as(x)}
    return None


def class_rows(
    spec: LossSpec, tensors: dict[str, torch.Tensor], params: dict[str, Any], memo: dict | None = None
) -> tuple[str, dict[str, torch.Tensor], torch.Tensor] | None:
    """The class-prior baseline over every row, as one row per target value with its count.

    At a constant prediction a row's loss depends on its target alone, so each target value
    present, as one row of the constant, weighted by how many targets hold it, gives the mean
    over all rows exactly (ignored targets included, as rows the loss ignores). That is at
    most C + 1 rows where the subsample reads 65,536: at C = 32 a few dozen. (description,
    the rows' inputs, their counts as sample weights), or None where the baseline is not the
    class prior of index targets, or where C + 1 rows of C would read more than
    ``SUBSAMPLE_ELEMENTS`` (wide rows keep the subsample, whose cost is bounded).
    """
    made = baseline_inputs(spec, tensors, params, memo)
    if made is None or made[0] != "class prior":
        return None
    ii = params.get("ignore_index")
    counts = _index_counts(tensors, ii, memo)
    x = tensors["input"]
    if counts is None:
        return None
    c = x.shape[_class_dim(x)]
    present = torch.nonzero(counts).reshape(-1)
    if present.numel() * c > SUBSAMPLE_ELEMENTS:
        return None
    at = [0] * x.dim()
    at[_class_dim(x)] = slice(None)
    rows = made[1]["input"][tuple(at)].expand(present.numel(), c).contiguous()  # the constant, a view of one class vector
    targets = torch.where(present == c, ii if ii is not None else c, present).to(tensors["target"].dtype)
    return made[0], {"input": rows, "target": targets}, counts[present].to(x.dtype)


def evaluation_inputs(
    spec: LossSpec, tensors: dict[str, torch.Tensor], params: dict[str, Any], memo: dict | None = None
) -> tuple[str, dict[str, torch.Tensor]] | None:
    """``baseline_inputs`` cut to the rows the baseline's loss is evaluated on.

    Wide rows (a thousand classes) are subsampled further, so that the evaluation reads a
    bounded number of entries. The engine evaluates these inputs through the fused kernels
    where the candidate fuses, and ``baseline`` through the catalog otherwise.
    """
    made = baseline_inputs(spec, tensors, params, memo)
    if made is None:
        return None
    what, inputs = made
    x = inputs["input"]
    if x.dim() >= 2:
        inputs = _subsample(inputs, max(1, SUBSAMPLE_ELEMENTS // x[0].numel()))
    return what, inputs


def baseline(spec: LossSpec, tensors: dict[str, torch.Tensor], params: dict[str, Any], memo: dict | None = None) -> tuple[str, float] | None:
    """(description, the baseline's loss under reduction='mean'); None when undefined or failing."""
    made = evaluation_inputs(spec, tensors, params, memo)
    if made is None:
        return None
    what, inputs = made
    try:
        with torch.no_grad():
            value = spec.fn(*[inputs[n] for n in tensors], **{**params, "reduction": "mean"})
    except (RuntimeError, ValueError, IndexError):
        return None
    return what, float(value)


def scored(base: tuple[str, float] | None, mean_loss: float) -> dict[str, Any]:
    """The ``Diagnostics`` fields of a baseline (description, loss): those two and the skill against it."""
    if base is None:
        return {}
    what, value = base
    return {"baseline": what, "baseline_value": value, "skill": skill(mean_loss, value)}


def skill(mean_loss: float, baseline_loss: float) -> float | None:
    if not (math.isfinite(mean_loss) and math.isfinite(baseline_loss)) or baseline_loss == 0:
        return None
    return 1.0 - mean_loss / baseline_loss

