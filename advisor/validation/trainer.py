"""The batched training loop: one stacked model, one optimizer, all candidates × folds per step.

Each step reads one mini-batch of rows shared by every model. For model (k, f), the rows of
fold f are held out: they are masked out of its training loss, and the losses already
computed on them in the same forward pass become its held-out curve, so no row is read
twice and no forward pass is spent on validation alone. Stops early on ``budget_s`` (checked
between epochs) or ``cancel`` (between epochs and between steps: an epoch over a million rows
takes seconds, and a cancelled call's work must stop within one) and says so; a cancel within
an epoch leaves that epoch out of the curves and the count of completed epochs.

``members`` trains only some of the candidates while drawing the initial weights and row
orders of all of them, so a subset trained in another process (the Ray backend) produces
the very numbers it would inside the whole stack; ``stop`` lets that process's caller end
every subset at the same epoch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from advisor.cancel import is_set
from advisor.validation.data import Prepared
from advisor.validation.heads import Head
from advisor.validation.probes import StackedProbe

Progress = Callable[[int, int, str], None]
# Called before each epoch with its index; a stop reason ("budget", "cancelled") ends training.
Stop = Callable[[int], str | None]


@dataclass
class Trained:
    outputs: list[torch.Tensor]  # per candidate: (F, n, width) loss inputs on every row
    train_curves: list[list[float]] = field(default_factory=list)
    validation_curves: list[list[float]] = field(default_factory=list)
    # per epoch, the held-out loss's standard deviation over folds (ddof=1; 0 with one fold)
    validation_spreads: list[list[float]] = field(default_factory=list)
    epochs_completed: int = 0
    stop_reason: str = "completed"
    probe: StackedProbe | None = None  # the trained weights, for predicting on new rows


def _stop_reason(
    epoch: int, started: float, budget_s: float | None, cancel: Any, stop: Stop | None
) -> str | None:
    if is_set(cancel):
        return "cancelled"
    if budget_s is not None and time.perf_counter() - started > budget_s:
        return "budget"
    return stop(epoch) if stop is not None else None


def train(
    data: Prepared,
    heads: list[Head],
    params: list[dict[str, Any]],
    *,
    folds: int,
    hidden: int,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    device: torch.device,
    budget_s: float | None,
    cancel: Any,
    progress: Progress | None,
    members: Sequence[int] | None = None,
    stop: Stop | None = None,
) -> Trained:
    """Train ``heads[i]`` with ``params[i]`` for every i in ``members`` (default: all)."""
    generator = torch.Generator().manual_seed(seed)
    width = max(h.width for h in heads)
    probe = StackedProbe(len(heads), folds, data.x.shape[2], width, hidden, generator, members)
    probe = probe.to(device)
    if members is not None:
        heads = [heads[i] for i in members]
        params = [params[i] for i in members]
    k = len(heads)
    optimizer = _adam(probe.parameters(), lr)
    x, y, fold = data.x.to(device), data.y.to(device), data.fold.to(device)
    affines = [_affine(h, data, device) for h in heads]
    fold_ids = torch.arange(folds, device=device).unsqueeze(1)  # (F, 1)
    n = x.shape[1]
    steps = math.ceil(n / batch_size)
    result = Trained(
        outputs=[],
        train_curves=[[] for _ in heads],
        validation_curves=[[] for _ in heads],
        validation_spreads=[[] for _ in heads],
    )
    started = time.perf_counter()

    for epoch in range(epochs):
        reason = _stop_reason(epoch, started, budget_s, cancel, stop)
        if reason is not None:
            result.stop_reason = reason
            break
        order = torch.randperm(n, generator=generator).to(device)
        sums = torch.zeros(k, 2, folds, device=device)  # [train, held-out] loss sums
        counts = torch.zeros(2, folds, device=device)
        for step in range(steps):
            if is_set(cancel):
                result.stop_reason = "cancelled"
                break
            rows = order[step * batch_size : (step + 1) * batch_size]
            # index_select: the same rows as x[rows], without advanced indexing's overhead
            train_mask = (fold.index_select(0, rows).unsqueeze(0) != fold_ids).float()  # (F, B)
            n_train = train_mask.sum(dim=1, keepdim=True)
            # each model's training loss is the mean over its training rows: one weight per row
            weights = train_mask / n_train.clamp(min=1.0)
            targets = _repeat(y.index_select(0, rows), folds)  # shared by every head
            total = 0.0
            seen = []
            for i, raw in enumerate(probe(x.index_select(1, rows))):
                per_row = _per_row(heads[i], raw, affines[i], targets, params[i])  # (F, B)
                total = total + (per_row * weights).sum()
                seen.append(per_row.detach())
            with torch.no_grad():  # the curves: every candidate's sums in a few operations
                stacked = torch.stack(seen)  # (K, F, B)
                trained = (stacked * train_mask).sum(dim=2)
                sums[:, 0] += trained
                sums[:, 1] += stacked.sum(dim=2) - trained
            counts[0] += n_train.squeeze(1)
            counts[1] += rows.numel() - n_train.squeeze(1)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
        if result.stop_reason == "cancelled":
            break
        per_fold = sums / counts.clamp(min=1.0)  # (K, 2, F)
        means = per_fold.mean(dim=2).cpu()  # (K, 2), mean over folds
        spreads = per_fold[:, 1].std(dim=1).cpu() if folds > 1 else torch.zeros(k)
        for i in range(k):
            result.train_curves[i].append(float(means[i, 0]))
            result.validation_curves[i].append(float(means[i, 1]))
            result.validation_spreads[i].append(float(spreads[i]))
        result.epochs_completed = epoch + 1
        if progress is not None:
            progress(epoch + 1, epochs, f"epoch {epoch + 1}/{epochs}")

    with torch.no_grad():
        chunks = [probe(x[:, i : i + 65536]) for i in range(0, n, 65536)]
        result.outputs = [
            _to_loss_inputs(torch.cat([c[i] for c in chunks], dim=1)[..., : h.width], affines[i])
            for i, h in enumerate(heads)
        ]
    result.probe = probe
    return result


def _adam(parameters: Any, lr: float) -> torch.optim.Optimizer:
    """Adam with its fused implementation where torch has one for these parameters.

    The stack has 2K small parameter tensors; the fused kernel updates them in one call each
    instead of a dozen foreach operations per step, which at probe sizes is most of the
    optimizer's cost. The same choice on every backend keeps Ray runs equal to local ones.
    """
    params = list(parameters)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # a device or dtype without the fused kernel
        return torch.optim.Adam(params, lr=lr)


def on_device(params: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """A candidate's resolved params with tensors moved where its probe trains, as float32."""
    return {
        k: v.to(device=device, dtype=torch.float32) if isinstance(v, torch.Tensor) else v
        for k, v in params.items()
    }


def _affine(head: Head, data: Prepared, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    shift, mult = head.affine(data.center, data.scale, data.log_mean)
    return torch.tensor(shift, device=device), torch.tensor(mult, device=device)


def _to_loss_inputs(raw: torch.Tensor, affine: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    shift, mult = affine
    return raw * mult + shift


def _repeat(y: torch.Tensor, folds: int) -> torch.Tensor:
    """Targets once per fold, matching outputs flattened from (F, B, ...) to (F·B, ...)."""
    return y.repeat(folds, *([1] * (y.dim() - 1)))


def _per_row(
    head: Head,
    raw: torch.Tensor,
    affine: tuple[torch.Tensor, torch.Tensor],
    targets: torch.Tensor,
    params: dict[str, Any],
) -> torch.Tensor:
    """(F, B, width) raw outputs -> (F, B) per-row losses, all folds in one call of the loss."""
    f, b, width = raw.shape
    if width != head.width:
        raw = raw[..., : head.width]
    out = _to_loss_inputs(raw, affine).reshape(f * b, head.width)
    return head.per_sample(out, targets, params).reshape(f, b)
