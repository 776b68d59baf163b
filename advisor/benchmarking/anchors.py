"""``advisor.evaluate`` against the anchors its targets name, timed in the same run.

For the eight regression losses of the benchmark (``schema.benchmark.REGRESSION``), on one
device, alternating the sides and keeping each side's fastest call:

* values only: a hand-fused ``torch.compile`` function of the same eight formulas written
  here (hyperparameters as tensors, one expression per loss, sums in float64), the loop a user
  writes (``torch.nn.functional`` where torch has the loss, the catalog's module otherwise),
  and the memory-read bound (one reduction over each input);
* with diagnostics: a loop of reduction='none' modules plus ``torch.autograd.grad`` per
  candidate, the least a user computes for per-sample gradients;
* no cliffs: the same eight with diagnostics over the data layouts of
  ``cases.LAYOUTS``; the spread is the slowest layout over the fastest.

``run`` serves ``loss-advisor bench --anchors`` and ``benchmarks/test_engine_anchors_bench.py``,
so both print the same rows (``schema.benchmark.AnchorRow``). Before timing, the hand-fused
means are checked against ``advisor.evaluate``'s: an anchor that computed something else would
time nothing worth comparing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from advisor import losses
from advisor.benchmarking.cases import LAYOUTS, layout, name_of
from advisor.benchmarking.probes import Stopped, check_cancel, timed
from advisor.errors import InvalidInputError
from advisor.evaluation import dispatch
from advisor.evaluation.inputs import resolve_device
from advisor.schema.benchmark import REGRESSION, AnchorRow

F64 = torch.float64
#: The hyperparameters of ``REGRESSION`` as the hand-fused function takes them:
#: Huber delta, SmoothL1 beta, Barron alpha and scale, the two quantiles.
HAND_PARAMS = (1.0, 0.5, 1.0, 1.0, 0.1, 0.9)


def hand_fused(x: torch.Tensor, y: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
    """The eight formulas' means in one function, as a user would fuse them by hand."""
    r = x - y
    a = r.abs()
    delta, beta, alpha, scale, q1, q2 = P
    z2 = (r / scale) ** 2
    b = (alpha - 2.0).abs()
    barron = (b / alpha) * (torch.pow(z2 / b + 1.0, alpha / 2.0) - 1.0)
    d = -r
    return torch.stack([
        a.sum(dtype=F64),
        (r * r).sum(dtype=F64),
        torch.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta)).sum(dtype=F64),
        torch.where(a < beta, 0.5 * r * r / beta, a - 0.5 * beta).sum(dtype=F64),
        (a + F.softplus(-2.0 * a) - math.log(2.0)).sum(dtype=F64),
        barron.sum(dtype=F64),
        (d * torch.where(d < 0, q1 - 1.0, q1)).sum(dtype=F64),
        (d * torch.where(d < 0, q2 - 1.0, q2)).sum(dtype=F64),
    ]) / x.numel()  # fmt: skip


def _modules(reduction: str) -> list[torch.nn.Module]:
    return [
        losses.build(name_of(c), reduction=reduction, **({} if isinstance(c, str) else dict(c["params"])))
        for c in REGRESSION
    ]


def _functional_loop(x: torch.Tensor, y: torch.Tensor, modules: list[torch.nn.Module]) -> list[torch.Tensor]:
    """What a user writes: F.* where torch has the loss, the module otherwise."""
    with torch.no_grad():
        return [
            F.l1_loss(x, y), F.mse_loss(x, y), F.huber_loss(x, y, delta=1.0), F.smooth_l1_loss(x, y, beta=0.5),
            modules[4](x, y), modules[5](x, y), modules[6](x, y), modules[7](x, y),
        ]  # fmt: skip


def _grad_loop(x: torch.Tensor, y: torch.Tensor, modules: list[torch.nn.Module]) -> None:
    for m in modules:
        leaf = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(m(leaf, y).sum(), leaf)
        g.abs().max()


def _evaluate(x: torch.Tensor, y: torch.Tensor, diagnostics: bool) -> Any:
    import advisor

    with dispatch.mode("compiled"):
        return advisor.evaluate(x, y, list(REGRESSION), device=x.device, diagnostics=diagnostics)


def _fastest(sides: dict[str, Callable[[], Any]], repeats: int, device: torch.device, check: Callable[[], None]) -> dict[str, float]:
    """Each side's fastest of ``repeats`` calls, the sides alternating (each called once first)."""
    for fn in sides.values():
        check()
        fn()
    best = dict.fromkeys(sides, math.inf)
    for _ in range(repeats):
        for name, fn in sides.items():
            check()
            best[name] = min(best[name], timed(fn, device))
    return best


def _check_values(x: torch.Tensor, y: torch.Tensor, hand: Callable[..., torch.Tensor], P: torch.Tensor) -> None:
    ours = torch.tensor([r.value for r in _evaluate(x, y, False).results], dtype=F64)
    theirs = hand(x, y, P).to("cpu", F64)
    if not torch.allclose(ours, theirs, rtol=1e-4, atol=0.0):
        raise RuntimeError(f"the hand-fused anchor computes other means ({theirs.tolist()} against {ours.tolist()})")


def _at_size(n: int, dev: torch.device, repeats: int, check: Callable[[], None], hand: Any) -> list[AnchorRow]:
    """The values row and the diagnostics row at ``n`` rows of random data with outliers."""
    x, y = (t.to(dev) for t in layout(n, "random_outliers"))
    P = torch.tensor(HAND_PARAMS, device=dev)
    values_modules, none_modules = _modules("mean"), _modules("none")
    check()
    _check_values(x, y, hand, P)
    values = _fastest(
        {
            "advisor": lambda: _evaluate(x, y, False),
            "hand": lambda: hand(x, y, P),
            "functional": lambda: _functional_loop(x, y, values_modules),
            "read": lambda: (x.sum(), y.sum()),
        },
        repeats, dev, check,
    )  # fmt: skip
    diag = _fastest(
        {"advisor": lambda: _evaluate(x, y, True), "autograd_loop": lambda: _grad_loop(x, y, none_modules)},
        repeats, dev, check,
    )  # fmt: skip
    return [
        AnchorRow(mode="values", layout="random_outliers", n_rows=n, device=str(dev), seconds=values),
        AnchorRow(mode="diagnostics", layout="random_outliers", n_rows=n, device=str(dev), seconds=diag),
    ]


def _layouts(n: int, dev: torch.device, repeats: int, check: Callable[[], None]) -> list[AnchorRow]:
    data = {name: tuple(t.to(dev) for t in layout(n, name)) for name in LAYOUTS}
    sides = {name: (lambda xy=xy: _evaluate(*xy, True)) for name, xy in data.items()}
    best = _fastest(sides, repeats, dev, check)
    return [
        AnchorRow(mode="layout", layout=name, n_rows=n, device=str(dev), seconds={"advisor": best[name]})
        for name in LAYOUTS
    ]


def run(
    sizes: tuple[int, ...] = (1_000_000,),
    *,
    device: str = "auto",
    repeats: int = 5,
    layouts: bool = True,
    cancel: Any = None,
) -> list[AnchorRow]:
    """Two rows per size ('values', 'diagnostics'), then one per layout at the first size.

    ``cancel`` (an event or a callable returning True) is checked before every timed call;
    once set, the rows finished so far are returned.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise InvalidInputError("must be a positive integer", field="repeats", expected=">= 1", got=repeats)
    dev = resolve_device(device)

    def check() -> None:
        check_cancel(cancel)

    rows: list[AnchorRow] = []
    hand = torch.compile(hand_fused, dynamic=True)
    try:
        for n in sizes:
            rows.extend(_at_size(n, dev, repeats, check, hand))
        if layouts and sizes:
            rows.extend(_layouts(sizes[0], dev, repeats, check))
    except Stopped:
        pass
    return rows
