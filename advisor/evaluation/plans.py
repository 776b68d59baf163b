"""Which candidates fuse, and how: a candidate becomes a ``Member`` of a ``Group`` or stays alone.

A group is one kernel over one set of input tensors: every member reads the same predictions
and targets (same tensors, same dtype), so one pass over the rows evaluates them all. What a
member brings is one row of the hyperparameter tensor ``P`` (and class weights / offsets).
Anything the kernels do not express exactly (multi-level quantiles, soft-label CE, per-row
BCE weights, pairs, triplets, CTC, ...) returns None here and runs through the catalog's own
function, so nothing is skipped for lack of a kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from advisor.evaluation.candidates import Candidate
from advisor.losses import checks
from advisor.losses.classification import class_counts, focal_is_binary, n_classes

REGRESSION_NAMES = {
    "L1Loss": "l1",
    "MSELoss": "mse",
    "HuberLoss": "huber",
    "SmoothL1Loss": "smoothl1",
    "LogCoshLoss": "logcosh",
    "QuantileLoss": "quantile",
    "AdaptiveRobustLoss": "adaptive",
    "PoissonNLLLoss": "poisson",
    "TweedieLoss": "tweedie",
    "NegativeBinomialNLLLoss": "negbin",
}
BINARY_NAMES = ("BCEWithLogitsLoss", "SoftMarginLoss", "HingeLoss", "FocalLoss", "BCELoss")
MULTICLASS_NAMES = ("CrossEntropyLoss", "FocalLoss", "LogitAdjustedLoss", "NLLLoss")


@dataclass
class Member:
    """One candidate inside a group."""

    cand: Candidate
    kind: str
    p: tuple[float, float, float]
    w: torch.Tensor | None = None  # binary: (R,) element weight; multiclass: (C,) class weight
    pw: torch.Tensor | None = None  # binary: (R,) pos_weight
    offset: torch.Tensor | None = None  # multiclass: (C,) logit offset


@dataclass
class Group:
    """A kernel and its shared inputs, reshaped the way the kernel reads them.

    ``x``/``y`` have the rows first: regression (N, R) flattened per chunk, binary (N, R),
    multiclass (M, C) with (M,) indices. ``row_elements`` is R (1 for multiclass: one
    sample per row).
    """

    kernel: str
    x: torch.Tensor
    y: torch.Tensor
    row_elements: int
    members: list[Member] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_samples(self) -> int:
        return self.n_rows * self.row_elements


def _rows(t: torch.Tensor) -> torch.Tensor:
    """(N, R) view of an elementwise input; a scalar is one row of one element."""
    if t.dim() == 0:
        return t.reshape(1, 1)
    return t.reshape(t.shape[0], -1)


def _row_free(value: torch.Tensor | None, input: torch.Tensor) -> torch.Tensor | bool | None:
    """An element weight as (R,) when it does not vary by row; False when it does."""
    rest = tuple(input.shape[1:]) if input.dim() else ()
    if value is None:
        return None
    shape = tuple(value.shape)
    if len(shape) < input.dim() or input.dim() == 0:
        return value.expand(rest).reshape(-1) if checks.broadcasts_to(shape, rest) else False
    if shape[0] == 1:
        return value.reshape(shape[1:]).expand(rest).reshape(-1) if checks.broadcasts_to(shape[1:], rest) else False
    return False


def route(cand: Candidate, tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> tuple[str, Member] | None:
    """(kernel name, member) for a fusable candidate, None for the reference path."""
    name = cand.name
    if name in REGRESSION_NAMES:
        return _regression(cand, tensors, params)
    if name in BINARY_NAMES and not (name == "FocalLoss" and not focal_is_binary(tensors["input"], tensors["target"], params["mode"])):
        return _binary(cand, tensors, params)
    if name in MULTICLASS_NAMES:
        return _multiclass(cand, tensors, params)
    return None


def _regression(cand, tensors, params):
    if "var" in tensors:
        return None
    kind = REGRESSION_NAMES[cand.name]
    p: tuple[float, float, float] = (0.0, 0.0, 0.0)
    if kind == "huber":
        p = (params["delta"], 0.0, 0.0)
    elif kind == "smoothl1":
        p = (params["beta"], 0.0, 0.0)
    elif kind == "quantile":
        if len(params["quantiles"]) != 1:
            return None
        p = (params["quantiles"][0], 0.0, 0.0)
    elif kind == "adaptive":
        p = (params["alpha"], params["scale"], 0.0)
    elif kind == "poisson":
        kind = "poisson_log" if params["log_input"] else "poisson_rate"
        p = (1.0 if params["full"] else 0.0, params["eps"], 0.0)
    elif kind == "tweedie":
        p = (params["power"], 0.0, 0.0)
    elif kind == "negbin":
        kind = "negbin_log" if params["log_input"] else "negbin_rate"
        p = (params["dispersion"], params["eps"], 0.0)
    return "regression", Member(cand, kind, p)


def _binary(cand, tensors, params):
    x = tensors["input"]
    name = cand.name
    w = pw = None
    p: tuple[float, float, float] = (0.0, 0.0, 0.0)
    if name in ("BCEWithLogitsLoss", "BCELoss"):
        w = _row_free(params.get("weight"), x)
        pw = _row_free(params.get("pos_weight"), x) if name == "BCEWithLogitsLoss" else None
        if w is False or pw is False:
            return None
        kind = "bce_logits" if name == "BCEWithLogitsLoss" else "bce_probs"
    elif name == "SoftMarginLoss":
        kind = "soft_margin"
    elif name == "HingeLoss":
        kind, p = "hinge", (params["margin"], 0.0, 0.0)
    else:
        alpha = params["alpha"]
        a = 0.0 if alpha is None else float(alpha.reshape(-1)[0])
        kind, p = "focal", (params["gamma"], a, 0.0 if alpha is None else 1.0)
    return "binary", Member(cand, kind, p, w=w, pw=pw)


def _multiclass(cand, tensors, params):
    x, t = tensors["input"], tensors["target"]
    if t.is_floating_point() or x.dim() == 0:  # probability targets: the catalog function
        return None
    name = cand.name
    ii = float(params.get("ignore_index", -100))
    if name == "CrossEntropyLoss":
        m = Member(cand, "ce", (params["label_smoothing"], 0.0, ii), w=params["weight"])
    elif name == "NLLLoss":
        m = Member(cand, "nll", (0.0, 0.0, ii), w=params["weight"])
    elif name == "FocalLoss":
        m = Member(cand, "focal", (0.0, params["gamma"], ii), w=params["alpha"])
    else:  # LogitAdjustedLoss
        m = Member(cand, "logit_adjusted", (0.0, 0.0, ii), offset=_logit_offset(x, t, params, ii))
    return ("log_probs" if name == "NLLLoss" else "multiclass"), m


def _logit_offset(x: torch.Tensor, t: torch.Tensor, params: dict[str, Any], ii: float) -> torch.Tensor:
    priors = params["class_priors"]
    if priors is None:
        priors = class_counts(t, n_classes(x), int(ii)).clamp(min=1).to(x.dtype)
    priors = priors.to(device=x.device, dtype=x.dtype)
    return params["tau"] * torch.log(priors / priors.sum())


def add(groups: dict[tuple[Any, ...], Group], kernel: str, member: Member, tensors: dict[str, torch.Tensor]) -> None:
    """File a routed candidate in the group of its kernel and input tensors, made on first use."""
    key = (kernel, id(tensors["input"]), id(tensors["target"]))
    if key not in groups:
        groups[key] = Group(kernel, *group_inputs(kernel, tensors))
    groups[key].members.append(member)


def group_inputs(kernel: str, tensors: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The kernel's view of the inputs: rows first, as described on ``Group``."""
    x, y = tensors["input"], tensors["target"]
    if kernel in ("regression", "binary"):
        xr = _rows(x)
        return xr, _rows(y.to(x.dtype)), int(xr.shape[1])
    return class_last(x), y.reshape(-1), 1


def class_last(x: torch.Tensor) -> torch.Tensor:
    """(rows, C) class scores with the classes (torch's dim 1) last: one row per sample, a 0- or
    1-D input one row, a 2-D one itself (no copy of a strided layout)."""
    if x.dim() <= 1:
        return x.reshape(1, -1)
    return x if x.dim() == 2 else x.movedim(1, -1).reshape(-1, x.shape[1])
