"""Eager or compiled: one ``torch.compile(dynamic=True)`` wrapper per family kernel, chosen by size.

Below ``CROSSOVER_ELEMENTS`` (elements read per candidate group) auto mode runs eager: there a
compiled call's fixed guard-and-launch cost is not repaid, and a small request never waits
for a compilation (the first call of a new structure pays it; ``advisor.warmup`` pays it
ahead). The constant comes from ``advisor.evaluation.bench.measure_crossover()``: warm eager
and compiled calls of ``advisor.evaluate`` timed against each other over its grid of sizes, for
the benchmark's regression and multiclass families and for one cheap loss alone (MSELoss,
CrossEntropyLoss). The families compile profitably from the smallest size measured; a single
MSELoss, the least work per element, only from the value set below, which is the median of
three runs on a 2-core CPU. It is a constant rather than re-measured per process so that
results do not depend on timing noise (a run is deterministic given its inputs).

When compilation is unavailable or fails (no C compiler, an unsupported platform, a dynamo
bug), the failure is logged once per kernel and that kernel stays eager for the process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import torch

from advisor.evaluation.kernels import KERNELS

log = logging.getLogger("advisor.evaluation")

CROSSOVER_ELEMENTS = 1 << 19
# Distinct structures (candidate sets) one kernel may compile before dynamo gives up on it;
# dynamo's default of 8 is made for training loops, not for a service seeing many candidate sets.
RECOMPILE_LIMIT = 64

_MODES = ("auto", "eager", "compiled")
_state: dict[str, Any] = {"mode": os.environ.get("ADVISOR_EVAL_MODE", "auto")}
_compiled: dict[str, Callable[..., Any]] = {}
_broken: dict[str, str] = {}
_lock = threading.Lock()
stats = {"compiled_calls": 0, "eager_calls": 0, "fallbacks": 0}


def get_mode() -> str:
    return _state["mode"]


def set_mode(mode: str) -> None:
    """'auto' (by size), 'eager' (never compile) or 'compiled' (always, when it works)."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    _state["mode"] = mode


@contextlib.contextmanager
def mode(name: str) -> Iterator[None]:
    """Temporarily force a mode (tests and the benchmark)."""
    old = get_mode()
    set_mode(name)
    try:
        yield
    finally:
        set_mode(old)


def compile_available() -> bool:
    return hasattr(torch, "compile") and get_mode() != "eager"


def compiled_kernel(name: str) -> Callable[..., Any] | None:
    """The process-wide compiled wrapper of one family kernel, or None when it is broken."""
    if name in _broken:
        return None
    with _lock:
        if name not in _compiled:
            _compiled[name] = torch.compile(KERNELS[name], dynamic=True)
    return _compiled[name]


def _fallback(name: str, exc: BaseException) -> None:
    with _lock:
        first = name not in _broken
        _broken[name] = f"{type(exc).__name__}: {exc}"
        stats["fallbacks"] += 1
    if first:
        log.warning("torch.compile failed for the %s kernel; using eager mode from now on (%s)", name, _broken[name][:300])


def use_compiled(n_elements: int) -> bool:
    m = get_mode()
    if m == "eager" or not hasattr(torch, "compile"):
        return False
    return m == "compiled" or n_elements >= CROSSOVER_ELEMENTS


@contextlib.contextmanager
def _trace_config() -> Iterator[None]:
    """Dynamo settings for the family kernels.

    No duck sizing: by default two sizes that happen to be equal when a kernel is first traced
    (a regression request's 3 outputs per row and its 3 candidates) are assumed equal for
    good, and the next request, 5 outputs for 3 candidates, compiles again. Sizes that must
    be equal (the classes of the logits and of the weights) are still unified by the
    broadcasts that need them.
    """
    with (
        torch._dynamo.config.patch(recompile_limit=RECOMPILE_LIMIT, accumulated_recompile_limit=RECOMPILE_LIMIT * 16),
        torch.fx.experimental._config.patch(use_duck_shape=False),
    ):
        yield


def run(name: str, args: tuple[Any, ...], static: dict[str, Any], *, compiled: bool) -> tuple[Any, str]:
    """Run one kernel call; returns the outputs and the path taken ('fused-compiled' or 'fused-eager')."""
    if compiled:
        fn = compiled_kernel(name)
        if fn is not None:
            try:
                with _trace_config():
                    out = fn(*args, **static)
                stats["compiled_calls"] += 1
                return out, "fused-compiled"
            except Exception as exc:  # any compiler failure: never crash the request because of it
                _fallback(name, exc)
    stats["eager_calls"] += 1
    return KERNELS[name](*args, **static), "fused-eager"


def broken_kernels() -> dict[str, str]:
    """Kernels that fell back to eager, with the reason (for the bench table and health checks)."""
    return dict(_broken)


def reset() -> None:
    """Forget compiled wrappers and failures (tests)."""
    with _lock:
        _compiled.clear()
        _broken.clear()
