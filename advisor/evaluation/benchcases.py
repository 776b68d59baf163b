"""The benchmark's cases: which candidates, how many rows, and the data they run on.

A case is one candidate family at one size. The regression family is the eight losses the
fused kernel covers for real-valued targets; the multiclass family is the cross-entropy
variants a classification request is usually compared on (plain, label-smoothed,
class-weighted, focal, logit-adjusted). Data are seeded, so every run times the same numbers.
Quick cases are the same families at sizes that take seconds, for smoke runs and unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from advisor import losses

REGRESSION = (
    "L1Loss",
    "MSELoss",
    {"loss": "HuberLoss", "params": {"delta": 1.0}},
    {"loss": "SmoothL1Loss", "params": {"beta": 0.5}},
    "LogCoshLoss",
    {"loss": "AdaptiveRobustLoss", "params": {"alpha": 1.0, "scale": 1.0}},
    {"loss": "QuantileLoss", "params": {"quantiles": [0.1]}},
    {"loss": "QuantileLoss", "params": {"quantiles": [0.9]}},
)


def multiclass_candidates(n_classes: int) -> tuple[Any, ...]:
    """Seven cross-entropy variants; class weights depend on C, so they are built per case."""
    weight = [0.5 + c / max(1, n_classes - 1) for c in range(n_classes)]
    alpha = [w / sum(weight) for w in weight]
    return (
        "CrossEntropyLoss",
        {"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1}},
        {"loss": "CrossEntropyLoss", "params": {"weight": weight}},
        {"loss": "CrossEntropyLoss", "params": {"weight": weight, "label_smoothing": 0.05}},
        {"loss": "FocalLoss", "params": {"gamma": 2.0}},
        {"loss": "FocalLoss", "params": {"gamma": 1.0, "alpha": alpha}},
        {"loss": "LogitAdjustedLoss", "params": {"tau": 1.0}},
    )


@dataclass(frozen=True)
class Case:
    """One family at one size; ``n_classes`` is None for regression."""

    family: str
    n_rows: int
    n_classes: int | None = None
    quick: bool = False

    @property
    def candidates(self) -> tuple[Any, ...]:
        if self.family == "regression":
            return REGRESSION
        return multiclass_candidates(int(self.n_classes or 0))

    @property
    def k(self) -> int:
        return len(self.candidates)

    def describe(self) -> str:
        shape = f"N={self.n_rows:.0e}" + (f", C={self.n_classes}" if self.n_classes else "")
        return f"{self.family}, K={self.k}, {shape}"


CASES: dict[str, Case] = {
    "regression-1e5": Case("regression", 100_000, quick=True),
    "multiclass-1e5-c32": Case("multiclass", 100_000, 32, quick=True),
    "regression-1e6": Case("regression", 1_000_000),
    "regression-1e7": Case("regression", 10_000_000),
    "multiclass-5e5-c32": Case("multiclass", 500_000, 32),
    "multiclass-5e5-c1000": Case("multiclass", 500_000, 1000),
}
QUICK_CASES = tuple(name for name, case in CASES.items() if case.quick)
STANDARD_CASES = tuple(name for name, case in CASES.items() if not case.quick)


def data(case: Case, device: torch.device, n_rows: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded float32 predictions and targets; ``n_rows`` overrides the case's size (probes)."""
    n = case.n_rows if n_rows is None else n_rows
    g = torch.Generator().manual_seed(0)
    if case.family == "regression":
        y = torch.randn(n, generator=g)
        x = y + 0.5 * torch.randn(n, generator=g)
    else:
        c = int(case.n_classes or 0)
        x = torch.randn(n, c, generator=g).mul_(2.0)
        y = torch.randint(0, c, (n,), generator=g)
    return x.to(device), y.to(device)


#: Data layouts where exact or strided order statistics have slow or wrong paths: the
#: evaluation must not care (the no-cliffs benchmark times them, the quantile tests check them).
LAYOUTS = ("random_outliers", "outliers_every_97th", "sorted_targets", "sixty_percent_zeros", "all_equal_targets", "float16")


def layout(n: int, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded regression predictions and targets of n rows in one of ``LAYOUTS``."""
    g = torch.Generator().manual_seed(11)
    y = torch.randn(n, generator=g)
    x = y + 0.5 * torch.randn(n, generator=g)
    if name == "random_outliers":
        y[torch.randperm(n, generator=g)[: n // 100]] += 25.0
    elif name == "outliers_every_97th":
        y[::97] += 25.0
    elif name == "sorted_targets":
        y, order = torch.sort(y)
        x = x[order]
    elif name == "sixty_percent_zeros":
        zero = torch.rand(n, generator=g) < 0.6
        y[zero] = 0.0
        x[zero] = 0.0
    elif name == "all_equal_targets":
        y = torch.full((n,), 3.0)
    elif name == "float16":
        x, y = x.half(), y.half()
    elif name != "random":
        raise ValueError(f"no layout {name!r}; the layouts are {LAYOUTS}")
    return x, y


def name_of(candidate: Any) -> str:
    return candidate if isinstance(candidate, str) else candidate["loss"]


def label(candidate: Any) -> str:
    """A short text for a candidate, with its params (lists shortened)."""
    if isinstance(candidate, str):
        return candidate
    shown = []
    for key, value in candidate.get("params", {}).items():
        text = f"[{len(value)} values]" if isinstance(value, list) and len(value) > 3 else repr(value)
        shown.append(f"{key}={text}")
    return f"{candidate['loss']}({', '.join(shown)})"


def modules(case: Case, device: torch.device, dtype: torch.dtype) -> list[torch.nn.Module]:
    """The loop baseline: each candidate as the ``nn.Module`` a training script would build.

    Tensor hyperparameters (class weights) are cast to the predictions' dtype, as a script
    that moves its loss with ``.to(device, dtype)`` has them.
    """
    out = []
    for cand in case.candidates:
        params = {} if isinstance(cand, str) else dict(cand.get("params", {}))
        out.append(losses.build(name_of(cand), **params).to(device=device, dtype=dtype))
    return out
