"""Eager or compiled, and compilation off the request path.

A *structure* is what a compiled kernel is specialised to: the kernel, its static arguments
(which formula each slot runs, what it returns) and each argument's dtype, device, rank and
contiguity. Sizes and hyperparameter values are not part of it (``torch.compile(dynamic=True)``,
hyperparameters as tensors). Each structure gets its own compiled copy of the kernel (a fresh
code object, so dynamo's cache and recompile limit are its own and it can be dropped), kept
in an LRU of ``CACHE_SIZE`` structures.

Bounds on what is kept across calls: ``CACHE_SIZE`` structures (the LRU), ``SIGHTINGS``
call counts of structures not kept, ``MAX_QUEUED`` background compilations queued or under way
(each holding ``BACKGROUND_ROWS`` rows of its arguments) and one logged failure per kernel
name; the rest (``stats``, the mode) is of fixed size.

In 'auto' mode a structure is admitted (``_admitted``) on its second request, and, once the
LRU is full, only when more requests have called it than the structure it would evict (a
frequency-aware admission, as TinyLFU's). A request (``request``, which ``advisor.evaluate``
enters) counts once per structure however many chunks it runs, and every count is halved
after ``AGE_EVERY`` counted calls, so what was popular long ago gives way to what is popular
now. A request with a one-off structure (a random subset of candidates, as an AutoML search
sends) runs eagerly and is only counted, so one-off structures neither queue compiles nor
evict the structures in use. 1,000 mixed requests of such subsets (``bench --long-lived``)
evicted 150 structures, the benchmark's among them (5 to 9 times slower after than fresh),
queued compiles faster than two cores compile them, and grew the process by 0.9 GB when every
structure was admitted on its first call; 39 (cases 1.2 to 1.6 times slower) when admitted on
its second; 15 when a newcomer also had to outnumber its victim in kernel calls (one request
of seven chunks outweighed five requests); none, counted per request. A call whose admitted
structure is not compiled yet runs eagerly, and the structure is
compiled in a background thread on a few rows of the same arguments; later calls use it once
it is ready, so no request waits for a cold compile. Below ``CROSSOVER_ELEMENTS`` (elements
read per candidate group) auto mode runs eager anyway: there a compiled call's fixed
guard-and-launch cost is not repaid. The constant comes from
``advisor.benchmarking.throughput.measure_crossover()`` (warm eager and compiled calls timed against
each other over its grid of sizes; a single MSELoss, the least work per element, is the
last to profit), fixed rather than re-measured per process so that results do not depend on
timing noise. 'compiled' mode (the benchmark, ``advisor.warmup``, tests) compiles in the
calling thread and always uses the compiled kernel; 'eager' never compiles. The process's
mode comes from ``ADVISOR_EVAL_MODE`` ('auto' when unset); ``mode(...)`` overrides it for
the calling thread only, so a server can warm its kernels up in forced compiled mode on one
thread while its request threads stay in 'auto' and never wait for a compile.

A structure whose compilation fails (no C compiler, an unsupported platform, a dynamo bug)
stays eager; the first failure of each kernel is logged, with its reason. Kernels compile
with ``fullgraph=True``, so dynamo's recompile limit, if a structure ever reaches it, raises
here instead of silently running that kernel eagerly: it is logged, and counted in
``stats["recompile_limit_hits"]``. A failure once ``shutdown`` has begun, or while the
interpreter shuts down, is not a verdict on the structure and is not recorded: a compile cut
short by the process going away (inductor's "cannot schedule new futures after shutdown") must
not leave a healthy kernel eager. After ``shutdown`` nothing new is compiled, in forced mode
either: the calls run eagerly, so work that is still finishing is not held up by a compile.

A process that must end by a deadline (the server, on SIGTERM) calls ``shutdown(timeout=...)``
with the time it has left, then leaves with ``os._exit`` rather than a normal exit: what can
abort ("terminate called without an active exception") is the interpreter's finalisation and
the C++ destructors run by ``exit()`` while a thread is still inside torch's compiler, not the
compile itself, and ``os._exit`` runs neither.

A plain process (a script, a notebook) that exits normally does not wait for the compile under
way either: the exit hook (``_at_exit``) closes as ``shutdown`` does and gives the compile up,
raising ``_Abandoned`` in the compile thread (``PyThreadState_SetAsyncExc``: it takes effect at
the thread's next Python instruction, which dynamo's tracing and inductor's code generation
reach within milliseconds). The compile fails, is not recorded (closing has begun), and the
thread leaves torch's compiler before finalisation starts; the hook waits for that up to
``EXIT_WAIT_S`` (a compile blocked in C for longer, in the C compiler say, is left running,
as a ``shutdown`` timeout leaves it).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import queue
import sys
import threading
import types
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import torch

from advisor import cancel
from advisor.evaluation.kernels import KERNELS

log = logging.getLogger("advisor.evaluation")

CROSSOVER_ELEMENTS = 1 << 19
#: Compiled structures kept; the least recently used is dropped beyond it. The default
#: candidate sets of all families, values and diagnostics, need about 20.
CACHE_SIZE = 64
#: Structures not kept whose calls are counted (``_admitted``); the oldest is forgotten
#: beyond it.
SIGHTINGS = 4 * CACHE_SIZE
#: Counted calls (one per structure and request) after which every count is halved: counts
#: measure recent popularity, over a window of many requests, so that structures in use do
#: not age out between two of their requests while one-off structures pass by.
AGE_EVERY = 64 * CACHE_SIZE
#: Rows a background compilation traces on (sizes are symbolic: the graph serves any size).
BACKGROUND_ROWS = 64
#: Background compilations queued or under way at most. A call that finds the queue full runs
#: eagerly and leaves its structure to be queued by a later call: with more distinct structures
#: in use than ``CACHE_SIZE``, evicted ones come back new and would otherwise queue without end
#: while each compile takes seconds.
MAX_QUEUED = CACHE_SIZE
#: How long ``shutdown()`` waits, by default, for a background compilation under way to end.
SHUTDOWN_WAIT_S = 60.0
#: How long the interpreter's exit waits for the compilation under way to give up once told
#: to (``_at_exit``). Leaving one inside torch's compiler while the interpreter finalises can
#: abort the process from C++ ("terminate called without an active exception"); queued ones
#: are dropped.
EXIT_WAIT_S = 5.0

_MODES = ("auto", "eager", "compiled")
_PROCESS_MODE = os.environ.get("ADVISOR_EVAL_MODE", "auto")
_lock = threading.Lock()
stats = {
    "compiled_calls": 0,
    "eager_calls": 0,
    "fallbacks": 0,
    "recompile_limit_hits": 0,
    "compiles": 0,
    "background_compiles": 0,
    "evictions": 0,
}


class _Structure:
    """One structure's compiled kernel: ready once a call through it has compiled."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fn: Callable[..., Any] | None = None
        self.ready = False
        self.queued = False
        self.uses = 0  # requests through this structure, halved every AGE_EVERY counted calls
        self.counted_in: object = None  # the request its last call was counted in
        self.error: str | None = None
        self.lock = threading.Lock()  # one compilation at a time


_structures: OrderedDict[tuple, _Structure] = OrderedDict()
#: structures not kept: (requests counted, the request last counted in), oldest first
_sightings: OrderedDict[tuple, tuple[int, object]] = OrderedDict()
_calls_since_aging = [0]
_logged_failures: set[str] = set()  # kernel names: at most len(KERNELS)
_queue: queue.Queue = queue.Queue()
_pending = threading.Condition()
_pending_count = [0]
_worker: list[threading.Thread] = []
_closing = threading.Event()


_thread = threading.local()  # .mode: this thread's override of the process's mode


def get_mode() -> str:
    """The calling thread's mode: its ``mode(...)`` override, else the process's."""
    return getattr(_thread, "mode", None) or _PROCESS_MODE


@contextlib.contextmanager
def mode(name: str) -> Iterator[None]:
    """Force a mode in the calling thread for the block (tests, the benchmark, ``warmup``):
    'auto' (by size, compiling in the background), 'eager' (never compile) or 'compiled'
    (always, in the caller); other threads keep theirs."""
    if name not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {name!r}")
    old = getattr(_thread, "mode", None)
    _thread.mode = name
    try:
        yield
    finally:
        _thread.mode = old


def use_compiled(n_elements: int) -> bool:
    m = get_mode()
    return m != "eager" and (m == "compiled" or n_elements >= CROSSOVER_ELEMENTS)


_config_lock = threading.Lock()
_config_users = [0]
_config_patch: list[Any] = []


@contextlib.contextmanager
def _trace_config() -> Iterator[None]:
    """Dynamo settings for the family kernels, entered by any number of threads at once.

    No duck sizing: by default two sizes that happen to be equal when a kernel is first traced
    (a regression request's 3 outputs per row and its 3 candidates) are assumed equal for
    good, and the next request, 5 outputs for 3 candidates, compiles again. Sizes that must
    be equal (the classes of the logits and of the weights) are still unified by the
    broadcasts that need them. The setting is global in torch, so it is set while any thread
    is inside and restored when the last leaves (a plain nested patch per thread could
    restore out of order).
    """
    with _config_lock:
        if _config_users[0] == 0:
            patch = torch.fx.experimental._config.patch(use_duck_shape=False)
            patch.__enter__()
            _config_patch.append(patch)
        _config_users[0] += 1
    try:
        yield
    finally:
        with _config_lock:
            _config_users[0] -= 1
            if _config_users[0] == 0:
                _config_patch.pop().__exit__(None, None, None)


def _fresh_copy(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its own code object: dynamo keeps its compiled entries on the code object."""
    copy = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = dict(fn.__kwdefaults__ or {})
    copy.__qualname__ = fn.__qualname__
    copy.__doc__ = fn.__doc__
    return copy


def _key(name: str, args: tuple[Any, ...], static: dict[str, Any]) -> tuple:
    """The structure of a call. Dimensions of size 1 are in it: dynamo specialises on them, so a
    graph traced with one output per row would otherwise compile again, in the caller's
    thread, for three."""
    described = tuple(
        (a.dtype, a.device.type, a.is_contiguous(), tuple(d == 1 for d in a.shape)) if isinstance(a, torch.Tensor) else type(a).__name__
        for a in args
    )
    return (name, tuple(sorted(static.items())), described)


@contextlib.contextmanager
def request() -> Iterator[None]:
    """One caller's request (an ``advisor.evaluate`` call, a whole stream): however many
    chunks it runs, it counts once per structure toward admission. Nested: the outer one."""
    old = getattr(_thread, "request", None)
    _thread.request = old or object()
    try:
        yield
    finally:
        _thread.request = old


def _counts(last: object) -> bool:
    """Whether a call counts: outside a request each call does; inside, the first per
    structure. Counting one advances the aging clock (under ``_lock``)."""
    token = getattr(_thread, "request", None)
    if token is not None and token is last:
        return False
    _calls_since_aging[0] += 1
    if _calls_since_aging[0] >= AGE_EVERY:
        _age()
    return True


def _admitted(key: tuple) -> int:
    """How many requests have called an auto-mode call's structure (this one included) if it
    may use, or queue, a compiled kernel; 0 if it runs eagerly. A kept structure may; a new
    one from its second request on, and, when the LRU is full, only once called by more
    requests than the least recently used structure, which it would evict. Others are only
    counted."""
    with _lock:
        st = _structures.get(key)
        if st is not None:
            return st.uses + (st.counted_in is not getattr(_thread, "request", None))
        seen, last = _sightings.pop(key, (0, None))
        if _counts(last):
            seen, last = seen + 1, getattr(_thread, "request", None)
        victim = next(iter(_structures.values())) if len(_structures) >= CACHE_SIZE else None
        if seen >= 2 and (victim is None or seen > victim.uses):
            return seen
        _sightings[key] = (seen, last)
        while len(_sightings) > SIGHTINGS:
            _sightings.popitem(last=False)
        return 0


def _age() -> None:
    """Halve every count (under ``_lock``); structures not kept whose count reaches 0 are
    forgotten."""
    _calls_since_aging[0] = 0
    for st in _structures.values():
        st.uses //= 2
    for key, (seen, last) in list(_sightings.items()):
        if seen // 2:
            _sightings[key] = (seen // 2, last)
        else:
            del _sightings[key]


def _structure(key: tuple, name: str, uses: int = 0) -> _Structure:
    """The structure for ``key``, most recently used now and its request counted (created
    with the ``uses`` counted before it was kept; the least recently used dropped beyond
    ``CACHE_SIZE``)."""
    with _lock:
        st = _structures.get(key)
        if st is not None:
            _structures.move_to_end(key)
            if _counts(st.counted_in):
                st.uses += 1
                st.counted_in = getattr(_thread, "request", None)
            return st
        st = _structures[key] = _Structure(name)
        st.uses = max(uses, 1)
        st.counted_in = getattr(_thread, "request", None)
        while len(_structures) > CACHE_SIZE:
            _structures.popitem(last=False)
            stats["evictions"] += 1
        return st


def _compile(st: _Structure, args: tuple[Any, ...], static: dict[str, Any]) -> Any:
    """Compile ``st`` by calling it on ``args``; returns the call's outputs (None on failure)."""
    with st.lock:
        if st.error is not None:
            return None
        try:
            if st.fn is None:
                st.fn = torch.compile(_fresh_copy(KERNELS[st.name]), dynamic=True, fullgraph=True)
            with _trace_config():
                out = st.fn(*args, **static)
        except Exception as exc:  # any compiler failure: never crash the request because of it
            _fail(st, exc)
            return None
        if not st.ready:
            stats["compiles"] += 1
        st.ready = True
        return out


def _fail(st: _Structure, exc: BaseException) -> None:
    if _closing.is_set() or sys.is_finalizing() or "after shutdown" in str(exc) or "interpreter shutdown" in str(exc):
        return  # the process is going away: not a verdict on the structure
    st.error = f"{type(exc).__name__}: {exc}"
    stats["fallbacks"] += 1
    if "RecompileLimit" in type(exc).__name__:
        stats["recompile_limit_hits"] += 1
    with _lock:
        first = st.name not in _logged_failures
        _logged_failures.add(st.name)
    if first:
        log.warning("torch.compile failed for the %s kernel; this structure stays eager (%s)", st.name, st.error[:300])


def _few_rows(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments cut to ``BACKGROUND_ROWS`` rows: the rows (first, second and last
    arguments: predictions, targets, sample weights) copied, so that the compile holds no
    view of the caller's inputs; per-candidate parameters whole."""
    n = args[0].shape[0]
    take = min(n, BACKGROUND_ROWS)
    last = len(args) - 1
    return tuple(
        a[:take].clone() if isinstance(a, torch.Tensor) and i in (0, 1, last) and a.dim() and a.shape[0] == n else a
        for i, a in enumerate(args)
    )


def _background(st: _Structure, args: tuple[Any, ...], static: dict[str, Any]) -> bool:
    """Queue ``st`` for the compile thread (a daemon started on first use; ``shutdown`` runs at
    exit); False when closing or ``MAX_QUEUED`` are queued already."""
    if _closing.is_set():
        return False
    with _pending:
        if _pending_count[0] >= MAX_QUEUED:
            return False
        _pending_count[0] += 1
    _queue.put((st, _few_rows(args), static))
    with _lock:
        if not _worker or not _worker[0].is_alive():
            if not _worker:  # once: the exit handler serves every thread started after
                atexit.register(_at_exit)
            _worker[:] = [threading.Thread(target=_compile_loop, name="advisor-compile", daemon=True)]
            _worker[0].start()
    return True


def _done_one() -> None:
    with _pending:
        _pending_count[0] -= 1
        _pending.notify_all()


class _Abandoned(Exception):
    """Raised in the compile thread by the exit hook: the compilation under way is given up."""


def _compile_loop() -> None:
    try:
        while True:
            st, args, static = _queue.get()
            try:
                if not _closing.is_set() and not st.ready and _compile(st, args, static) is not None:
                    stats["background_compiles"] += 1
            finally:
                _done_one()
    except _Abandoned:  # outside a compile (between two): the process is exiting
        return


def shutdown(timeout: float | None = None) -> bool:
    """Compile nothing more: queued structures are dropped (they stay eager), later calls run
    eagerly, and the compile under way is waited for, up to ``timeout`` (``SHUTDOWN_WAIT_S``;
    0 only closes). True if none is left. For a process about to exit: there is no reopening."""
    _closing.set()
    while True:
        try:
            _queue.get_nowait()
        except queue.Empty:
            break
        _done_one()
    return wait_compiled(SHUTDOWN_WAIT_S if timeout is None else timeout)


def _at_exit() -> bool:
    """The interpreter's exit: close (``shutdown``), give the compile under way up rather
    than wait for it, and wait (``EXIT_WAIT_S`` at most) until its thread is out of torch's
    compiler. True if it is."""
    shutdown(timeout=0)
    worker = _worker[0] if _worker else None
    with _pending:
        under_way = _pending_count[0] > 0
    if under_way and worker is not None and worker.ident is not None and worker.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(_Abandoned))
    return wait_compiled(EXIT_WAIT_S)


def wait_compiled(timeout: float | None = None) -> bool:
    """Wait until every queued background compilation is done; False if ``timeout`` passed first."""
    with _pending:
        return _pending.wait_for(lambda: _pending_count[0] == 0, timeout)


def run(name: str, args: tuple[Any, ...], static: dict[str, Any], *, compiled: bool) -> tuple[Any, str]:
    """Run one kernel call; returns the outputs and the path taken ('fused-compiled' or 'fused-eager')."""
    cancel.check()
    key = _key(name, args, static) if compiled else None
    uses = 0 if key is None or get_mode() == "compiled" else _admitted(key)
    if key is not None and (get_mode() == "compiled" or uses):
        st = _structure(key, name, uses)
        if st.ready and st.error is None:
            try:
                with _trace_config():
                    out = st.fn(*args, **static)
                stats["compiled_calls"] += 1
                return out, "fused-compiled"
            except Exception as exc:
                _fail(st, exc)
        elif st.error is None and get_mode() == "compiled" and not _closing.is_set():  # forced: compile here and now
            out = _compile(st, args, static)
            if out is not None:
                stats["compiled_calls"] += 1
                return out, "fused-compiled"
        elif st.error is None and not st.queued and args[0].shape[0] >= 2:  # a single row would trace its size as a constant
            st.queued = _background(st, args, static)
    stats["eager_calls"] += 1
    return KERNELS[name](*args, **static), "fused-eager"


def ready(name: str, args: tuple[Any, ...], static: dict[str, Any]) -> bool:
    """Whether a compiled call with this structure would run compiled now (not eagerly while
    it compiles): what a caller sizes its chunks for. Does not touch the LRU's order."""
    if get_mode() == "compiled" and not _closing.is_set():
        return True  # forced: it compiles in the caller if it must
    with _lock:
        st = _structures.get(_key(name, args, static))
    return st is not None and st.ready and st.error is None


def broken_kernels() -> dict[str, str]:
    """Kernels with a structure that failed to compile, with the first reason (bench table, health checks)."""
    with _lock:
        out: dict[str, str] = {}
        for st in _structures.values():
            if st.error is not None:
                out.setdefault(st.name, st.error)
        return out


def compiled_structures() -> int:
    """How many structures are compiled and kept."""
    with _lock:
        return sum(st.ready for st in _structures.values())


def reset() -> None:
    """Forget compiled structures and failures (tests, the compile-cost probe)."""
    wait_compiled()
    with _lock:
        _structures.clear()
        _sightings.clear()
        _calls_since_aging[0] = 0
        _logged_failures.clear()
