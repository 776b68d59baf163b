"""Stacked probe models: K candidates × F folds as one set of tensors with a leading (K, F).

Every model reads the same batch of rows, so one einsum computes all K·F outputs; each model
is updated only by the rows outside its held-out fold (a mask, see ``trainer``). The cost of
a step is linear in K·F: no candidate ever touches another's parameters.
"""

from __future__ import annotations

import math

import torch


class StackedProbe(torch.nn.Module):
    """Linear (``hidden=0``) or one-hidden-layer ReLU MLP, K·F copies with independent weights."""

    def __init__(
        self, k: int, folds: int, d: int, width: int, hidden: int, generator: torch.Generator
    ) -> None:
        super().__init__()
        self.hidden = hidden
        if hidden:
            self.w1 = torch.nn.Parameter(_uniform((k, folds, d, hidden), d, generator))
            self.b1 = torch.nn.Parameter(torch.zeros(k, folds, 1, hidden))
            self.w2 = torch.nn.Parameter(_uniform((k, folds, hidden, width), hidden, generator))
        else:
            self.w2 = torch.nn.Parameter(_uniform((k, folds, d, width), d, generator) * 0.1)
        self.b2 = torch.nn.Parameter(torch.zeros(k, folds, 1, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, d) rows -> (K, F, B, width) raw outputs."""
        h = x
        if self.hidden:
            h = torch.relu(torch.einsum("bd,kfdh->kfbh", x, self.w1) + self.b1)
            return torch.einsum("kfbh,kfho->kfbo", h, self.w2) + self.b2
        return torch.einsum("bd,kfdo->kfbo", h, self.w2) + self.b2


def _uniform(shape: tuple[int, ...], fan_in: int, generator: torch.Generator) -> torch.Tensor:
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    return (torch.rand(shape, generator=generator) * 2.0 - 1.0) * bound
