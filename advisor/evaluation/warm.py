"""``advisor.warmup()``: compile the family kernels before the first request needs them.

A compiled kernel is specialised to its structure (which formula each slot runs), so warming
runs ``evaluate`` itself, in forced compiled mode, on small synthetic data of each kind: the
structures compiled are exactly those of the default candidate sets. Shapes are dynamic, so
the size used here matters only where it picks a path: with diagnostics, more rows than the
quantile sample, so that both of its passes (the sample's rows, then the state over every
chunk) are compiled. Failures are the dispatcher's: logged once, eager after.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from advisor.evaluation import diagnostics as diag_state
from advisor.evaluation import dispatch
from advisor.evaluation.engine import evaluate
from advisor.evaluation.inputs import resolve_device

FAMILIES = ("regression", "binary", "multiclass")


def _data(family: str, n: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    if family == "regression":
        return torch.randn(n, generator=g, dtype=dtype).to(device), torch.randn(n, generator=g, dtype=dtype).to(device)
    if family == "binary":
        return torch.randn(n, generator=g, dtype=dtype).to(device), torch.randint(0, 2, (n,), generator=g).to(dtype).to(device)
    return torch.randn(n, 4, generator=g, dtype=dtype).to(device), torch.randint(0, 4, (n,), generator=g).to(device)


def warmup(
    families: tuple[str, ...] = FAMILIES,
    *,
    diagnostics: bool = True,
    dtypes: tuple[torch.dtype, ...] = (torch.float32,),
    device: str | torch.device = "auto",
    candidates: dict[str, list] | None = None,
    on_step: Callable[[str, float], None] | None = None,
) -> dict[str, float]:
    """Compile ahead of time; returns seconds spent per (family, dtype, mode).

    ``candidates`` maps a family to the candidate list to warm (default: the defaults for that
    data), for a service that knows which sets it will be asked for. ``on_step(step, seconds)``
    is called as each (family, dtype, mode) is done, for a caller that reports progress.
    """
    dev = resolve_device(device)
    spent: dict[str, float] = {}
    modes = (False, True) if diagnostics else (False,)
    with dispatch.mode("compiled"):
        for family in families:
            for dtype in dtypes:
                for diag in modes:
                    x, y = _data(family, 2 * diag_state.QUANTILE_SAMPLE if diag else 64, dtype, dev)
                    t0 = time.perf_counter()
                    evaluate(x, y, (candidates or {}).get(family), device=dev, diagnostics=diag)
                    step = f"{family}/{str(dtype).replace('torch.', '')}/{'diagnostics' if diag else 'values'}"
                    spent[step] = time.perf_counter() - t0
                    if on_step is not None:
                        on_step(step, spent[step])
    return spent
