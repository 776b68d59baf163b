"""Caller data to numpy at the edge, and numpy to the wire.

Torch tensors and pandas objects are recognised by duck typing so that neither library is ever
imported here: the light client must stay light, and a caller who passes a tensor has torch
loaded already anyway.

``to_numpy`` reads one array; ``table_columns`` a table's columns (for ``features_table``) and
``upload_items`` what an upload stores, a table or named arrays; ``encode`` makes an inline
array and ``upload_form`` what an upload streams, text as labels and int32 codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.errors import DTypeError, EmptyInputError, InvalidInputError
from advisor.ingest.missing import is_missing
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb

WIRE = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8")


@dataclass(frozen=True)
class DatasetRef:
    """An array uploaded earlier, usable wherever an array is expected."""

    dataset_id: str
    name: str


@dataclass(frozen=True)
class UploadedDataset:
    """A dataset held by the server; index it by array name to use an array in a request.

    Given whole as ``features`` it is a table: one column per array, in upload order, each
    column referencing its array, so an uploaded table is sent again as references only.
    """

    dataset_id: str
    bytes: int
    ttl_s: float
    names: tuple[str, ...]

    def __getitem__(self, name: str) -> DatasetRef:
        if name not in self.names:
            raise KeyError(f"dataset has no array {name!r}; it has {', '.join(self.names)}")
        return DatasetRef(self.dataset_id, name)


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


def table_columns(
    value: Any, field: str = "features"
) -> list[tuple[str, np.ndarray | DatasetRef]] | None:
    """A table's named 1-D columns, ready for the wire; None when ``value`` is not a table.

    Tables are pandas DataFrames and Arrow tables (recognised without importing either),
    mappings of columns, numpy structured arrays and uploaded datasets. Datetimes become ISO
    8601 text, which the server reads back as datetimes; missing cells stay NaN in numbers and
    become "" in text. A column that is a ``DatasetRef`` (an array uploaded earlier) stays one,
    so a table can be uploaded once and its columns referenced by later requests.
    """
    items = _table_items(value)
    if items is None:
        return None
    return [
        (str(name), c if isinstance(c, DatasetRef) else _column(c, f"{field}.{name}"))
        for name, c in items
    ]


def upload_items(data: Any, named: Mapping[str, Any]) -> list[tuple[str, np.ndarray]]:
    """The arrays an upload stores, by name: ``data``'s (a table's columns, or a mapping's
    arrays) and then ``named``'s, which win over ``data``'s of the same name.

    Each is converted as a table's column is (datetimes to ISO text, pandas' nullable numbers
    to floats with NaN), so an uploaded table sent back as ``features`` reads as the table
    itself would inline; unlike a table's columns they may have any shape, since an upload
    also holds 2-D feature matrices. Refused with a typed error naming ``data`` or the array:
    nothing to upload, an object that is no table, and references to uploaded arrays, which
    would store a reference's repr instead of values.
    """
    items: dict[str, Any] = {}
    if data is not None:
        found = _table_items(data)
        if found is None:
            raise InvalidInputError(
                "upload takes a table (a DataFrame, an Arrow table, a structured array) or a "
                "mapping of names to arrays; name a single array as upload(name=array)",
                field="data",
                expected="a table or a mapping of named arrays",
                got=type(data).__name__,
            )
        items.update((str(name), column) for name, column in found)
    items.update(named)
    if not items:
        raise EmptyInputError(
            "an upload needs at least one array",
            field="data",
            expected="a table or named arrays",
            got="nothing",
        )
    out = []
    for name, value in items.items():
        if isinstance(value, (DatasetRef, UploadedDataset)):
            raise InvalidInputError(
                "is a reference to uploaded data; an upload holds arrays themselves",
                field=name,
                expected="an array",
                got=type(value).__name__,
            )
        out.append((name, _column(value, name, any_shape=True)))
    return out


def _table_items(value: Any) -> list[tuple[Any, Any]] | None:
    """A table's (name, column) pairs as the caller holds them; None when it is no table."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, UploadedDataset):
        return [(name, value[name]) for name in value.names]
    if isinstance(value, np.ndarray) and value.dtype.names:
        return [(name, value[name]) for name in value.dtype.names]
    if hasattr(value, "columns") and hasattr(value, "dtypes") and hasattr(value, "iloc"):
        return [(name, value[name]) for name in value.columns]
    if hasattr(value, "column_names") and hasattr(value, "column"):
        return [(name, value.column(name)) for name in value.column_names]
    return None


def _column(column: Any, field: str, *, any_shape: bool = False) -> np.ndarray:
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
        out = np.array(
            [None if v == "NaT" else v for v in text.ravel()], dtype=object
        ).reshape(text.shape)
    if out.ndim != 1 and not any_shape:
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


def dictionary(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """A text array as its distinct labels and one little-endian int32 code per element (C
    order), -1 for a missing cell (None): the labels are ``strings``' texts, so the server
    decodes the very array that ``strings`` would have sent. An array with elements but no
    label (all missing) still gets one label, "", since an empty label list means the old
    form on the wire."""
    flat = values.ravel()
    if values.dtype.kind == "U":
        uniques, inverse = np.unique(flat, return_inverse=True)
        labels = [str(v) for v in uniques]
        codes = inverse.astype("<i4").ravel()
    else:
        index: dict[str, int] = {}
        codes = np.fromiter(
            (-1 if v is None else index.setdefault(str(v), len(index)) for v in flat),
            dtype="<i4",
            count=flat.size,
        )
        labels = list(index)
    if not labels and flat.size:
        labels = [""]
    return labels, codes


@dataclass(frozen=True)
class UploadForm:
    """An array as an upload streams it: the header's dtype, shape and, for text, labels, then
    ``payload``'s bytes in the data chunks (numbers, or text's codes)."""

    dtype: str
    shape: tuple[int, ...]
    payload: np.ndarray
    labels: list[str] | None = None

    @property
    def inline_nbytes(self) -> int:
        """About what the array weighs sent inline instead, which is what decides whether a
        request streams it: text inline is one string per element (its UTF-8 bytes, a tag
        and a length each), many times its codes when labels are long."""
        if self.labels is None:
            return int(self.payload.nbytes)
        lengths = [len(s.encode()) for s in self.labels]
        sizes = np.array([n + 1 + max(1, (n.bit_length() + 6) // 7) for n in lengths], np.int64)
        present = self.payload[self.payload >= 0]
        counts = np.bincount(present, minlength=len(self.labels))
        return int(counts @ sizes) + 2 * (self.payload.size - present.size)


def upload_form(values: np.ndarray, field: str = "array") -> UploadForm:
    """What an upload sends of ``values``: text always in the dictionary form, whose codes
    stream in chunks like numbers, so a long text array never has to fit in one message."""
    dtype, values = prepare(values, field)
    if dtype != "str":
        return UploadForm(dtype, tuple(values.shape), values)
    labels, codes = dictionary(values)
    return UploadForm(dtype, tuple(values.shape), codes, labels)


def encode(values: np.ndarray, field: str = "array") -> pb.Array:
    dtype, values = prepare(values, field)
    if dtype == "str":
        return pb.Array(dtype="str", shape=values.shape, strings=strings(values))
    return pb.Array(dtype=dtype, shape=values.shape, data=values.tobytes())
