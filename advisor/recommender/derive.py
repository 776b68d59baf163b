"""Hyperparameters derived from the measured profile, each with the sentence that justifies it.

A derivation is a pure function of the profile and the goal returning ``(value, why)`` or
``None`` when the profile lacks what it needs. Values are kept inside the catalog spec's
range by reading that spec (never by a second copy of the bounds), and tensor-valued ones
are plain lists of floats so a recommendation stays JSON. ``derive`` validates every value
through ``ParamSpec.validate`` so an out-of-range derivation fails here, loudly, not later
inside a training loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from advisor import losses
from advisor.losses.spec import ParamSpec
from advisor.schema.profile import DataProfile
from advisor.schema.recommendation import Goal
from advisor.vocabulary import Task

HUBER_K = 1.345  # 95% asymptotic efficiency under Gaussian noise (Huber 1964)
Derived = tuple[Any, str] | None
Derivation = Callable[[DataProfile, Goal | None], Derived]


def _clip(spec: ParamSpec, x: float, margin: float = 1e-6) -> float:
    """Pull a value inside the spec's range; open bounds keep a small margin."""
    lo, hi = spec.low, spec.high
    if lo is not None:
        x = max(x, lo + (margin if spec.low_open else 0.0))
    if hi is not None:
        x = min(x, hi - (margin if spec.high_open else 0.0))
    return float(x)


def _errors(p: DataProfile) -> Any:
    """Whose scale and tails the robust losses adapt to: a quick model's residuals when the
    features gave them (the errors a loss sees), else the targets'."""
    return p.residuals if p.residuals is not None and p.residuals.robust_sigma else p.targets


def _sigma_text(p: DataProfile) -> str:
    t = _errors(p)
    whose = " of the residuals" if t is p.residuals else ""
    if t.robust_sigma_method == "mad":
        return f"1.4826 × MAD{whose} {t.mad:.4g} = {t.robust_sigma:.4g}"
    return f"{t.robust_sigma:.4g}{whose} ({t.robust_sigma_method}-based; the MAD is 0)"


def huber_delta(p: DataProfile, g: Goal | None) -> Derived:
    sigma = _errors(p).robust_sigma
    if not sigma:
        return None
    v = _clip(losses.get("HuberLoss").param("delta"), HUBER_K * sigma)
    return (
        v,
        f"delta = 1.345 × robust sigma ({_sigma_text(p)}) = {v:.4g}: quadratic for typical residuals, linear beyond",
    )


def smoothl1_beta(p: DataProfile, g: Goal | None) -> Derived:
    sigma = _errors(p).robust_sigma
    if not sigma:
        return None
    v = _clip(losses.get("SmoothL1Loss").param("beta"), HUBER_K * sigma)
    return (
        v,
        f"beta = 1.345 × robust sigma ({_sigma_text(p)}) = {v:.4g}, the same switch point as Huber's delta",
    )


def robust_scale(p: DataProfile, g: Goal | None) -> Derived:
    sigma = _errors(p).robust_sigma
    if not sigma:
        return None
    v = _clip(losses.get("AdaptiveRobustLoss").param("scale"), sigma)
    return v, f"scale = robust sigma ({_sigma_text(p)}) = {v:.4g}"


def robust_alpha(p: DataProfile, g: Goal | None) -> Derived:
    errors = _errors(p)
    share = errors.outlier_share_mz or 0.0
    whose = "residuals" if errors is p.residuals else "targets"
    if share >= 0.05:
        return (
            0.0,
            f"alpha = 0 (Cauchy-like) because {100 * share:.1f}% of {whose} are outliers by modified z > 3.5",
        )
    return 1.0, f"alpha = 1 (pseudo-Huber) for {100 * share:.1f}% outliers by modified z > 3.5 among {whose}"


def _binary_counts(p: DataProfile) -> tuple[int, int] | None:
    c = p.classes
    if c is None or c.n_classes != 2:
        return None
    return c.counts[0], c.counts[1]


def pos_weight(p: DataProfile, g: Goal | None) -> Derived:
    bc = _binary_counts(p)
    if bc is not None:
        n_neg, n_pos = bc
        v = n_neg / n_pos
        return [v], f"pos_weight = n_neg / n_pos = {n_neg} / {n_pos} = {v:.4g}"
    m = p.multilabel
    if m is not None:
        n = p.targets.n_used
        w = [(n - k) / k if k > 0 else 1.0 for k in m.positives]
        never = sum(1 for k in m.positives if k == 0)
        extra = f"; {never} label(s) never positive keep weight 1" if never else ""
        return w, (
            f"pos_weight per label = n_neg / n_pos, from {min(w):.3g} to {max(w):.3g} over {m.n_labels} labels{extra}"
        )
    return None


def balanced_weights(p: DataProfile, g: Goal | None) -> Derived:
    c = p.classes
    if c is None:
        return None
    n = sum(c.counts)
    w = [n / (c.n_classes * max(k, 1)) for k in c.counts]
    return (
        w,
        f"weight = n / (C · n_c) ('balanced'), from {min(w):.3g} to {max(w):.3g} over {c.n_classes} classes",
    )


def _imbalance(p: DataProfile) -> float | None:
    if p.classes is not None:
        return p.classes.imbalance_ratio
    if p.multilabel is not None and 0 < p.multilabel.density < 1:
        return (1 - p.multilabel.density) / p.multilabel.density
    return None


def focal_gamma(p: DataProfile, g: Goal | None) -> Derived:
    ir = _imbalance(p)
    if ir is None:
        return None
    v = _clip(
        losses.get("FocalLoss").param("gamma"),
        float(np.clip(1.0 + 0.5 * math.log2(max(ir, 1.0)), 0.5, 5.0)),
    )
    return v, f"gamma = 1 + 0.5·log2(imbalance {ir:.3g}) = {v:.3g} (2 at 4:1, Lin et al.'s default)"


def focal_alpha(p: DataProfile, g: Goal | None) -> Derived:
    bc = _binary_counts(p)
    if bc is not None and p.task.task == Task.BINARY:
        n_neg, n_pos = bc
        v = n_neg / (n_neg + n_pos)
        return (
            v,
            f"alpha = share of negatives = {n_neg} / {n_neg + n_pos} = {v:.3g}: positives weigh as much as negatives are common",
        )
    if p.task.task == Task.MULTILABEL and p.multilabel is not None:
        v = float(np.clip(1.0 - p.multilabel.density, 0.0, 1.0))
        return v, f"alpha = 1 - label density = {v:.3g}"
    c = p.classes
    if c is not None and c.n_classes > 2:
        counts = np.asarray(c.counts, dtype=float)
        present = counts > 0
        inverse = np.zeros_like(counts)
        inverse[present] = counts.sum() / counts[present]
        inverse[~present] = inverse[present].max()  # an absent class has no frequency to invert
        w = inverse / inverse.sum()
        note = "; classes absent from these targets weigh as the rarest present one" if not present.all() else ""
        return [float(x) for x in w], f"alpha per class = inverse frequency, normalised to sum to 1{note}"
    return None


def focal_mode(p: DataProfile, g: Goal | None) -> Derived:
    if p.task.task in (Task.BINARY, Task.MULTILABEL):
        return "binary", "mode = binary: one sigmoid logit per label"
    if p.task.task == Task.MULTICLASS:
        return "multiclass", "mode = multiclass: softmax over the classes"
    return None


def samples_per_class(p: DataProfile, g: Goal | None) -> Derived:
    c = p.classes
    if c is None:
        return None
    return (
        [float(max(k, 1)) for k in c.counts],
        f"samples_per_class = measured counts ({', '.join(map(str, c.counts[:6]))}{', ...' if c.n_classes > 6 else ''})",
    )


def cb_beta(p: DataProfile, g: Goal | None) -> Derived:
    c = p.classes
    if c is None:
        return None
    v = _clip(losses.get("ClassBalancedLoss").param("beta"), c.effective_beta)
    return (
        v,
        f"beta = 1 - 1/n_majority = {v:.5g} (effective numbers {c.effective_numbers[0]:.4g} .. {c.effective_numbers[-1]:.4g})",
    )


def cb_base(p: DataProfile, g: Goal | None) -> Derived:
    c = p.classes
    if c is None:
        return None
    if c.imbalance_ratio >= 20:
        return (
            "focal",
            f"base = focal: imbalance {c.imbalance_ratio:.3g}:1 leaves many easy majority examples",
        )
    if c.n_classes == 2 and p.task.task == Task.BINARY:
        return "bce", "base = bce: one logit per row"
    return "ce", "base = ce: softmax over the classes"


def class_priors(p: DataProfile, g: Goal | None) -> Derived:
    c = p.classes
    if c is None:
        return None
    n = sum(c.counts)
    pri = [max(k, 1) / n for k in c.counts]
    return pri, f"class_priors = measured class shares ({min(pri):.3g} .. {max(pri):.3g})"


def tweedie_power(p: DataProfile, g: Goal | None) -> Derived:
    z = p.targets.share_zeros
    if z is None:
        return None
    v = _clip(losses.get("TweedieLoss").param("power"), float(np.clip(2.0 - z, 1.1, 1.9)))
    kept = "" if 1.1 <= 2.0 - z <= 1.9 else ", kept within [1.1, 1.9] inside the open range (1, 2),"
    return (
        v,
        f"power = 2 - zero share {z:.3f}{kept} = {v:.3g}: towards 1 (Poisson) the more mass sits at 0, towards 2 "
        "(Gamma) the less",
    )


def nb_dispersion(p: DataProfile, g: Goal | None) -> Derived:
    c = p.counts
    if c is None:
        return None
    spec = losses.get("NegativeBinomialNLLLoss").param("dispersion")
    r = p.residuals
    if r is not None and r.nb_alpha is not None:
        v = _clip(spec, max(r.nb_alpha, 1e-3))
        return (
            v,
            f"dispersion = mean of ((y - mu)² - y) / mu² over the out-of-fold means mu of a {r.model} "
            f"on the features = {v:.4g}: the extra variance the features leave",
        )
    v = _clip(spec, max(c.nb_alpha, 1e-3))
    return (
        v,
        f"dispersion = (var - mean) / mean² = ({c.variance:.4g} - {c.mean:.4g}) / {c.mean:.4g}² = {v:.4g}",
    )


def poisson_log_input(p: DataProfile, g: Goal | None) -> Derived:
    pr = p.predictions
    if pr is None:
        return True, "log_input = True: predict log-rates, exp keeps the rate positive"
    if pr.min < 0:
        return True, f"log_input = True: predictions reach {pr.min:.3g} < 0, so they are log-rates"
    return (
        False,
        f"log_input = False: predictions are non-negative ({pr.min:.3g} .. {pr.max:.3g}), so they are rates",
    )


def quantiles(p: DataProfile, g: Goal | None) -> Derived:
    if g is None or not g.quantiles:
        return [0.5], "quantiles = [0.5]: the median"
    return list(g.quantiles), f"quantiles = {g.quantiles} from goal '{g}'"


def kl_reduction(p: DataProfile, g: Goal | None) -> Derived:
    return (
        "batchmean",
        "reduction = batchmean: 'mean' divides by every element and is not the KL divergence",
    )


def label_smoothing(p: DataProfile, g: Goal | None) -> Derived:
    c = p.classes
    if c is None:
        return None
    r = p.residuals
    if r is not None and r.confident_mistake_share is not None:
        share = r.confident_mistake_share
        v = round(min(max(share, 0.05), 0.3), 2)
        return (
            v,
            f"label_smoothing = {v}: the share of confident mistakes ({100 * share:.1f}%) as the "
            f"noise rate, within [0.05, 0.3]",
        )
    v = 0.1
    return (
        v,
        f"label_smoothing = {v} spreads mass over the {c.n_classes} classes so noisy labels cost less",
    )


DERIVATIONS: dict[str, Derivation] = {
    "huber_delta": huber_delta,
    "smoothl1_beta": smoothl1_beta,
    "robust_scale": robust_scale,
    "robust_alpha": robust_alpha,
    "pos_weight": pos_weight,
    "balanced_weights": balanced_weights,
    "focal_gamma": focal_gamma,
    "focal_alpha": focal_alpha,
    "focal_mode": focal_mode,
    "samples_per_class": samples_per_class,
    "cb_beta": cb_beta,
    "cb_base": cb_base,
    "class_priors": class_priors,
    "tweedie_power": tweedie_power,
    "nb_dispersion": nb_dispersion,
    "poisson_log_input": poisson_log_input,
    "quantiles": quantiles,
    "kl_reduction": kl_reduction,
    "label_smoothing": label_smoothing,
}


def derive(loss: str, param: str, how: str, profile: DataProfile, goal: Goal | None) -> Derived:
    """Run one derivation and check the value against the catalog spec of ``loss.param``."""
    out = DERIVATIONS[how](profile, goal)
    if out is None:
        return None
    value, why = out
    losses.get(loss).param(param).validate(value, loss)  # raises ParameterError if a rule is wrong
    return value, why
