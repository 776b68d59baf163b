"""One row of the evaluation throughput benchmark (``advisor.evaluation.bench.run``).

The same rows travel through ``loss-advisor bench``, the Benchmark RPC (as JSON) and the
pytest benchmarks, so this module imports neither torch nor scikit-learn. Ratios are taken
between timings of one run on one machine: absolute seconds move with the machine's load,
the ratios much less. Fields a run did not measure (a quick run skips the fresh-process
probes of compile cost and peak memory) are ``None``, never a placeholder.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BenchRow"]


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
    single_loss: str = Field(description="the candidate timed alone: the slowest one in the loop")
    single_s: float = Field(description="advisor.evaluate of that one candidate, compiled")
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
