"""Reading tables and arrays from files for the command line: CSV, NPY, NPZ, Parquet.

Only numpy and the standard library are needed; Parquet works when pyarrow is installed.
String columns stay strings (labels may be words), numeric ones become float64; the
missing markers of ``advisor.ingest.missing`` are NaN in numbers and None in text. Every failure
to read is an ``InvalidInputError`` naming the file, so the command line can print one line
instead of a traceback from numpy, csv or pyarrow.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from advisor.errors import InvalidInputError
from advisor.ingest.missing import is_missing_text

Table = dict[str, np.ndarray]


def _column(values: list[str]) -> np.ndarray:
    """Numbers as float64 (missing markers as NaN); otherwise text, missing markers as None."""
    try:
        return np.array(
            [np.nan if is_missing_text(v) else float(v) for v in values], dtype=np.float64
        )
    except ValueError:
        return np.array([None if is_missing_text(v) else v for v in values], dtype=object)


def _read_csv(path: Path) -> Table:
    # utf-8-sig: spreadsheet exports often start with a byte-order mark, which would otherwise
    # end up in the first column's name.
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header_line = fh.readline()
        fh.seek(0)
        # The header decides the delimiter: csv.Sniffer guesses wrong on short files.
        delimiter = max(",;\t", key=header_line.count)
        rows = list(csv.reader(fh, delimiter=delimiter))
    if not rows:
        raise InvalidInputError(
            "file is empty", field="path", expected="a header and rows", got=str(path)
        )
    header, body = rows[0], rows[1:]
    if any(len(r) != len(header) for r in body):
        bad = next(i for i, r in enumerate(body, start=2) if len(r) != len(header))
        raise InvalidInputError(
            f"line {bad} has a different number of fields than the header",
            field="path",
            expected=len(header),
            got=bad,
        )
    return {name: _column([r[i] for r in body]) for i, name in enumerate(header)}


def _read_npz(path: Path) -> Table:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _read_npy_table(path: Path) -> Table:
    array = _read_npy(path)
    if array.ndim == 1:
        return {"y": array}
    if array.ndim == 2:
        return {f"x{i}": array[:, i] for i in range(array.shape[1])}
    raise InvalidInputError(
        f"{path.name} holds a {array.ndim}-d array; a table needs 1 or 2 dimensions",
        field="path",
        expected="1 or 2 dimensions",
        got=list(array.shape),
    )


def _read_npy(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def _read_parquet(path: Path) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the environment
        raise InvalidInputError(
            "reading Parquet needs pyarrow (pip install pyarrow)",
            field="path",
            expected="pyarrow installed",
            got=str(path),
        ) from None
    table = pq.read_table(path)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


_READERS: dict[str, Callable[[Path], Table]] = {
    ".csv": _read_csv,
    ".tsv": _read_csv,
    ".txt": _read_csv,
    ".npz": _read_npz,
    ".npy": _read_npy_table,
    ".parquet": _read_parquet,
    ".pq": _read_parquet,
}


#: what a file that fails to parse should have been, for the error message
_FORMATS = {
    ".npy": "a NumPy .npy array of numbers or strings (Python objects are not loaded)",
    ".npz": "a NumPy .npz archive of numbers or strings (Python objects are not loaded)",
    ".parquet": "a Parquet file",
    ".pq": "a Parquet file",
}


def _guarded(path: Path, read: Callable[[Path], object]) -> object:
    """Run ``read`` on an existing file; turn what the readers raise into one typed error."""
    if not path.exists():
        raise InvalidInputError(
            f"no such file: {path}", field="path", expected="an existing file", got=str(path)
        )
    try:
        return read(path)
    except InvalidInputError:
        raise
    except OSError as exc:  # permissions, a directory, pyarrow's I/O errors
        reason = exc.strerror or str(exc)
        raise InvalidInputError(
            f"cannot read {path}: {reason}", field="path", expected="a readable file", got=str(path)
        ) from None
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"cannot read {path}: not UTF-8 text",
            field="path",
            expected="a UTF-8 encoded file",
            got=str(path),
        ) from None
    except (ValueError, EOFError, csv.Error, zipfile.BadZipFile):  # "not this format"
        what = _FORMATS.get(path.suffix.lower(), f"a {path.suffix.lower()} file")
        raise InvalidInputError(
            f"cannot read {path}: expected {what}", field="path", expected=what, got=str(path)
        ) from None


def read_table(path: str | Path) -> Table:
    """Columns by name, in file order."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InvalidInputError(
            f"unsupported file type {path.suffix.lower()!r}",
            field="path",
            expected=".csv, .npy, .npz or .parquet",
            got=path.suffix.lower(),
        )
    return _guarded(path, reader)  # type: ignore[return-value]


def read_array(path: str | Path, key: str | None = None) -> np.ndarray:
    """One array: a .npy file, an .npz array, or table columns (all of them, or ``key``).

    ``key`` names the .npz array, or the table column(s) to take (comma-separated); several
    columns become a matrix, one column a vector. An .npz file with several arrays needs the
    key: stacking unrelated arrays would silently feed a loss the wrong data.
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        if key is not None:
            raise InvalidInputError(
                "a .npy file holds one array; drop the ':name' part",
                field="path",
                expected="no key",
                got=key,
            )
        return _guarded(path, _read_npy)  # type: ignore[return-value]
    table = read_table(path)
    if key is None and path.suffix.lower() == ".npz" and len(table) > 1:
        raise InvalidInputError(
            f"{path.name} holds {', '.join(table)}; name one as {path.name}:NAME",
            field="path",
            expected=list(table),
            got=None,
        )
    names = key.split(",") if key else list(table)
    _require_columns(path, list(table), names)
    return _columns(table, names)


def _require_columns(path: Path, present: list[str], names: list[str]) -> None:
    missing = [n for n in names if n not in present]
    if missing:
        raise InvalidInputError(
            f"{path.name} has no {missing[0]!r}; it has {', '.join(present)}",
            field="path",
            expected=present,
            got=missing[0],
        )


def _columns(table: Table, names: list[str]) -> np.ndarray:
    """One column as a vector, several as a matrix."""
    if len(names) == 1:
        return table[names[0]]
    return np.column_stack([table[n] for n in names])


def parquet_rows(path: str | Path) -> int | None:
    """Rows of a Parquet file from its footer (nothing else read); None for other files or without pyarrow."""
    path = Path(path)
    if path.suffix.lower() not in (".parquet", ".pq") or not path.is_file():
        return None
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return int(_guarded(path, lambda p: pq.ParquetFile(p).metadata.num_rows))  # type: ignore[arg-type]


def parquet_batches(
    path: str | Path, keys: list[str], rows: int
) -> Iterator[tuple[np.ndarray, ...]]:
    """One array per key (comma-separated column names, as ``read_array`` takes them) for each
    batch of at most ``rows`` rows of a Parquet file, read a batch at a time."""
    import pyarrow.parquet as pq

    path = Path(path)
    names = [key.split(",") for key in keys]
    file = _guarded(path, pq.ParquetFile)
    for group in names:
        _require_columns(path, list(file.schema_arrow.names), group)  # type: ignore[attr-defined]
    wanted = list(dict.fromkeys(n for group in names for n in group))
    for batch in file.iter_batches(batch_size=rows, columns=wanted):  # type: ignore[attr-defined]
        cols = {name: batch.column(name).to_numpy(zero_copy_only=False) for name in wanted}
        yield tuple(_columns(cols, group) for group in names)


def split_key(spec: str) -> tuple[str, str | None]:
    """``data.npz:logits`` -> (``data.npz``, ``logits``); a path that exists is never split."""
    if Path(spec).exists() or ":" not in spec:
        return spec, None
    path, key = spec.rsplit(":", 1)
    return path, key or None


def select(
    table: Table, target: str, features: list[str] | None, exclude: tuple[str, ...] = ()
) -> tuple[np.ndarray, Table | None]:
    """The target column(s) and the feature columns: those named, or every other column but
    ``exclude`` (a column of predictions, say, which must not be read as a feature).

    ``target`` names one column, or several comma-separated (a matrix: several values per
    row), as ``read_array`` takes them; a column whose own name holds a comma is taken whole.
    Features stay a table of named columns, text ones included: ``advisor.ingest.features``
    decides what each becomes and reports it.
    """
    targets = [target] if target in table else target.split(",")
    absent = [t for t in targets if t not in table]
    if absent:
        raise InvalidInputError(
            f"no column {absent[0]!r}; columns are {', '.join(table)}",
            field="target",
            expected=list(table),
            got=absent[0],
        )
    names = features if features is not None else [
        c for c in table if c not in targets and c not in exclude
    ]
    missing = [c for c in names if c not in table]
    if missing:
        raise InvalidInputError(
            f"no column {missing[0]!r}", field="features", expected=list(table), got=missing[0]
        )
    return _columns(table, targets), ({c: table[c] for c in names} if names else None)
