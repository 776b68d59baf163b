"""Does a process that has served many mixed requests evaluate as fast as a fresh one?

A server lives for days. What it has served in between can slow it down: dynamo's caches fill,
structures are evicted from the LRU of compiled kernels (``dispatch.CACHE_SIZE``), a kernel
that reaches the recompile limit falls back to eager, the background compile queue backs up,
memory grows. ``run`` measures it in one process, in the mode a server serves in ('auto'):

1. *fresh*: each timed case (``TIMED``: the benchmark's regression and multiclass cases,
   values only and with diagnostics) is compiled once and then timed, fastest of ``repeats``;
2. ``requests`` mixed evaluations, seeded (``mixed_request``): every family (regression,
   binary, multiclass, counts), a random subset of its candidates or the recommender's
   defaults, sizes on both sides of the eager/compiled crossover, float16/32/64, with and
   without sample weights, every data layout of ``cases.LAYOUTS``, diagnostics on or off;
3. *after*: once the background compiles the requests queued are done (``drain_s``: timing
   beside a compile in the same process would time the compile), the same cases are timed
   again, with nothing recompiled for them on purpose: a case whose structure was evicted runs
   as a user's call would, eagerly while it compiles in the background, and its row shows it
   (``after_path``).

The report gives, per case, the two times, their ratio and the paths, and for the whole run
the dispatch counters (compiles in the caller and in the background, evictions, fallbacks and
recompile-limit hits, which ``dispatch`` counts instead of letting a kernel go eager
silently), the structures kept and the resident memory before and after.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

import torch

import advisor
from advisor.benchmarking.cases import LAYOUTS, data, layout
from advisor.benchmarking.probes import Stopped, check_cancel, timed
from advisor.errors import InvalidInputError
from advisor.evaluation import dispatch
from advisor.evaluation.inputs import resolve_device
from advisor.schema.benchmark import (
    CASES,
    REGRESSION,
    LongLivedReport,
    LongLivedRow,
    multiclass_candidates,
)

__all__ = ["TIMED", "mixed_request", "run"]

#: The cases timed before and after the mixed requests.
TIMED = ("regression-1e6", "multiclass-5e5-c32")
#: Rows of a mixed request: both sides of ``dispatch.CROSSOVER_ELEMENTS`` (2^19 elements).
SIZES = (1_000, 20_000, 200_000, 700_000)
#: The longest the run waits for the background compiles the requests queued.
DRAIN_TIMEOUT_S = 600.0
_COUNTS = ("PoissonNLLLoss", "NegativeBinomialNLLLoss", "TweedieLoss")


def _sample(rng: random.Random, pool: tuple[Any, ...]) -> list[Any]:
    """A random non-empty subset of ``pool``, in pool order (so subsets repeat as structures do)."""
    k = rng.randint(1, len(pool))
    keep = sorted(rng.sample(range(len(pool)), k))
    return [pool[i] for i in keep]


def mixed_request(rng: random.Random, device: torch.device, sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    """One seeded ``advisor.evaluate`` request's keyword arguments (family chosen at random),
    to be called as ``advisor.evaluate(**request)``;
    ``sizes``: the row counts to draw from, the larger the rarer (weights K, K-1, ..., 1)."""
    n = rng.choices(sorted(sizes), weights=range(len(sizes), 0, -1))[0]
    g = torch.Generator().manual_seed(rng.getrandbits(31))
    family = rng.choice(("regression", "regression", "binary", "multiclass", "counts"))
    dtype = rng.choice((torch.float32, torch.float32, torch.float64))
    candidates: list[Any] | None
    if family == "regression":
        x, y = layout(n, rng.choice(LAYOUTS))  # the float16 layout brings its own dtype
        if x.dtype != torch.float16:
            x, y = x.to(dtype), y.to(dtype)
        candidates = _sample(rng, REGRESSION)
    elif family == "multiclass":
        c = rng.choice((3, 10, 32))
        x = torch.randn(n, c, generator=g, dtype=dtype).mul_(2.0)
        y = torch.randint(0, c, (n,), generator=g)
        candidates = _sample(rng, multiclass_candidates(c))
    elif family == "binary":
        x = torch.randn(n, generator=g, dtype=dtype)
        y = (torch.rand(n, generator=g) < torch.sigmoid(x.float())).to(dtype)
        candidates = None  # the recommender's defaults: the path a caller without candidates takes
    else:
        rate = torch.exp(torch.randn(n, generator=g) * 0.5 + 1.0)
        y = torch.poisson(rate, generator=g).to(dtype)
        x = rate.log().to(dtype)
        candidates = None if rng.random() < 0.5 else _sample(rng, _COUNTS)
    weights = torch.rand(n, generator=g, dtype=x.dtype if x.dtype != torch.float16 else torch.float32)
    return {
        "predictions": x.to(device),
        "targets": y.to(device),
        "candidates": candidates,
        "sample_weight": weights.to(device) if rng.random() < 0.3 else None,
        "diagnostics": rng.random() < 0.5,
        "device": device,
    }


def _rss_bytes() -> int | None:
    """This process's resident memory (Linux), None where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _evaluate(x: torch.Tensor, y: torch.Tensor, candidates: list[Any], diagnostics: bool) -> Any:
    return advisor.evaluate(x, y, candidates, device=x.device, diagnostics=diagnostics)


def _time_cases(
    names: tuple[str, ...], dev: torch.device, repeats: int, check: Callable[[], None], *, compile_first: bool
) -> dict[tuple[str, bool], tuple[float, str]]:
    """(case, diagnostics) -> (fastest of ``repeats`` calls, the paths they took)."""
    out = {}
    for name in names:
        case = CASES[name]
        x, y = data(case, dev)
        candidates = list(case.candidates)
        for diag in (False, True):
            check()
            if compile_first:
                with dispatch.mode("compiled"):
                    _evaluate(x, y, candidates, diag)
            report = _evaluate(x, y, candidates, diag)
            best = math.inf
            for _ in range(repeats):
                check()
                best = min(best, timed(lambda: _evaluate(x, y, candidates, diag), dev))  # noqa: B023
            out[(name, diag)] = (best, ",".join(sorted({str(r.path) for r in report.results})))
    return out


def run(
    requests: int = 1000,
    *,
    device: str = "auto",
    repeats: int = 3,
    seed: int = 0,
    cases: tuple[str, ...] = TIMED,
    sizes: tuple[int, ...] = SIZES,
    compile_first: bool = True,
    cancel: Any = None,
) -> LongLivedReport:
    """Time ``cases`` fresh, serve ``requests`` mixed requests of ``sizes`` rows, time the
    cases again (module docstring). ``compile_first`` False times the fresh calls in the
    calling thread's mode without compiling them first (a smoke run).

    ``cancel`` (an event or a callable returning True) is checked between requests and timed
    calls; once set, the report holds what was measured (``stopped`` True).
    """
    for field, value in (("requests", requests), ("repeats", repeats)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInputError("must be a positive integer", field=field, expected=">= 1", got=value)
    for i, name in enumerate(cases):
        if name not in CASES:
            raise InvalidInputError(f"unknown benchmark case {name!r}", field=f"cases[{i}]", expected=list(CASES), got=name)
    dev = resolve_device(device)

    def check() -> None:
        check_cancel(cancel)

    counters_before = dict(dispatch.stats)
    rss_before = _rss_bytes()
    fresh: dict[tuple[str, bool], tuple[float, str]] = {}
    after: dict[tuple[str, bool], tuple[float, str]] = {}
    served = 0
    served_s = drain_s = 0.0
    stopped = False
    rng = random.Random(seed)
    try:
        fresh = _time_cases(cases, dev, repeats, check, compile_first=compile_first)
        started = time.perf_counter()
        for _ in range(requests):
            check()
            advisor.evaluate(**mixed_request(rng, dev, sizes))
            served += 1
        served_s = time.perf_counter() - started
        dispatch.wait_compiled(DRAIN_TIMEOUT_S)
        drain_s = time.perf_counter() - started - served_s
        after = _time_cases(cases, dev, repeats, check, compile_first=False)
    except Stopped:
        stopped = True
    rows = [
        LongLivedRow(
            case=name,
            diagnostics=diag,
            fresh_s=fresh[(name, diag)][0],
            fresh_path=fresh[(name, diag)][1],
            after_s=after[(name, diag)][0],
            after_path=after[(name, diag)][1],
        )
        for (name, diag) in fresh
        if (name, diag) in after
    ]
    counters = {k: v - counters_before.get(k, 0) for k, v in dispatch.stats.items()}
    return LongLivedReport(
        device=str(dev),
        requests=served,
        requests_s=served_s,
        drain_s=drain_s,
        stopped=stopped,
        rows=rows,
        counters=counters,
        structures_kept=dispatch.compiled_structures(),
        broken_kernels=dispatch.broken_kernels(),
        rss_before_bytes=rss_before,
        rss_after_bytes=_rss_bytes(),
    )

