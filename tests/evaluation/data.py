"""Small deterministic data sets for the evaluation tests."""

from __future__ import annotations

import numpy as np
import torch


def regression_data(n: int = 257, dtype: torch.dtype = torch.float32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randn(n, generator=g, dtype=torch.float64).to(dtype)
    x = (y + 0.7 * torch.randn(n, generator=g, dtype=torch.float64)).to(dtype)
    return x, y


def count_data(n: int = 257, dtype: torch.dtype = torch.float32, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    y = torch.poisson(torch.full((n,), 3.0, dtype=torch.float64), generator=g).to(dtype)
    x = (torch.randn(n, generator=g, dtype=torch.float64) * 0.3 + 1.0).to(dtype)
    return x, y


def multiclass_data(n: int = 129, c: int = 5, dtype: torch.dtype = torch.float32, seed: int = 2):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=torch.float64).mul(2.0).to(dtype)
    y = torch.randint(0, c, (n,), generator=g)
    return x, y


def binary_data(n: int = 129, d: int = 3, dtype: torch.dtype = torch.float32, seed: int = 3):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64).mul(2.0).to(dtype)
    y = torch.randint(0, 2, (n, d), generator=g).to(dtype)
    return x, y


def rank_ok(values: np.ndarray, v: float, q: float, eps: float, slack: float = 0.0) -> bool:
    """Whether some position of ``v`` in sorted ``values`` is within eps of level q (a sampled
    quantile against the stated rank bound; ``slack`` widens ties by a dtype's rounding)."""
    n = values.size
    lo = np.count_nonzero(values < v) / n
    hi = np.count_nonzero(values <= v) / n
    return lo - slack <= q + eps and hi + slack >= q - eps
