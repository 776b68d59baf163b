"""Sequence losses over unaligned targets."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from advisor.errors import LabelOutOfRangeError, ShapeMismatchError
from advisor.losses import checks
from advisor.losses.registry import register
from advisor.losses.spec import InputSpec, LossSpec, ParamSpec, reduction_param
from advisor.vocabulary import Family, Task


def check_ctc(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    log_probs, targets = tensors["log_probs"], tensors["targets"]
    input_lengths, target_lengths = tensors["input_lengths"], tensors["target_lengths"]
    checks.require_ndim(
        log_probs, (2, 3), "log_probs", "(T, N, C) or unbatched (T, C) log-probabilities"
    )
    t_max, c = log_probs.shape[0], log_probs.shape[-1]
    n = log_probs.shape[1] if log_probs.dim() == 3 else 1
    for name, lengths in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        if lengths.numel() != n:
            raise ShapeMismatchError(
                f"has {lengths.numel()} entries; expected one per sequence ({n})",
                field=name,
                expected=n,
                got=lengths.numel(),
            )
    checks.require_interval(
        input_lengths, 1, t_max, "input_lengths", f" (log_probs has T={t_max} steps)"
    )
    blank = params["blank"]
    if not 0 <= blank < c:
        raise LabelOutOfRangeError(
            f"must lie in [0, {c - 1}]", field="params.blank", expected=f"[0, {c - 1}]", got=blank
        )
    lengths = target_lengths.reshape(-1)
    if targets.dim() == 2 and log_probs.dim() == 3:
        checks.require_interval(
            target_lengths, 0, targets.shape[1], "target_lengths", " (padded targets are that wide)"
        )
        positions = torch.arange(targets.shape[1], device=targets.device)
        used = targets[positions.unsqueeze(0) < lengths.unsqueeze(1)]
    else:
        if targets.dim() != 1:
            raise ShapeMismatchError(
                "expected (N, S) padded targets or 1-D concatenated targets",
                field="targets",
                got=tuple(targets.shape),
            )
        total = int(lengths.sum())
        if total > targets.numel():
            raise ShapeMismatchError(
                f"has {targets.numel()} labels but target_lengths sum to {total}",
                field="targets",
                expected=total,
                got=targets.numel(),
            )
        checks.require_interval(target_lengths, 0, None, "target_lengths")
        used = targets[:total]
    checks.require_labels_in_range(used, c, "targets")
    if bool((used == blank).any()):
        raise LabelOutOfRangeError(
            f"contains the blank index {blank}; blank is reserved for 'no label'",
            field="targets",
            expected=f"!= {blank}",
            got=blank,
        )


register(
    LossSpec(
        name="CTCLoss",
        families=(Family.SEQUENCES,),
        tasks=(Task.SEQUENCE,),
        inputs=(
            InputSpec("log_probs", allow_inf=True, doc="(T, N, C) log_softmax outputs"),
            InputSpec("targets", kind="index", doc="(N, S) padded or concatenated labels"),
            InputSpec("input_lengths", kind="length"),
            InputSpec("target_lengths", kind="length"),
        ),
        params=(
            reduction_param(),
            ParamSpec("blank", "int", 0, low=0, doc="index of the blank label"),
            ParamSpec(
                "zero_infinity",
                "bool",
                False,
                doc="zero the loss of impossible alignments instead of inf",
            ),
        ),
        reference="torch.nn.CTCLoss",
        torch_class="CTCLoss",
        fn=lambda log_probs, targets, input_lengths, target_lengths, reduction, blank, zero_infinity: (
            F.ctc_loss(
                log_probs,
                targets,
                input_lengths,
                target_lengths,
                blank=blank,
                reduction=reduction,
                zero_infinity=zero_infinity,
            )
        ),
        check=check_ctc,
        summary="Connectionist temporal classification: sums over all alignments of an unsegmented label sequence.",
    )
)
