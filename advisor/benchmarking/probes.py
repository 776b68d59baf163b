"""Measurements the benchmark takes besides wall time: peak memory, compile cost, crossover;
and the timing and stopping tools both benchmark runners share (``timed``, ``check_cancel``,
``run_module`` for a child interpreter that a stop kills, ``exit_with_parent`` inside one).

Peak memory (``peak_memory``) is the largest amount of tensor memory allocated during one
call beyond what was allocated before it: on CUDA ``torch.cuda.max_memory_allocated``, on the
CPU the allocation events of ``torch.profiler`` (``profile_memory=True``) summed in time order,
which counts every buffer torch's CPU allocator hands out, compiled kernels' buffers included
(not Python objects, numpy copies nor allocator slack).

Compile cost is probed in a fresh interpreter (``python -m advisor.benchmarking.probes``) with an
empty inductor cache (``probe_in_subprocess``): inductor also keeps compiled code in memory,
so only a new process sees a truly cold compile. That process also measures the peak memory
at the case's full size, with kineto's log lines silenced through the environment variable it
reads at start-up.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from advisor.benchmarking.cases import data
from advisor.cancel import is_set
from advisor.evaluation import dispatch
from advisor.schema.benchmark import CASES, Case

log = logging.getLogger("advisor.evaluation")

PROBE_ROWS = 256  # shapes are dynamic: the size of the compile probe does not change what compiles
PROBE_TIMEOUT_S = 900

CPU_METHOD = "torch.profiler allocation events (CPU allocator)"
CUDA_METHOD = "torch.cuda.max_memory_allocated"


class Stopped(Exception):
    """The caller's ``cancel`` was set: the rows finished so far are the answer."""


def check_cancel(cancel: Any) -> None:
    """Between timed calls: stop as soon as the caller says so (an ``is_set()`` event or a callable)."""
    if is_set(cancel):
        raise Stopped


def exit_with_parent(every_s: float = 0.5) -> None:
    """In a benchmark's child interpreter: exit once the parent is gone. A parent stopped
    in order kills its child's session; one killed outright cannot, and its orphan would
    go on compiling for nobody."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device) -> float:
    """Seconds for one call, the device drained before and after."""
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def peak_memory(fn: Callable[[], Any], device: torch.device) -> tuple[int, str]:
    """(peak bytes allocated during ``fn()`` beyond those live before it, how it was measured)."""
    if device.type == "cuda":
        sync(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        sync(device)
        return max(0, torch.cuda.max_memory_allocated(device) - before), CUDA_METHOD
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    events.sort(key=lambda e: e.start_ns())
    live = peak = 0
    for e in events:
        live += e.nbytes()
        peak = max(peak, live)
    return peak, CPU_METHOD


def _evaluate(x, y, cands, device, diag):
    import advisor

    return advisor.evaluate(x, y, list(cands), device=device, diagnostics=diag)


# ---------------------------------------------------------------- compile cost, in a fresh process


def probe(case: Case, diag: bool, device: torch.device) -> dict[str, Any]:
    """Compile cost cold and warm, then peak memory at full size; meant for a fresh process.

    cold: the first call minus a steady call, at ``PROBE_ROWS`` rows (dynamo traces, inductor
    generates and builds its code into the empty cache). warm: the same after
    ``torch._dynamo.reset()``, the disk cache now filled (dynamo traces again, inductor loads).
    """
    import torch._dynamo
    import torch._inductor.compile_fx  # importing the compiler is not compiling

    cands = case.candidates
    x, y = data(case, device, PROBE_ROWS)
    with dispatch.mode("compiled"):
        first = timed(lambda: _evaluate(x, y, cands, device, diag), device)
        steady = min(timed(lambda: _evaluate(x, y, cands, device, diag), device) for _ in range(3))
        torch._dynamo.reset()
        dispatch.reset()
        again = timed(lambda: _evaluate(x, y, cands, device, diag), device)
        x, y = data(case, device)
        _evaluate(x, y, cands, device, diag)
        peak, method = peak_memory(lambda: _evaluate(x, y, cands, device, diag), device)
    return {
        "compile_cold_s": max(0.0, first - steady),
        "compile_warm_s": max(0.0, again - steady),
        "peak_extra_bytes": int(peak),
        "peak_method": method,
        "fell_back": sorted(dispatch.broken_kernels()),
    }


def probe_in_subprocess(name: str, diag: bool, device: torch.device) -> dict[str, Any] | None:
    """``probe`` in a new interpreter with empty compile caches; None (logged) when it fails.

    It stays in its caller's session (the full row's process), so stopping the row stops it."""
    with tempfile.TemporaryDirectory(prefix="advisor-probe-") as cache:
        env = {
            "TORCHINDUCTOR_CACHE_DIR": os.path.join(cache, "inductor"),
            "TRITON_CACHE_DIR": os.path.join(cache, "triton"),
            "KINETO_LOG_LEVEL": "3",
        }
        args = [name, "1" if diag else "0", str(device)]
        try:
            status, out, err = run_module(
                "advisor.benchmarking.probes", args, env=env, timeout_s=PROBE_TIMEOUT_S, own_session=False
            )
        except subprocess.TimeoutExpired:
            log.warning("benchmark probe of %s timed out after %s s", name, PROBE_TIMEOUT_S)
            return None
    if status != 0:
        log.warning("benchmark probe of %s failed: %s", name, err.strip()[-500:])
        return None
    found = json.loads(out.strip().splitlines()[-1])
    if found.pop("fell_back"):
        log.warning("benchmark probe of %s ran eager: no compile times", name)
        found.update(compile_cold_s=None, compile_warm_s=None)
    return found


#: how often a parent waiting for a benchmark's child interpreter reads its stop signal
POLL_S = 0.05


def run_module(
    module: str,
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cancel: Any = None,
    timeout_s: float | None = None,
    own_session: bool = True,
) -> tuple[int, str, str]:
    """``python -m module *args`` with ``env`` added to this environment: (exit status,
    stdout, stderr). The wait reads ``cancel`` every ``POLL_S``; once it is set
    (``Stopped``), ``timeout_s`` passes (``subprocess.TimeoutExpired``) or the caller fails,
    the child is killed, with everything it started when it has a session of its own
    (``own_session``). The child's output goes to files, not pipes, so it never blocks on a
    full pipe while the parent only polls."""
    cmd = [sys.executable, "-m", module, *args]
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})}, text=True, start_new_session=own_session
        )
        try:
            while True:
                try:
                    child.wait(timeout=POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    check_cancel(cancel)
                    if deadline is not None and time.monotonic() > deadline:
                        raise
        finally:
            if child.poll() is None:  # stopped, timed out, or the caller's own error
                if own_session:
                    os.killpg(child.pid, signal.SIGKILL)
                else:
                    child.kill()
                child.wait()
        out.seek(0)
        err.seek(0)
        return child.returncode, out.read(), err.read()


# ---------------------------------------------------------------- eager/compiled crossover


#: candidate sets the crossover is measured on: the benchmark's families, and single cheap losses
#: (the smallest amount of work per element, where a compiled call's fixed cost weighs most)
CROSSOVER_SETS: dict[str, tuple[str, int | None]] = {
    "regression-K8": ("regression", None),
    "multiclass-K7": ("multiclass", 32),
    "MSELoss": ("regression", None),
    "CrossEntropyLoss": ("multiclass", 32),
}


def measure_crossover(
    sets: Sequence[str] = tuple(CROSSOVER_SETS),
    *,
    exponents: Sequence[int] = tuple(range(10, 23)),
    repeats: int = 15,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Where compiled starts beating eager, in elements read (``x.numel()``, as dispatch counts).

    For each candidate set (``CROSSOVER_SETS``: a family's benchmark candidates, or one loss
    alone) and each size 2**e, eager and compiled calls of ``advisor.evaluate`` (values only,
    both warm: compilation is excluded) alternate ``repeats`` times; each side keeps its
    fastest. A set's crossover is the smallest size from which compiled wins at every larger
    size measured (twice the largest size if it never does); ``elements`` is the largest over
    the sets, so that below it eager is never the slower choice for any set measured.
    ``times`` holds (elements, eager_s, compiled_s) triples per set.
    """
    from advisor.evaluation.inputs import resolve_device

    dev = resolve_device(device)
    result: dict[str, Any] = {"times": {}, "crossover": {}}
    for name in sets:
        family, n_classes = CROSSOVER_SETS[name]
        case = Case(family, 1, n_classes)
        cands = case.candidates if name.endswith(("-K8", "-K7")) else (name,)
        per_row = n_classes or 1
        rows_seen: list[tuple[int, float, float]] = []
        for e in exponents:
            n = max(2, (1 << e) // per_row)
            x, y = data(case, dev, n)
            best = {"eager": float("inf"), "compiled": float("inf")}
            for m in best:
                with dispatch.mode(m):
                    _evaluate(x, y, cands, dev, False)
            for _ in range(repeats):
                for m in best:
                    with dispatch.mode(m):
                        best[m] = min(best[m], timed(lambda x=x, y=y, c=cands: _evaluate(x, y, c, dev, False), dev))
            rows_seen.append((int(x.numel()), best["eager"], best["compiled"]))
        result["times"][name] = rows_seen
        cross = rows_seen[-1][0] * 2
        for elements, eager_s, compiled_s in reversed(rows_seen):
            if compiled_s >= eager_s:
                break
            cross = elements
        result["crossover"][name] = cross
    result["elements"] = max(result["crossover"].values())
    return result


def _main(argv: list[str]) -> int:
    from advisor.evaluation.inputs import resolve_device

    exit_with_parent()
    name, diag, device = argv[0], argv[1] == "1", argv[2]
    print(json.dumps(probe(CASES[name], diag, resolve_device(device))))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
