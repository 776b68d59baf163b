"""The data the benchmark's cases run on, and their candidates as torch modules.

The cases themselves (``CASES``: family, size, candidates) are a torch-free table in
``advisor.schema.benchmark``, where a command line can list their names. Data are seeded, so
every run times the same numbers.
"""

from __future__ import annotations

from typing import Any

import torch

from advisor import losses
from advisor.schema.benchmark import Case


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
