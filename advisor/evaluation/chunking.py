"""Row chunks sized so that the kernels' temporaries stay under a fixed budget whatever K is.

``row_bytes`` is per row: a compiled kernel keeps each candidate's column in registers and
writes only its outputs, eager mode materialises a few temporaries at a time (see there).
Diagnostics need every per-sample loss and gradient magnitude (they feed exact quantiles), so
candidates run in blocks whose per-sample outputs fit ``DIAG_BUDGET_BYTES``; each block's
statistics are taken before the next block runs, so its outputs are freed first.

Bound on extra memory (torch allocations beyond the caller's inputs), measured with
``advisor.evaluation.probes.peak_memory`` around one ``advisor.evaluate`` call of the
benchmark's families (``advisor.evaluation.benchcases``: regression K=8 at N=1e6 and 1e7,
multiclass K=7 at N=5e5 with C=32 and C=1000, compiled):
    values only:   CHUNK_BUDGET_BYTES, with a wide margin (no per-row temporaries compiled);
    diagnostics:   CHUNK_BUDGET_BYTES + max(DIAG_BUDGET_BYTES, 2 · samples · itemsize), the
                   second term being one block's per-sample losses and gradients (one
                   candidate's when a single one exceeds the budget), plus the baseline's
                   evaluation on at most ``baselines.SUBSAMPLE_ELEMENTS`` entries. Blocks that
                   need no rows (``summary``) write a byte per element per bracketed slot
                   of one chunk, then evaluate the elements inside their spans again (about
                   a tenth of a row per slot); blocks that tally rows chunk by chunk
                   (``streamed``, elementwise kernels from ``streamed.STREAM_MIN`` samples)
                   hold ``streamed.STREAM_CHUNK_BYTES`` of them at a time.
Measured (torch.profiler allocation events, float32, CPU): values only 0.3 to 2.5 MiB in every
case; with diagnostics 11.4 MiB (regression N=1e6) and 32 MiB (regression N=1e7, where no
candidate keeps its rows), 55 and 58 MiB (multiclass, which keeps them: a C-th of its input).
Outside torch's allocator, the sample-bracketed selections keep what lies inside their
brackets (a few percent of a row), the summary pass the indices of the elements inside its
spans, and numpy's masks of one slice (``selection.SLICE``) per thread; only the whole-array
path (rows under ``selection.BRACKET_MIN``, or a sample that missed) copies the row it
partitions, one per thread taking statistics.
"""

from __future__ import annotations

CHUNK_BUDGET_BYTES = 64 << 20
#: Temporaries per element of a compiled elementwise kernel with diagnostics, beyond its
#: per-sample outputs, measured with ``probes.peak_memory`` (float32, CPU, 4e6 rows): 15.3 MiB
#: for eight regression slots (one element), 30.5 MiB for four binary slots (two).
COMPILED_DIAG_TEMPORARIES = {"regression": 1, "binary": 2}
#: The same for the reductions-only regression kernel, per slot: log-cosh and Barron's loss keep
#: about 3.5 elements each (2.8e6 rows: 12 bytes per row for one of each, 28 for two of each),
#: the others none; one element per slot bounds it. One chunk of 1e7 rows takes 110 ms there
#: against 62 ms in chunks of 2.8e6, the difference being fresh pages for its temporaries.
COMPILED_SUMMARY_TEMPORARIES_PER_SLOT = 1
DIAG_BUDGET_BYTES = 256 << 20
MIN_ROWS = 2  # a chunk of one row would make dynamo specialise on the size 1


def row_bytes(
    kernel: str, k: int, row_elements: int, n_classes: int, n_offsets: int, itemsize: int, *, diag: bool, compiled: bool,
    outputs: bool = True,
) -> int:
    """Temporary bytes per row of one kernel call with K candidates, the chunk's outputs included unless not ``outputs``.

    Elementwise kernels: compiled, the candidates' columns stay in registers and only the
    per-sample outputs (2K per element with diagnostics) are written; eager, each candidate's
    temporaries are freed before the next, so their count does not grow with K. Multiclass
    kernels reduce each row of C scores to a few numbers per slot; eager mode materialises a few
    (n, C) tensors at a time, and logit-adjusted slots their shifted logits.
    """
    r, c = row_elements, n_classes
    if kernel == "regression_summary":  # reductions only: it writes no per-sample outputs
        per = COMPILED_SUMMARY_TEMPORARIES_PER_SLOT * k if compiled else 16
        return max(1, per * r * itemsize)
    written = 2 * k if diag and not outputs else 0  # the per-sample losses and gradients
    if kernel in ("regression", "binary"):
        if diag:
            per = 2 * k + (COMPILED_DIAG_TEMPORARIES[kernel] if compiled else 16)
        else:
            per = 2 if compiled else 8
        return max(1, (per - written) * r * itemsize)
    per_row = 16 * k + 2 * n_offsets * c - written
    if not compiled:
        per_row += (8 if diag else 4) * c + 2 * n_offsets * c
    return per_row * itemsize


def block_rows(n_rows: int, row_args: tuple, *, diag: bool, compiled: bool) -> list[tuple[int, int]]:
    """Row chunks for one block of candidates; ``row_args`` are ``row_bytes``' positional ones.

    With diagnostics a block whose rows fit one chunk writes its per-sample outputs straight
    into the rows its statistics read (bounded by ``DIAG_BUDGET_BYTES`` through
    ``candidate_blocks``), so only the true temporaries count against the chunk budget; a block
    that must be split copies each chunk's outputs into those rows, so then they count too.
    """
    if diag and n_rows * row_bytes(*row_args, diag=True, compiled=compiled, outputs=False) <= CHUNK_BUDGET_BYTES:
        return [(0, n_rows)]
    return chunk_rows(n_rows, row_bytes(*row_args, diag=diag, compiled=compiled))


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
