"""Caller data to numpy at the edge, and numpy to the wire.

Torch tensors and pandas objects are recognised by duck typing so that neither library is ever
imported here: the light client must stay light, and a caller who passes a tensor has torch
loaded already anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.errors import DTypeError
from advisor.ingest.missing import is_missing
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb

WIRE = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8")


@dataclass(frozen=True)
class DatasetRef:
    """An array uploaded earlier, usable wherever an array is expected."""

    dataset_id: str
    name: str


def to_numpy(value: Any, field: str = "array") -> np.ndarray:
    if isinstance(value, np.ndarray):
        out = value
    elif hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        tensor = value.detach().cpu()
        if str(getattr(tensor, "dtype", "")) == "torch.bfloat16":
            tensor = tensor.float()  # numpy has no bfloat16
        out = tensor.numpy()
    elif hasattr(value, "to_numpy"):
        out = value.to_numpy()
    else:
        try:
            out = np.asarray(value)
        except ValueError as exc:  # ragged nesting: rows of different lengths
            raise DTypeError(
                f"is not a rectangular array ({exc})",
                field=field,
                expected="an array, or a list of equal-length rows",
                got=type(value).__name__,
            ) from None
    if out.dtype.kind == "O":
        out = _object_cells(out, field)
    return out


def _object_cells(values: np.ndarray, field: str) -> np.ndarray:
    """An object array as the wire carries it: float64 when every cell is a number or
    missing, else text with None for missing cells. Numbers among text become their text,
    booleans "True"/"False", dates and datetimes ISO 8601 text (with their zone when they
    have one), so the server reads the column as the library reads the original: text that
    reads as numbers is numeric, a mix is categorical. Any other cell (bytes, a list, an
    arbitrary object) is refused naming the field, as the library refuses it, instead of
    travelling as its ``repr``.
    """
    flat = values.ravel()
    cells: list[Any] = []
    numeric = True
    for v in flat:
        if is_missing(v):
            cells.append(None)
        elif isinstance(v, (bool, np.bool_)):
            cells.append("True" if v else "False")
            numeric = False
        elif isinstance(v, (int, float, np.integer, np.floating)):
            cells.append(v)
        elif isinstance(v, (str, np.str_)):
            cells.append(str(v))
            numeric = False
        elif hasattr(v, "isoformat") and hasattr(v, "year"):  # date, datetime, pandas Timestamp
            cells.append(v.isoformat())
            numeric = False
        else:
            raise DTypeError(
                f"holds a {type(v).__name__} value; cells must be numbers, text, booleans or datetimes",
                field=field,
                expected="numbers, text, booleans or datetimes",
                got=type(v).__name__,
            )
    if numeric:
        return np.array([np.nan if v is None else float(v) for v in cells], dtype=np.float64).reshape(values.shape)
    text = [v if v is None else str(v) for v in cells]
    return np.array(text, dtype=object).reshape(values.shape)


def table_columns(value: Any, field: str = "features") -> list[tuple[str, np.ndarray]] | None:
    """A table's named 1-D columns, ready for the wire; None when ``value`` is not a table.

    Tables are pandas DataFrames and Arrow tables (recognised without importing either), dicts
    of columns and numpy structured arrays. Datetimes become ISO 8601 text, which the server
    reads back as datetimes; missing cells stay NaN in numbers and become "" in text.
    """
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, np.ndarray) and value.dtype.names:
        items = [(name, value[name]) for name in value.dtype.names]
    elif hasattr(value, "columns") and hasattr(value, "dtypes") and hasattr(value, "iloc"):
        items = [(name, value[name]) for name in value.columns]
    elif hasattr(value, "column_names") and hasattr(value, "column"):
        items = [(name, value.column(name)) for name in value.column_names]
    else:
        return None
    return [(str(name), _column(column, f"{field}.{name}")) for name, column in items]


def _column(column: Any, field: str) -> np.ndarray:
    dtype = str(getattr(column, "dtype", getattr(column, "type", "")))
    if hasattr(column, "dt") and dtype.startswith("datetime64"):  # pandas, maybe with a zone
        text = column.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
        out = np.array([v if isinstance(v, str) else None for v in text], dtype=object)
    elif hasattr(column, "to_numpy") and dtype.startswith(("Int", "UInt", "Float")):
        out = column.to_numpy(dtype=np.float64, na_value=np.nan)  # pandas' nullable numbers
    elif hasattr(column, "to_pylist") or hasattr(column, "chunks"):  # pyarrow arrays
        out = to_numpy(column.to_numpy(zero_copy_only=False), field)
    else:
        out = to_numpy(column, field)
    if out.dtype.kind == "M":
        text = np.datetime_as_string(out)
        out = np.array([None if v == "NaT" else v for v in text], dtype=object)
    if out.ndim != 1:
        raise DTypeError(
            f"a table's columns are 1-D; this one is {out.ndim}-D",
            field=field,
            expected="1-D",
            got=list(out.shape),
        )
    return out


def wire_dtype(values: np.ndarray, field: str = "array") -> str:
    kind = values.dtype.kind
    if kind in "USO":
        return "str"
    if kind == "b":
        return "bool"
    if values.dtype.name in WIRE:
        return values.dtype.name
    if kind in "iu":
        return "int64"
    if kind == "f":
        return "float64"
    raise DTypeError(
        f"dtype {values.dtype} cannot travel",
        field=field,
        expected=list(WIRE),
        got=str(values.dtype),
    )


def prepare(values: np.ndarray, field: str = "array") -> tuple[str, np.ndarray]:
    """The wire dtype and a little-endian C-contiguous array of it."""
    dtype = wire_dtype(values, field)
    if dtype == "str":
        return dtype, values
    target = np.dtype(dtype).newbyteorder("<") if dtype != "bool" else np.dtype(bool)
    return dtype, np.ascontiguousarray(values, dtype=target)


def strings(values: np.ndarray) -> list[str]:
    return ["" if v is None else str(v) for v in values.ravel()]


def encode(values: np.ndarray, field: str = "array") -> pb.Array:
    dtype, values = prepare(values, field)
    if dtype == "str":
        return pb.Array(dtype="str", shape=values.shape, strings=strings(values))
    return pb.Array(dtype=dtype, shape=values.shape, data=values.tobytes())
