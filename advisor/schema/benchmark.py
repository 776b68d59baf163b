"""The evaluation throughput benchmark's cases and rows (``advisor.benchmarking.throughput.run``).

A case is one candidate family at one size. The regression family is the eight losses the
fused kernel covers for real-valued targets; the multiclass family is the cross-entropy
variants a classification request is usually compared on (plain, label-smoothed,
class-weighted, focal, logit-adjusted). Quick cases are the same families at sizes that take
seconds, for smoke runs and unit tests.

The same rows travel through ``loss-advisor bench``, the Benchmark RPC (as JSON) and the
pytest benchmarks, so this module imports neither torch nor scikit-learn. Ratios are taken
between timings of one run on one machine: absolute seconds move with the machine's load,
the ratios much less. Fields a run did not measure (a quick run skips the fresh-process
probes of compile cost and peak memory) are ``None``, never a placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CASES", "QUICK_CASES", "REGRESSION", "STANDARD_CASES",
    "AnchorRow", "BenchRow", "Case", "LongLivedReport", "LongLivedRow",
]  # fmt: skip

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


class BenchRow(BaseModel):
    """One case, values-only or with diagnostics, on one device."""

    model_config = ConfigDict(frozen=True)

    case: str
    family: str = Field(description="'regression' or 'multiclass'")
    n_rows: int
    n_classes: int | None = Field(None, description="classes per row; None for regression")
    k: int = Field(description="candidates evaluated together")
    diagnostics: bool
    device: str
    dtype: str
    repeats: int = Field(description="timed calls per side; every time is the fastest of them")
    path: str = Field(description="how the fused call ran: 'fused-compiled', 'fused-eager', ...")
    fused_s: float = Field(description="one advisor.evaluate call over the K candidates")
    loop_s: float = Field(
        description="a Python loop of the K torch.nn loss modules (forward+backward with diagnostics)"
    )
    speedup: float = Field(description="loop_s / fused_s")
    single_loss: str = Field(description="the candidate timed alone that took longest (see single_from)")
    single_s: float = Field(description="advisor.evaluate of that one candidate alone, compiled")
    single_from: str = Field(
        "loop",
        description=(
            "'each': every candidate was timed alone and single_loss is the dearest; 'loop': only"
            " the candidate slowest in the torch.nn loop was (quick runs), which can only overstate fused/single"
        ),
    )
    fused_over_single: float = Field(description="fused_s / single_s")
    bytes_read: int = Field(description="bytes of predictions and targets")
    read_bound_s: float = Field(description="the fastest one-pass reduction over the same bytes")
    gb_per_s: float = Field(description="bytes_read / fused_s, in 1e9 bytes per second")
    compile_s: float | None = Field(
        None,
        description=(
            "the first call's time minus fused_s: tracing and compiling the K-candidate structure"
            " with whatever compile caches the process and disk already hold (0 when an earlier"
            " case compiled the same structure)"
        ),
    )
    compile_cold_s: float | None = Field(
        None,
        description="first call of the structure in a fresh process with an empty compile cache, minus a steady call",
    )
    compile_warm_s: float | None = Field(
        None,
        description="the same after torch._dynamo.reset(), inductor's disk cache filled by the cold call",
    )
    peak_extra_bytes: int | None = Field(
        None, description="peak memory allocated by one call beyond its inputs"
    )
    peak_method: str | None = Field(None, description="how peak_extra_bytes was measured")
    fallbacks: int = Field(
        0,
        description=(
            "kernel structures that fell back to eager during this row (failed compilations, "
            "dynamo's recompile limit among them): a timing with any is not the compiled path's"
        ),
    )


COLUMNS = (
    "case", "diag", "K", "fused ms", "loop ms", "speedup", "single ms", "fused/single",
    "read-bound ms", "GB/s", "compile s", "cold s", "warm s", "peak MiB",
)  # fmt: skip


def _num(v: float | None, scale: float = 1.0, digits: int = 3) -> str:
    return "-" if v is None else f"{v * scale:.{digits}g}"


def format_table(rows: list[BenchRow]) -> str:
    """A plain-text table for people; times in ms, compile in s, memory in MiB.

    Lives with the row model, free of torch, so that a remote ``loss-advisor bench --server``
    prints the very table the in-process runner prints."""
    table = [COLUMNS]
    for r in rows:
        peak = None if r.peak_extra_bytes is None else r.peak_extra_bytes / 2**20
        table.append(
            (
                r.case, "yes" if r.diagnostics else "no", str(r.k),
                _num(r.fused_s, 1e3), _num(r.loop_s, 1e3), _num(r.speedup), _num(r.single_s, 1e3),
                _num(r.fused_over_single), _num(r.read_bound_s, 1e3), _num(r.gb_per_s),
                _num(r.compile_s), _num(r.compile_cold_s), _num(r.compile_warm_s), _num(peak, digits=4),
            )
        )  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if rows:
        singles = sorted({f"{r.case}{'' if r.single_from == 'each' else ' (loop)'}: {r.single_loss}" for r in rows})
        methods = sorted({r.peak_method for r in rows if r.peak_method})
        lines.append("")
        lines.append(f"{rows[0].dtype} on {rows[0].device}; fastest of {rows[0].repeats} call(s) per side.")
        if any(r.compile_s is None and "eager" in r.path for r in rows):
            lines.append(
                "fused: eager kernels, nothing compiled (a quick run; without --quick the"
                " compiled path is timed)."
            )
        lines.append(
            "speedup = loop / fused; fused/single = fused / the dearest candidate alone, fused path"
            " (each timed alone; '(loop)': only the loop's slowest)."
        )
        lines.append("single: " + "; ".join(singles))
        lines.append(
            "compile: this run's first call minus fused; cold/warm: a fresh process with an empty"
            " compile cache, then after a dynamo reset with the disk cache filled."
        )
        if methods:
            lines.append(f"peak: memory beyond the inputs, from {'; '.join(methods)}.")
        fell = [f"{r.case} ({'diagnostics' if r.diagnostics else 'values'}): {r.fallbacks}" for r in rows if r.fallbacks]
        if fell:
            lines.append("structures that fell back to eager (their rows do not time the compiled path): " + "; ".join(fell))
    return "\n".join(line.rstrip() for line in lines)


class AnchorRow(BaseModel):
    """``advisor.evaluate`` and its anchors at one size and layout (``benchmarking.anchors``).

    ``seconds`` holds each side's fastest call: 'advisor' always; with mode 'values' also
    'hand' (a hand-fused compiled function of the same formulas), 'functional' (the loop of
    torch.nn.functional calls) and 'read' (one reduction over each input); with mode
    'diagnostics' also 'autograd_loop' (reduction='none' plus torch.autograd.grad per candidate).
    Rows of mode 'layout' time the diagnostics over one data layout each, for the spread.
    """

    model_config = ConfigDict(frozen=True)

    mode: str = Field(description="'values', 'diagnostics' or 'layout'")
    layout: str
    n_rows: int
    device: str
    seconds: dict[str, float]

    def ratio(self, over: str, under: str) -> float | None:
        """seconds[over] / seconds[under], None when either side is missing."""
        if over not in self.seconds or under not in self.seconds:
            return None
        return self.seconds[over] / self.seconds[under]


def _size(n: int) -> str:
    return f"{n:.0e}".replace("e+0", "e").replace("e+", "e")


def format_anchors(rows: list[AnchorRow]) -> str:
    """The anchors as plain text: times in ms and the ratios the targets name."""
    lines = []
    for r in rows:
        s = {k: f"{v * 1e3:.3g} ms" for k, v in r.seconds.items()}
        if r.mode == "values":
            lines.append(
                f"values N={_size(r.n_rows)}: advisor {s['advisor']}, hand-fused {s['hand']} "
                f"(advisor/hand {_num(r.ratio('advisor', 'hand'))}), F loop {s['functional']} "
                f"(F loop/advisor {_num(r.ratio('functional', 'advisor'))}), read bound {s['read']} "
                f"(advisor/read {_num(r.ratio('advisor', 'read'))})"
            )
        elif r.mode == "diagnostics":
            lines.append(
                f"diagnostics N={_size(r.n_rows)}: advisor {s['advisor']}, reduction='none' + autograd.grad "
                f"loop {s['autograd_loop']} (loop/advisor {_num(r.ratio('autograd_loop', 'advisor'))})"
            )
    layouts = [r for r in rows if r.mode == "layout"]
    if layouts:
        times = {r.layout: r.seconds["advisor"] for r in layouts}
        lines.append(
            f"layouts, diagnostics N={_size(layouts[0].n_rows)}: "
            + ", ".join(f"{name} {t * 1e3:.3g} ms" for name, t in times.items())
            + f"; spread {_num(max(times.values()) / min(times.values()))}"
        )
    if rows:
        lines.append(f"{len(REGRESSION)} regression losses on {rows[0].device}; each side's fastest call, sides alternating.")
    return "\n".join(lines)


class LongLivedRow(BaseModel):
    """One timed case, fresh and after the mixed requests (``benchmarking.longlived``)."""

    model_config = ConfigDict(frozen=True)

    case: str
    diagnostics: bool
    fresh_s: float = Field(description="fastest call right after the case was compiled")
    fresh_path: str
    after_s: float = Field(description="fastest call after the mixed requests, nothing recompiled on purpose")
    after_path: str = Field(description="'fused-eager' here: the structure was evicted or never came back")

    @property
    def ratio(self) -> float:
        """after_s / fresh_s: 1 when the long-lived process is as fast as the fresh one."""
        return self.after_s / self.fresh_s


class LongLivedReport(BaseModel):
    """A process before and after serving many mixed requests."""

    model_config = ConfigDict(frozen=True)

    device: str
    requests: int = Field(description="mixed requests served between the two timings")
    requests_s: float = Field(description="seconds the mixed requests took, background compiles running")
    drain_s: float = Field(0.0, description="seconds then spent waiting for the background compiles they queued")
    stopped: bool = Field(False, description="cancelled before the end: the rows are what was measured")
    rows: list[LongLivedRow]
    counters: dict[str, int] = Field(
        description=(
            "the dispatch counters over the run: compiles (in the caller), background_compiles,"
            " evictions, fallbacks, recompile_limit_hits, compiled_calls, eager_calls"
        )
    )
    structures_kept: int = Field(description="compiled structures in the LRU at the end")
    broken_kernels: dict[str, str] = Field(default_factory=dict, description="kernels left eager, with the reason")
    rss_before_bytes: int | None = None
    rss_after_bytes: int | None = None

    def format(self) -> str:
        """Plain text: one line per case, then the counters."""
        lines = [
            f"{self.requests} mixed requests on {self.device} in {self.requests_s:.1f} s, then"
            f" {self.drain_s:.1f} s for the background compiles they queued" + (" (stopped)" if self.stopped else "")
        ]
        for r in self.rows:
            mode = "diagnostics" if r.diagnostics else "values"
            lines.append(
                f"  {r.case} ({mode}): fresh {r.fresh_s * 1e3:.3g} ms, after {r.after_s * 1e3:.3g} ms,"
                f" after/fresh {r.ratio:.2f}" + ("" if r.after_path == r.fresh_path else f" (paths {r.fresh_path} -> {r.after_path})")
            )
        c = self.counters
        lines.append(
            f"compiles {c.get('compiles', 0)} (background {c.get('background_compiles', 0)}), evictions"
            f" {c.get('evictions', 0)}, fallbacks {c.get('fallbacks', 0)}, recompile-limit hits"
            f" {c.get('recompile_limit_hits', 0)}, structures kept {self.structures_kept}"
        )
        if self.rss_before_bytes is not None and self.rss_after_bytes is not None:
            mib = 2**20
            lines.append(
                f"resident memory {self.rss_before_bytes / mib:.0f} -> {self.rss_after_bytes / mib:.0f} MiB"
                f" ({(self.rss_after_bytes - self.rss_before_bytes) / mib:+.1f})"
            )
        lines.extend(f"broken kernel {name}: {why}" for name, why in self.broken_kernels.items())
        return "\n".join(lines)
