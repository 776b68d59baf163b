"""Pairwise and triplet losses: ranking, similarity learning and embeddings."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from advisor.errors import ShapeMismatchError
from advisor.losses import checks
from advisor.losses.registry import register
from advisor.losses.spec import InputSpec, LossSpec, ParamSpec, reduction_param
from advisor.vocabulary import Family, Task

PM1_HINT = "; this loss takes labels in {-1, 1} (1: similar / first ranks higher)"


def check_hinge_embedding(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    checks.require_same_shape(tensors["input"], tensors["target"], "input", "target")
    checks.require_values_in(tensors["target"], (-1.0, 1.0), "target", PM1_HINT)


register(
    LossSpec(
        name="HingeEmbeddingLoss",
        families=(Family.PAIRS,),
        tasks=(Task.EMBEDDING, Task.BINARY),
        inputs=(
            InputSpec("input", doc="distances (for example L1 between two embeddings)"),
            InputSpec("target", doc="{-1, 1}"),
        ),
        params=(
            reduction_param(),
            ParamSpec(
                "margin", "float", 1.0, doc="dissimilar pairs are pushed beyond this distance"
            ),
        ),
        reference="torch.nn.HingeEmbeddingLoss",
        torch_class="HingeEmbeddingLoss",
        fn=lambda input, target, reduction, margin: F.hinge_embedding_loss(
            input, target, margin=margin, reduction=reduction
        ),
        check=check_hinge_embedding,
        summary="On distances: pulls similar pairs (y=1) together, pushes dissimilar ones (y=-1) past the margin.",
    )
)


def check_margin_ranking(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    x1, x2, y = tensors["input1"], tensors["input2"], tensors["target"]
    checks.require_same_shape(x1, x2, "input1", "input2")
    checks.require_same_shape(x1, y, "input1", "target")
    # 0 is a tie: it costs the margin and pushes neither way (torch's own tests use it).
    checks.require_values_in(y, (-1.0, 0.0, 1.0), "target", PM1_HINT + " (0 for a tie)")


register(
    LossSpec(
        name="MarginRankingLoss",
        families=(Family.PAIRS,),
        tasks=(Task.RANKING,),
        inputs=(
            InputSpec("input1", doc="score of the first item"),
            InputSpec("input2", doc="score of the second item"),
            InputSpec("target", doc="1 if the first should rank higher, -1 otherwise"),
        ),
        params=(reduction_param(), ParamSpec("margin", "float", 0.0, doc="required score gap")),
        reference="torch.nn.MarginRankingLoss",
        torch_class="MarginRankingLoss",
        fn=lambda input1, input2, target, reduction, margin: F.margin_ranking_loss(
            input1, input2, target, margin=margin, reduction=reduction
        ),
        check=check_margin_ranking,
        summary="Pairwise ranking hinge max(0, -y·(x1 - x2) + margin): learns order, not values.",
    )
)


def check_cosine_embedding(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    x1, x2, y = tensors["input1"], tensors["input2"], tensors["target"]
    checks.require_ndim(x1, (1, 2), "input1", "embeddings of shape (D,) or (N, D)")
    checks.require_same_shape(x1, x2, "input1", "input2")
    expected = x1.shape[:1] if x1.dim() == 2 else torch.Size([])
    if y.shape != expected:
        raise ShapeMismatchError(
            f"shape {tuple(y.shape)} does not fit embeddings of shape {tuple(x1.shape)}; expected {tuple(expected)}",
            field="target",
            expected=tuple(expected),
            got=tuple(y.shape),
        )
    checks.require_values_in(y, (-1.0, 1.0), "target", PM1_HINT)


register(
    LossSpec(
        name="CosineEmbeddingLoss",
        families=(Family.PAIRS,),
        tasks=(Task.EMBEDDING,),
        inputs=(
            InputSpec("input1"),
            InputSpec("input2"),
            InputSpec("target", doc="1 similar, -1 dissimilar"),
        ),
        params=(
            reduction_param(),
            ParamSpec(
                "margin",
                "float",
                0.0,
                low=-1.0,
                high=1.0,
                doc="cosine below which dissimilar pairs cost nothing",
            ),
        ),
        reference="torch.nn.CosineEmbeddingLoss",
        torch_class="CosineEmbeddingLoss",
        fn=lambda input1, input2, target, reduction, margin: F.cosine_embedding_loss(
            input1, input2, target, margin=margin, reduction=reduction
        ),
        check=check_cosine_embedding,
        summary="Similarity learning on angles: 1 - cos for similar pairs, max(0, cos - margin) for dissimilar ones.",
    )
)

TRIPLET_INPUTS = (
    InputSpec("anchor", doc="(N, D) or (D,) embeddings"),
    InputSpec("positive", doc="same identity as the anchor"),
    InputSpec("negative", doc="different identity"),
)


def check_triplet(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    a, p, n = tensors["anchor"], tensors["positive"], tensors["negative"]
    checks.require_ndim(a, (1, 2), "anchor", "embeddings of shape (D,) or (N, D)")
    checks.require_same_shape(a, p, "anchor", "positive")
    checks.require_same_shape(a, n, "anchor", "negative")


register(
    LossSpec(
        name="TripletMarginLoss",
        families=(Family.TRIPLETS,),
        tasks=(Task.EMBEDDING, Task.RANKING),
        inputs=TRIPLET_INPUTS,
        params=(
            reduction_param(),
            ParamSpec(
                "margin", "float", 1.0, low=0.0, low_open=True, doc="required gap d(a,n) - d(a,p)"
            ),
            ParamSpec("p", "float", 2.0, low=0.0, low_open=True, doc="norm degree of the distance"),
            ParamSpec(
                "eps", "float", 1e-6, low=0.0, high=1.0, doc="added inside the norm for stability"
            ),
            ParamSpec("swap", "bool", False, doc="use the harder of d(a,n) and d(p,n)"),
        ),
        reference="torch.nn.TripletMarginLoss",
        torch_class="TripletMarginLoss",
        fn=lambda anchor, positive, negative, reduction, margin, p, eps, swap: (
            F.triplet_margin_loss(
                anchor,
                positive,
                negative,
                margin=margin,
                p=p,
                eps=eps,
                swap=swap,
                reduction=reduction,
            )
        ),
        check=check_triplet,
        summary="Metric learning: anchors closer to positives than to negatives by a margin, in p-norm distance.",
    )
)

register(
    LossSpec(
        name="TripletMarginWithDistanceLoss",
        families=(Family.TRIPLETS,),
        tasks=(Task.EMBEDDING, Task.RANKING),
        inputs=TRIPLET_INPUTS,
        params=(
            reduction_param(),
            ParamSpec(
                "distance_function",
                "callable",
                None,
                nullable=True,
                doc="(x, y) -> distances; None is pairwise L2",
            ),
            ParamSpec(
                "margin", "float", 1.0, low=0.0, low_open=True, doc="required gap d(a,n) - d(a,p)"
            ),
            ParamSpec("swap", "bool", False, doc="use the harder of d(a,n) and d(p,n)"),
        ),
        reference="torch.nn.TripletMarginWithDistanceLoss",
        torch_class="TripletMarginWithDistanceLoss",
        fn=lambda anchor, positive, negative, reduction, distance_function, margin, swap: (
            F.triplet_margin_with_distance_loss(
                anchor,
                positive,
                negative,
                distance_function=distance_function,
                margin=margin,
                swap=swap,
                reduction=reduction,
            )
        ),
        check=check_triplet,
        summary="Triplet loss with any distance, for example 1 - cosine similarity for normalised embeddings.",
    )
)
