"""Stacked probe models: K candidates × F folds, trained together, computed per candidate.

Every model reads the same batch of rows, each fold model through its own fold's feature
preparation (``(F, B, d)`` inputs, see ``data``); each candidate's F fold models are one set
of tensors with a leading F, so one batched matrix product computes all F outputs of a
candidate, and each model is updated only by the rows outside its held-out fold (a mask,
see ``trainer``). The cost of
a step is linear in K·F: no candidate ever touches another's parameters.

Candidates are kept in separate tensors, not one (K, F, ...) block, so that the arithmetic a
candidate sees (matrix shapes, reduction splits, vector tails) does not depend on which other
candidates share the stack. That is what lets a subset of candidates, trained elsewhere (the
Ray backend), reproduce the whole stack's numbers bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


class StackedProbe(torch.nn.Module):
    """Linear (``hidden=0``) or one-hidden-layer ReLU MLP, K·F copies with independent weights.

    ``members`` keeps only those candidates of the K drawn. Initial weights come from one
    generator in (K, F, ...) order, so a subset drawn on its own would start elsewhere; drawing
    all K and keeping some gives the subset the very weights it has inside the full stack.
    """

    def __init__(
        self,
        k: int,
        folds: int,
        d: int,
        width: int,
        hidden: int,
        generator: torch.Generator,
        members: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.hidden = hidden
        keep = list(range(k)) if members is None else list(members)
        if hidden:
            w1 = _uniform((k, folds, d, hidden), d, generator)
            w2 = _uniform((k, folds, hidden, width), hidden, generator)
            self.w1 = _per_candidate(w1, keep)
            self.b1 = _per_candidate(torch.zeros(k, folds, 1, hidden), keep)
        else:
            w2 = _uniform((k, folds, d, width), d, generator) * 0.1
        self.w2 = _per_candidate(w2, keep)
        self.b2 = _per_candidate(torch.zeros(k, folds, 1, width), keep)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(F, B, d) rows, as each fold prepares them -> per candidate, (F, B, width) raw outputs."""
        if not self.hidden:
            return [_per_fold(x, w) + b for w, b in zip(self.w2, self.b2, strict=True)]
        out = []
        for w1, b1, w2, b2 in zip(self.w1, self.b1, self.w2, self.b2, strict=True):
            h = torch.relu(_per_fold(x, w1) + b1)
            out.append(torch.bmm(h, w2) + b2)
        return out


def _per_fold(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """(F, B, d) @ (F, d, o) -> (F, B, o), as F products (o, d) @ (d, B).

    Written with the rows as the long output dimension, BLAS runs it and its backward
    several times faster than as (B, d) @ (d, o): with o = 1 that is a matrix-vector
    product. The result is a view laid out (F, o, B).
    """
    return torch.bmm(w.transpose(1, 2), x.transpose(1, 2)).transpose(1, 2)


def _per_candidate(stacked: torch.Tensor, keep: list[int]) -> torch.nn.ParameterList:
    return torch.nn.ParameterList(torch.nn.Parameter(stacked[i].clone()) for i in keep)


def _uniform(shape: tuple[int, ...], fan_in: int, generator: torch.Generator) -> torch.Tensor:
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    return (torch.rand(shape, generator=generator) * 2.0 - 1.0) * bound
