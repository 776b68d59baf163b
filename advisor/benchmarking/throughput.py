"""Throughput benchmark of ``advisor.evaluate``: fused candidates against a loop of torch.nn losses.

One runner serves ``loss-advisor bench``, the Benchmark RPC and ``benchmarks/``, so the three
print the same rows. For each case (``CASES``) and mode (values only, with diagnostics) it
times, on the same data in the same process:

* ``fused_s``: one ``advisor.evaluate`` call over the K candidates in forced compiled mode,
  after one warm-up call in the row's own fresh interpreter (the warm-up compiles;
  ``compile_s`` is its time minus ``fused_s``: dynamo's tracing plus inductor's build, or
  only its load where inductor's disk cache holds the structure from an earlier run).
  A quick run is a smoke run in seconds, so it compiles nothing: it times the fused kernels
  eagerly (``path`` "fused-eager", ``compile_s`` None), what a fresh process serves while
  its kernels compile in the background;
* ``loop_s``: a Python loop over the K loss modules (``advisor.losses.build``, which is
  ``torch.nn.<Name>`` where torch has the loss): forward only for values, forward and
  ``torch.autograd.grad`` w.r.t. the predictions with diagnostics, since diagnostics report
  gradients;
* ``single_s``: the costliest of the K candidates, each evaluated alone through the same
  compiled path (``single_from`` "each"), which is what ``fused_over_single`` is meant to
  compare with: fusing K costs that many times the dearest one alone. A quick run times only
  the candidate slowest in the loop (``single_from`` "loop"), to spare K compilations; since
  compiled costs need not rank as the loop's do, its ratio can only overstate fusion's cost;
* ``read_bound_s``: the fastest one-pass reduction over each input, a floor for any pass over
  the same bytes;
* ``compile_cold_s``, ``compile_warm_s`` and ``peak_extra_bytes``: unless ``quick``, a fresh
  interpreter per row (``probes.probe_in_subprocess``) times the structure's first call with an
  empty compile cache (cold) and again after ``torch._dynamo.reset()`` with inductor's disk
  cache filled (warm), then measures one full-size call's peak memory beyond its inputs with
  ``probes.peak_memory`` (allocator events; method in that module). A quick run measures the
  peak in-process on CUDA only, where it is free and silent.

The sides alternate ``repeats`` times and each keeps its fastest call: a shared machine only
ever adds time, so the minimum is the least noisy estimate of what the code costs.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from typing import Any

import torch

from advisor.benchmarking.cases import data, label, modules
from advisor.benchmarking.probes import (
    Stopped,
    check_cancel,
    exit_with_parent,
    measure_crossover,
    peak_memory,
    probe_in_subprocess,
    run_module,
)
from advisor.benchmarking.probes import timed as _timed
from advisor.errors import CancelledError, InvalidInputError
from advisor.evaluation import dispatch
from advisor.evaluation.inputs import resolve_device
from advisor.schema.benchmark import (
    CASES,
    QUICK_CASES,
    STANDARD_CASES,
    BenchRow,
    Case,
    format_table,
)

__all__ = ["CASES", "QUICK_CASES", "STANDARD_CASES", "BenchRow", "format_table", "measure_crossover", "run"]

Progress = Callable[[int, int, str], None]


def _names(cases: list[str] | None, quick: bool) -> list[str]:
    if cases is None:
        return list(QUICK_CASES if quick else STANDARD_CASES)
    for i, name in enumerate(cases):
        if name not in CASES:
            raise InvalidInputError(
                f"unknown benchmark case {name!r}; the cases are {', '.join(CASES)}",
                field=f"cases[{i}]",
                expected=list(CASES),
                got=name,
            )
    return list(cases)


def run(
    cases: list[str] | None = None,
    *,
    diagnostics: bool | None = None,
    device: str = "auto",
    quick: bool = False,
    repeats: int = 3,
    progress: Progress | None = None,
    cancel: Any = None,
) -> list[BenchRow]:
    """One row per (case, mode). ``cases`` None: the quick cases if ``quick``, else the standard ones.

    ``diagnostics`` None runs both modes, values only first. ``progress(done, total, what)`` is
    called before each row and once at the end, so a caller can draw a bar. ``cancel`` (an
    event, or a callable returning True) is checked before every timed call, and by each
    evaluation (before its kernel calls, ``advisor.cancel``): once set, the rows finished so
    far are returned.

    A full row runs in a fresh interpreter of its own (``_row_in_child``): it compiles for
    minutes, which no thread can interrupt, and its compiled structures and their memory
    are the benchmark's, not the serving process's. Stopping it kills that process (and its
    probe) within ``probes.POLL_S``.
    """
    names = _names(cases, quick)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise InvalidInputError("must be a positive integer", field="repeats", expected=">= 1", got=repeats)
    dev = resolve_device(device)
    modes = (False, True) if diagnostics is None else (bool(diagnostics),)
    total = len(names) * len(modes)
    rows: list[BenchRow] = []
    try:
        for name in names:
            check_cancel(cancel)
            case = CASES[name]
            x, y = data(case, dev) if quick else (None, None)
            for diag in modes:
                if progress is not None:
                    progress(len(rows), total, f"{name} ({'diagnostics' if diag else 'values'})")
                if quick:
                    rows.append(_row(name, case, x, y, diag, repeats, full=False, cancel=cancel))
                else:
                    rows.append(_row_in_child(name, diag, dev, repeats, cancel))
            del x, y
            gc.collect()
    except (Stopped, CancelledError):  # between timed calls, or inside an evaluation
        return rows
    if progress is not None:
        progress(total, total, "done")
    return rows


def _row_in_child(
    name: str, diag: bool, dev: torch.device, repeats: int, cancel: Any, *, full: bool = True
) -> BenchRow:
    """A row (``full`` or quick) timed by ``python -m advisor.benchmarking.throughput`` in its
    own session, killed with its probe as soon as ``cancel`` is set (``Stopped``)."""
    args = [name, str(int(diag)), str(dev), str(repeats), str(int(full))]
    status, out, err = run_module(
        "advisor.benchmarking.throughput", args, env={"KINETO_LOG_LEVEL": "3"}, cancel=cancel
    )
    if status != 0:
        raise RuntimeError(f"benchmark row {name} failed in its process: {err.strip()[-800:]}")
    return BenchRow.model_validate(json.loads(out.strip().splitlines()[-1]))


def _fused(x: torch.Tensor, y: torch.Tensor, cands: list[Any], diag: bool, compiled: bool, cancel: Any = None) -> Any:
    """One ``advisor.evaluate`` call; ``cancel`` stops it at its next kernel call or slot."""
    import advisor

    with dispatch.mode("compiled" if compiled else "eager"):
        return advisor.evaluate(x, y, cands, device=x.device, diagnostics=diag, cancel=cancel)


def _loop_one(module: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, diag: bool) -> float:
    if not diag:
        with torch.no_grad():
            return float(module(x, y))
    leaf = x.detach().requires_grad_(True)
    loss = module(leaf, y)
    torch.autograd.grad(loss, leaf)
    return float(loss.detach())


def _read(t: torch.Tensor, dev: torch.device) -> float:
    """Fastest one-pass reduction over ``t`` (float tensors also get the norm)."""
    passes = [t.sum, t.amax]
    if t.is_floating_point():
        passes.append(lambda: torch.linalg.vector_norm(t))
    return min(_timed(p, dev) for p in passes)


def _row(
    name: str, case: Case, x: torch.Tensor, y: torch.Tensor, diag: bool, repeats: int, *, full: bool, cancel: Any = None,
) -> BenchRow:
    """``full``: compiled, every candidate timed alone, the fresh-process probes; else the quick
    row: eager, only the loop's dearest candidate alone, no probes."""
    dev = x.device
    fallbacks_before = dispatch.stats["fallbacks"]

    def timed(fn: Callable[[], Any], device: torch.device) -> float:
        check_cancel(cancel)
        return _timed(fn, device)

    cands = list(case.candidates)
    mods = modules(case, dev, x.dtype)
    first = timed(lambda: _fused(x, y, cands, diag, full, cancel), dev)
    report = _fused(x, y, cands, diag, full, cancel)
    skipped = [r.loss for r in report.results if r.skipped]
    if skipped:
        raise RuntimeError(f"benchmark case {name} skipped {skipped}: the case is wrong, not the data")
    paths = sorted({str(r.path) for r in report.results})
    del report
    for m in mods:
        check_cancel(cancel)
        _loop_one(m, x, y, diag)
    fused_t: list[float] = []
    loop_t: list[float] = []
    read_t: list[float] = []
    per_cand = [float("inf")] * len(mods)
    for _ in range(repeats):
        fused_t.append(timed(lambda: _fused(x, y, cands, diag, full, cancel), dev))
        spent = 0.0
        for j, m in enumerate(mods):
            t = timed(lambda m=m: _loop_one(m, x, y, diag), dev)
            per_cand[j] = min(per_cand[j], t)
            spent += t
        loop_t.append(spent)
        read_t.append(_read(x, dev) + _read(y, dev))
    heavy = max(range(len(mods)), key=per_cand.__getitem__)
    alone = range(len(cands)) if full else (heavy,)
    for j in alone:
        check_cancel(cancel)
        _fused(x, y, [cands[j]], diag, full, cancel)  # compiles each single-candidate structure
    single_t = {j: float("inf") for j in alone}
    for _ in range(repeats):
        for j in alone:
            single_t[j] = min(single_t[j], timed(lambda j=j: _fused(x, y, [cands[j]], diag, full, cancel), dev))
        fused_t.append(timed(lambda: _fused(x, y, cands, diag, full, cancel), dev))
    dearest = max(single_t, key=single_t.__getitem__)
    fused_s, loop_s, single_s = min(fused_t), min(loop_t), single_t[dearest]
    gc.collect()
    probed: dict[str, Any] = {}
    check_cancel(cancel)
    if full:
        probed = probe_in_subprocess(name, diag, dev) or {}
    elif dev.type == "cuda":
        peak, method = peak_memory(lambda: _fused(x, y, cands, diag, full, cancel), dev)
        probed = {"peak_extra_bytes": peak, "peak_method": method}
    nbytes = x.numel() * x.element_size() + y.numel() * y.element_size()
    return BenchRow(
        case=name,
        family=case.family,
        n_rows=case.n_rows,
        n_classes=case.n_classes,
        k=len(cands),
        diagnostics=diag,
        device=str(dev),
        dtype=str(x.dtype).replace("torch.", ""),
        repeats=repeats,
        path=",".join(paths),
        fused_s=fused_s,
        loop_s=loop_s,
        speedup=loop_s / fused_s,
        single_loss=label(cands[dearest]),
        single_from="each" if full else "loop",
        single_s=single_s,
        fused_over_single=fused_s / single_s,
        bytes_read=nbytes,
        read_bound_s=min(read_t),
        gb_per_s=nbytes / fused_s / 1e9,
        compile_s=max(0.0, first - fused_s) if full else None,
        fallbacks=dispatch.stats["fallbacks"] - fallbacks_before,
        **probed,
    )




def _main(argv: list[str]) -> int:
    """One row (name, diagnostics 0/1, device, repeats, full 0/1) as JSON on the last line."""
    exit_with_parent()
    name, diag, device, repeats, full = argv[0], argv[1] == "1", argv[2], int(argv[3]), argv[4] == "1"
    dev = resolve_device(device)
    x, y = data(CASES[name], dev)
    print(_row(name, CASES[name], x, y, diag, repeats, full=full).model_dump_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
