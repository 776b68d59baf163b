"""Row chunks sized so that the kernels' temporaries stay under a fixed budget whatever K is.

``row_bytes`` is per row and depends on what a call returns (the kernels' ``out``): "values"
and "stats" write nothing per sample (a compiled kernel keeps each candidate's column in
registers; eager mode materialises a few temporaries at a time), "rows" writes each
candidate's per-sample loss and gradient magnitude. Rows are written for the quantile
sample (``diagnostics.QUANTILE_SAMPLE`` rows at most, by default) and, for every row, only
where the caller asked for them: reduction='none' or exact quantiles. Those blocks of
candidates are bounded by ``DIAG_BUDGET_BYTES`` (``candidate_blocks``).

Bound on extra memory (torch allocations beyond the caller's inputs): values and diagnostics
by sample, ``CHUNK_BUDGET_BYTES`` plus the sample's rows (2 · K · m · itemsize: 4 MiB for
eight float32 candidates at m = 65,536) and the baseline's evaluation on at most
``baselines.SUBSAMPLE_ELEMENTS`` entries; with rows for every row, ``CHUNK_BUDGET_BYTES`` +
max(``DIAG_BUDGET_BYTES``, 2 · samples · itemsize), the second term one block's per-sample
losses and gradients (one candidate's when a single one exceeds the budget).
"""

from __future__ import annotations

CHUNK_BUDGET_BYTES = 64 << 20
#: Temporaries per element of a compiled elementwise kernel beyond what it writes: one
#: element for the regression slots, two for the binary ones (measured with
#: ``probes.peak_memory``, float32, CPU, 4e6 rows, eight and four slots).
COMPILED_TEMPORARIES = {"regression": 1, "binary": 2}
#: The state pass ("stats") keeps about one more element per slot while it reduces (log-cosh
#: and Barron's loss up to 3.5 each, the others none, measured at 2.8e6 rows): one per slot
#: bounds it. Chunks of 2e6 rows also run faster than one of 1e7 (fresh pages for temporaries).
COMPILED_STATE_TEMPORARIES_PER_SLOT = 1
DIAG_BUDGET_BYTES = 256 << 20
MIN_ROWS = 2  # a chunk of one row would make dynamo specialise on the size 1


def row_bytes(kernel: str, k: int, row_elements: int, n_classes: int, n_offsets: int, itemsize: int, *, mode: str, compiled: bool) -> int:
    """Temporary bytes per row of one kernel call with K candidates returning ``mode``.

    Elementwise kernels: compiled, the candidates' columns stay in registers and only the
    per-sample outputs (2K per element for "rows") are written; eager, each candidate's
    temporaries are freed before the next, so their count does not grow with K. Multiclass
    kernels reduce each row of C scores to a few numbers per slot; eager mode materialises a
    few (n, C) tensors at a time, and logit-adjusted slots their shifted logits.
    """
    r, c = row_elements, n_classes
    written = 2 * k if mode == "rows" else 0
    if kernel in ("regression", "binary"):
        if mode == "values":
            per = 2 if compiled else 8
        elif compiled:
            per = written + COMPILED_TEMPORARIES[kernel] + (COMPILED_STATE_TEMPORARIES_PER_SLOT * k if mode == "stats" else 0)
        else:
            per = written + 16
        return max(1, per * r * itemsize)
    per_row = 16 * k + 2 * n_offsets * c + written
    if not compiled:
        per_row += (4 if mode == "values" else 8) * c + 2 * n_offsets * c
    return per_row * itemsize


def chunk_rows(n_rows: int, per_row_bytes: int, budget: int | None = None) -> list[tuple[int, int]]:
    """[start, stop) row ranges; the last range absorbs a remainder smaller than MIN_ROWS.
    ``budget`` None reads ``CHUNK_BUDGET_BYTES`` at call time."""
    rows = max(MIN_ROWS, (CHUNK_BUDGET_BYTES if budget is None else budget) // max(1, per_row_bytes))
    bounds = []
    start = 0
    while start < n_rows:
        stop = min(n_rows, start + rows)
        if n_rows - stop < MIN_ROWS:
            stop = n_rows
        bounds.append((start, stop))
        start = stop
    return bounds


def candidate_blocks(k: int, n_samples: int, itemsize: int) -> list[tuple[int, int]]:
    """[start, stop) candidate ranges whose per-sample outputs (losses and gradients) fit ``DIAG_BUDGET_BYTES``."""
    per_candidate = 2 * n_samples * itemsize
    size = max(1, DIAG_BUDGET_BYTES // max(1, per_candidate))
    return [(i, min(k, i + size)) for i in range(0, k, size)]
