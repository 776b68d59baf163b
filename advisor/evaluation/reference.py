"""The per-candidate path: the catalog's own function, for every loss no kernel expresses.

CTC, triplets with a custom distance, soft-label CE, Dice, ... are evaluated here exactly as
``advisor.losses.compute`` would, one call each; with diagnostics a second call with
reduction='none' under autograd gives the per-sample losses and their gradients.
"""

from __future__ import annotations

from typing import Any

import torch

from advisor.errors import InvalidInputError
from advisor.evaluation.candidates import Candidate
from advisor.evaluation.inputs import TARGET_INPUTS
from advisor.evaluation.runner import Outcome
from advisor.losses import checks
from advisor.vocabulary import Family


def _per_row(s: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Sample weights shaped to broadcast over ``like``'s rows (a row's weight over its entries), in its dtype."""
    return s.reshape((-1, *[1] * (like.dim() - 1)) if like.dim() else ()).to(like.dtype)


def _check_weights(cand: Candidate, none: torch.Tensor, s: torch.Tensor) -> None:
    """One weight per sample of *this* loss: a 1-D input to a loss that reads it as one sample
    (Dice, the multilabel losses) has one loss value, not one per row."""
    samples = 1 if none.dim() == 0 else int(none.shape[0])
    if samples != s.numel():
        raise InvalidInputError(
            f"{cand.name} reads these inputs as {samples} sample(s) but {s.numel()} weights came",
            field="sample_weight",
            expected=samples,
            got=s.numel(),
        )


def sample_magnitudes(grads: list[torch.Tensor], loss_shape: torch.Size, sequence: bool) -> torch.Tensor | None:
    """Per-sample L2 norms of the gradients, summed over each sample's own prediction entries."""
    total = None
    for g in grads:
        g2 = g.detach() * g.detach()
        if sequence and g2.dim() == 3:  # CTC: (T, N, C) -> (N,)
            g2 = g2.sum(dim=(0, 2))
        elif sequence and g2.dim() == 2:
            g2 = g2.sum()
        while g2.dim() > len(loss_shape):
            g2 = g2.sum(1) if g2.dim() > 1 else g2.sum()
        if g2.shape != loss_shape:
            return None
        total = g2 if total is None else total + g2
    return None if total is None else total.sqrt().reshape(-1)


def per_example_leaf(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A leaf for per-sample gradients: a prediction broadcast to ``like`` (one variance for all
    rows, a second vector given once) is expanded first, so that each sample's gradient is
    its own loss's derivative, not the sum over the samples sharing the entry.

    Shapes one dimension short of ``like`` are read as torch's GaussianNLLLoss reads its
    variance, with a trailing dimension of 1. Values are unchanged: the loss would broadcast
    the same entries.
    """
    t = t.detach()
    if t.shape != like.shape and like.dim() > 0:
        if checks.broadcasts_to(t.shape, like.shape):
            t = t.expand(like.shape).contiguous()
        elif t.shape == like.shape[:-1]:
            t = t.unsqueeze(-1).expand(like.shape).contiguous()
    return t.requires_grad_(True)


def run_reference(cand: Candidate, tensors: dict[str, torch.Tensor], params: dict[str, Any], s: torch.Tensor | None, *, diag: bool) -> Outcome:
    spec = cand.spec
    red = cand.reduction
    names = list(tensors)
    preds = [n for n, i in zip(names, spec.inputs, strict=True) if n not in TARGET_INPUTS and i.kind == "real"]
    need_none = diag or s is not None or red == "none"
    value: float | None = None
    values = None
    losses = grads = None
    with torch.no_grad():
        out = spec.fn(*tensors.values(), **params)
        mean = float(out) if red == "mean" else float(spec.fn(*tensors.values(), **{**params, "reduction": "mean"}))
    if red != "none" and s is None:
        value = float(out)
    if need_none:
        leaves = {n: per_example_leaf(tensors[n], tensors[preds[0]]) for n in preds}
        with torch.enable_grad():
            none = spec.fn(*[leaves.get(n, t) for n, t in tensors.items()], **{**params, "reduction": "none"})
            g = []
            if diag and none.requires_grad:
                g = [v for v in torch.autograd.grad(none.sum(), list(leaves.values()), allow_unused=True) if v is not None]
        none = none.detach()
        if s is not None:
            _check_weights(cand, none, s)
            sb = _per_row(s, none).expand_as(none)
            total = (none * sb).sum()
            mean = float(total / sb.sum())
            value = mean if red == "mean" else float(total) if red == "sum" else None
            if red == "none":  # a single sample's loss (0-d) is weighted in the wider of the two dtypes
                none = none * sb if none.dim() else none * s.reshape(())
        if red == "none":
            values = none.reshape(-1).tolist()
        if diag:
            losses = none.reshape(-1)
            grads = sample_magnitudes(g, none.shape, spec.family == Family.SEQUENCES) if g else None
            if grads is not None and s is not None and none.dim() >= 1 and grads.numel() == none.numel():
                grads = (grads.reshape(none.shape) * _per_row(s, none).to(grads.dtype)).reshape(-1)
    return Outcome(value, values, mean, losses, grads, "reference")
