"""A search space around a recommendation: which hyperparameters to tune, over which range.

Kept free of Optuna so the ranges can be read, printed and tested without it. Each tuned
hyperparameter is a :class:`Dimension` whose range is centred on the value the recommender
derived from the data and clipped to the catalog's valid range (read from the loss's
``ParamSpec``, never from a second copy of the bounds). Why centred, not the whole valid
range: the valid ranges are mostly unbounded (Huber's delta is any positive number), and the
derived value already carries the data's scale; a search around it spends its trials where
the loss's behaviour changes for this data.

How far either side, per hyperparameter (``POLICIES``):

- scale-like values (Huber's delta, SmoothL1's beta, the robust loss's scale, margins,
  dispersion, Dice's smoothing) vary on a log scale, a factor of ``10`` either side. They
  matter relative to the residual scale, so a decade below makes Huber nearly L1 over the
  typical residuals and a decade above makes it nearly MSE: the whole behaviour in between.
- shape values with a natural unit vary linearly: focal gamma ± 2 (gamma 0 is cross-entropy,
  Lin et al. found 0.5 to 5 useful), Tweedie power ± 0.3 within (1, 2), logit-adjustment tau
  ± 1, label smoothing ± 0.1, the robust loss's alpha ± 2, a binary focal alpha ± 0.25.
- class-balanced beta lives just below 1 (0.999 for 1000 majority rows), so ``1 - beta``
  varies on a log scale, a factor of 10 either side: effective numbers from "almost raw
  counts" to "almost uniform".
- per-class or per-label weight vectors (class weights, ``pos_weight``, a multiclass focal
  alpha) are tempered, ``w ** t`` with ``t`` in [0, 2]: t = 0 switches the weighting off,
  t = 1 is the derived weights, t = 2 squares them. One knob per vector, because a weight
  per class would be as many dimensions as classes.

Everything else (reductions, ignore indices, input conventions, eps, quantiles, which are a
goal and not a hyperparameter) stays at its recommended value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from advisor import losses
from advisor.losses.spec import ParamSpec

MARGIN = 1e-6  # kept from an open bound, as the recommender's own clipping does

Scale = Literal["log", "linear", "log_complement", "temper", "choice"]


@dataclass(frozen=True)
class Policy:
    scale: Scale
    width: float = 0.0  # a factor for log scales, a half-width for linear ones
    # Tighter than the catalog's range where the catalog admits values that mean nothing
    # here (a binary focal alpha is a share, though the spec only asks for >= 0).
    bounds: tuple[float, float] | None = None


LOG10 = Policy("log", 10.0)
POLICIES: dict[tuple[str, str], Policy] = {
    ("HuberLoss", "delta"): LOG10,
    ("SmoothL1Loss", "beta"): LOG10,
    ("AdaptiveRobustLoss", "scale"): LOG10,
    ("AdaptiveRobustLoss", "alpha"): Policy("linear", 2.0),
    ("TweedieLoss", "power"): Policy("linear", 0.3),
    ("NegativeBinomialNLLLoss", "dispersion"): LOG10,
    ("FocalLoss", "gamma"): Policy("linear", 2.0),
    ("FocalLoss", "alpha"): Policy("linear", 0.25, bounds=(0.0, 1.0)),
    ("ClassBalancedLoss", "gamma"): Policy("linear", 2.0),
    ("ClassBalancedLoss", "beta"): Policy("log_complement", 10.0),
    ("LogitAdjustedLoss", "tau"): Policy("linear", 1.0),
    ("CrossEntropyLoss", "label_smoothing"): Policy("linear", 0.1),
    ("CrossEntropyLoss", "weight"): Policy("temper"),
    ("NLLLoss", "weight"): Policy("temper"),
    ("BCEWithLogitsLoss", "pos_weight"): Policy("temper"),
    ("MultiLabelSoftMarginLoss", "weight"): Policy("temper"),
    ("MultiMarginLoss", "weight"): Policy("temper"),
    ("MultiMarginLoss", "margin"): LOG10,
    ("MultiMarginLoss", "p"): Policy("choice"),
    ("HingeLoss", "margin"): LOG10,
    ("HingeEmbeddingLoss", "margin"): LOG10,
    ("TripletMarginLoss", "margin"): LOG10,
    ("DiceLoss", "smooth"): LOG10,
}
TEMPER = (0.0, 2.0)


@dataclass(frozen=True)
class Dimension:
    """One tuned hyperparameter of one loss, in the units the search samples.

    ``name`` is ``"<loss>.<param>"`` so that two losses never share a dimension. ``centre``
    is where the recommendation sits in those units (the value to enqueue as a first trial).
    """

    name: str
    loss: str
    param: str
    scale: Scale
    low: float = 0.0
    high: float = 0.0
    centre: Any = None
    choices: tuple[Any, ...] = ()

    @property
    def log(self) -> bool:
        return self.scale in ("log", "log_complement")

    def value(self, sampled: Any, recommended: Any) -> Any:
        """The hyperparameter's value for a sampled point of this dimension."""
        if self.scale == "log_complement":
            return 1.0 - sampled
        if self.scale == "temper":
            return [float(w) ** sampled for w in recommended]
        return sampled


def dimensions(loss: str, params: dict[str, Any]) -> list[Dimension]:
    """The tuned dimensions of ``loss`` configured with ``params`` (missing ones: defaults)."""
    spec = losses.get(loss)
    out = []
    for p in spec.params:
        policy = POLICIES.get((loss, p.name))
        if policy is None:
            continue
        value = params.get(p.name, p.default)
        dim = _dimension(loss, p, policy, value)
        if dim is not None:
            out.append(dim)
    return out


def _dimension(loss: str, spec: ParamSpec, policy: Policy, value: Any) -> Dimension | None:
    name = f"{loss}.{spec.name}"
    if policy.scale == "choice":
        return Dimension(name, loss, spec.name, "choice", centre=value, choices=spec.choices)
    if policy.scale == "temper":
        if not _positive_list(value):
            return None  # nothing derived to temper (unset, or a single scalar)
        return Dimension(name, loss, spec.name, "temper", *TEMPER, centre=1.0)
    if policy.scale in ("linear", "log") and _positive_list(value) and len(value) > 1:
        # A per-class vector where the catalog also takes a scalar (multiclass focal alpha).
        return Dimension(name, loss, spec.name, "temper", *TEMPER, centre=1.0)
    number = _number(value)
    if number is None:
        return None
    if policy.scale == "log_complement":
        rest = 1.0 - number  # 1 - beta: bounds swap, beta's open high becomes rest's open low
        lo, hi = _clip_complement(spec, rest / policy.width, rest * policy.width)
        return _bounded(name, loss, spec.name, "log_complement", lo, hi, rest)
    if policy.scale == "log":
        if number <= 0:
            return None  # a log range needs a positive centre
        lo, hi = _clip(spec, number / policy.width, number * policy.width)
        return _bounded(name, loss, spec.name, "log", lo, hi, number)
    lo, hi = _clip(spec, number - policy.width, number + policy.width)
    if policy.bounds is not None:
        lo, hi = max(lo, policy.bounds[0]), min(hi, policy.bounds[1])
    return _bounded(name, loss, spec.name, "linear", lo, hi, number)


def _bounded(
    name: str, loss: str, param: str, scale: Scale, lo: float, hi: float, centre: float
) -> Dimension | None:
    if not lo < hi:
        return None  # clipped to a point: nothing to search
    if scale in ("log", "log_complement") and lo <= 0:
        return None
    return Dimension(name, loss, param, scale, lo, hi, min(max(centre, lo), hi))


def _clip(spec: ParamSpec, lo: float, hi: float) -> tuple[float, float]:
    if spec.low is not None and math.isfinite(spec.low):
        bound = spec.low + (MARGIN if spec.low_open else 0.0)
        lo, hi = max(lo, bound), max(hi, bound)
    if spec.high is not None and math.isfinite(spec.high):
        bound = spec.high - (MARGIN if spec.high_open else 0.0)
        lo, hi = min(lo, bound), min(hi, bound)
    return lo, hi


def _clip_complement(spec: ParamSpec, lo: float, hi: float) -> tuple[float, float]:
    """Clip ``1 - x`` so that ``x`` stays in the spec's range."""
    x_lo, x_hi = _clip(spec, 1.0 - hi, 1.0 - lo)
    return 1.0 - x_hi, 1.0 - x_lo


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], (int, float)):
        return float(value[0])  # a one-element tensor param, e.g. a binary focal alpha
    return None


def _positive_list(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(isinstance(v, (int, float)) and v > 0 for v in value)
    )
