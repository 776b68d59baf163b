"""Row chunks sized so that the kernels' temporaries stay under a fixed budget whatever K is.

The estimate is per row and per candidate: eager mode materialises each candidate's column and
a handful of temporaries, a compiled kernel keeps them in registers except what feeds an extern
call (the class-weight matmul of the multiclass kernel needs the row's log-probabilities).
Diagnostics keep per-sample losses and gradient magnitudes for the whole data (they feed exact
quantiles), so candidates are processed in blocks whose outputs fit ``DIAG_BUDGET_BYTES``.

Bound on extra memory (beyond the caller's inputs and the report):
    values only:   about CHUNK_BUDGET_BYTES (64 MiB);
    diagnostics:   CHUNK_BUDGET_BYTES + max(DIAG_BUDGET_BYTES, 2 · samples · itemsize),
                   the second term being one candidate's per-sample losses and gradients.
These are estimates, not measurements: peak memory has not been measured yet.
"""

from __future__ import annotations

CHUNK_BUDGET_BYTES = 64 << 20
DIAG_BUDGET_BYTES = 256 << 20
MIN_ROWS = 2  # a chunk of one row would make dynamo specialise on the size 1


def row_bytes(kernel: str, k: int, row_elements: int, n_classes: int, n_offsets: int, itemsize: int, *, diag: bool, compiled: bool) -> int:
    """Estimated temporary bytes per row of one kernel call with K candidates."""
    if kernel in ("regression", "binary"):
        per = (2 if compiled else 10) if not diag else 16
        return max(1, per * k * row_elements * itemsize)
    c = n_classes
    if diag:
        return (10 * k * c + 16 * k) * itemsize
    per_row = (2 + 2 * n_offsets) * c if compiled else (3 + 4 * n_offsets) * c
    return (per_row + 16 * k) * itemsize


def chunk_rows(n_rows: int, per_row_bytes: int, budget: int = CHUNK_BUDGET_BYTES) -> list[tuple[int, int]]:
    """[start, stop) row ranges; the last range absorbs a remainder smaller than MIN_ROWS."""
    rows = max(MIN_ROWS, budget // max(1, per_row_bytes))
    bounds = []
    start = 0
    while start < n_rows:
        stop = min(n_rows, start + rows)
        if n_rows - stop < MIN_ROWS:
            stop = n_rows
        bounds.append((start, stop))
        start = stop
    return bounds


def candidate_blocks(k: int, n_samples: int, itemsize: int, budget: int = DIAG_BUDGET_BYTES) -> list[tuple[int, int]]:
    """[start, stop) candidate ranges whose per-sample outputs (losses and gradients) fit the budget."""
    per_candidate = 2 * n_samples * itemsize
    size = max(1, budget // max(1, per_candidate))
    return [(i, min(k, i + size)) for i in range(0, k, size)]
