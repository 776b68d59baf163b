"""The benchmark table for rows that came from a server, without the compute stack.

``advisor.evaluation.bench.format_table`` is the table's definition, but that module imports
torch, which ``loss-advisor bench --server`` must not. This is the same rendering from the
light ``BenchRow`` model; a test checks both print the same text for the same rows, so the
two cannot drift apart unnoticed.
"""

from __future__ import annotations

from advisor.schema.benchmark import BenchRow

COLUMNS = (
    "case", "diag", "K", "fused ms", "loop ms", "speedup", "single ms", "fused/single",
    "read-bound ms", "GB/s", "compile s", "peak MiB",
)  # fmt: skip


def _num(v: float | None, scale: float = 1.0, digits: int = 3) -> str:
    return "-" if v is None else f"{v * scale:.{digits}g}"


def format_table(rows: list[BenchRow]) -> str:
    """A plain-text table for people; times in ms, compile in s, memory in MiB."""
    table = [COLUMNS]
    for r in rows:
        peak = None if r.peak_extra_bytes is None else r.peak_extra_bytes / 2**20
        table.append(
            (
                r.case, "yes" if r.diagnostics else "no", str(r.k),
                _num(r.fused_s, 1e3), _num(r.loop_s, 1e3), _num(r.speedup), _num(r.single_s, 1e3),
                _num(r.fused_over_single), _num(r.read_bound_s, 1e3), _num(r.gb_per_s),
                _num(r.compile_s), _num(peak, digits=4),
            )
        )  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if rows:
        first = rows[0]
        singles = sorted({f"{r.case}: {r.single_loss}" for r in rows})
        methods = sorted({r.peak_method for r in rows if r.peak_method})
        lines.append("")
        lines.append(
            f"{first.dtype} on {first.device}; fastest of {first.repeats} call(s) per side."
        )
        lines.append(
            "speedup = loop / fused; fused/single = fused / the loop's slowest loss alone, "
            "fused path."
        )
        lines.append("single: " + "; ".join(singles))
        if methods:
            lines.append(f"peak: memory beyond the inputs, from {'; '.join(methods)}.")
    return "\n".join(line.rstrip() for line in lines)
