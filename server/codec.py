"""Arrays from and to the wire, checked strictly before any memory is sized from a claim.

A peer controls ``shape`` and ``dtype``; trusting them would let one small message ask for an
arbitrarily large allocation, so every claim is checked against the bytes actually present and
against an element ceiling first.
"""

from __future__ import annotations

import math

import numpy as np

from advisor.errors import CapacityError, DTypeError, InvalidInputError, ShapeMismatchError
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb

#: The only dtypes accepted on the wire; little-endian, so both ends agree without a flag.
DTYPES: dict[str, np.dtype] = {
    name: np.dtype(name).newbyteorder("<")
    for name in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8")
}
DTYPES["bool"] = np.dtype(bool)
STR = "str"
MAX_NDIM = 8
#: Elements one request may carry or reference, all arrays together (``--max-elements``):
#: 2**28 is 1 GiB of float32, the default dataset store budget.
DEFAULT_MAX_ELEMENTS = 1 << 28
#: What one decoded string element costs beyond its UTF-8 bytes (a CPython str and a pointer).
STR_OVERHEAD = 64
#: What one element of a decoded dictionary-form string array costs: a pointer to its label's
#: str, which all elements with that label share (the labels are charged once each).
POINTER = 8
#: The codes of a dictionary-form string array: one per element, -1 for a missing cell.
CODE = np.dtype("<i4")
#: What the dataset store charges each dataset, and each of its arrays (plus the name's
#: bytes), beyond the arrays' values: the Python objects that hold them (measured with
#: tracemalloc: about 470 bytes a dataset, 530 an empty array). Without the charge, datasets of
#: empty arrays would cost nothing of the budget and the store could hold any number of them.
DATASET_OVERHEAD = 512
ARRAY_OVERHEAD = 512


def check_header(
    dtype: str, shape: list[int] | tuple[int, ...], field: str, max_elements: int
) -> tuple[tuple[int, ...], int]:
    """Validate a claimed dtype and shape; return the shape and the element count."""
    if dtype != STR and dtype not in DTYPES:
        raise DTypeError(
            f"dtype {dtype!r} is not accepted",
            field=f"{field}.dtype",
            expected=sorted([*DTYPES, STR]),
            got=dtype,
        )
    dims = tuple(int(d) for d in shape)
    if len(dims) > MAX_NDIM:
        raise ShapeMismatchError(
            f"at most {MAX_NDIM} dimensions are accepted, got {len(dims)}",
            field=f"{field}.shape",
            expected=f"<= {MAX_NDIM} dims",
            got=len(dims),
        )
    if any(d < 0 for d in dims):
        raise ShapeMismatchError(
            f"negative dimension in shape {list(dims)}", field=f"{field}.shape", got=list(dims)
        )
    count = math.prod(dims)  # Python ints: no overflow to wrap past the ceiling
    # An empty array may still claim absurd extents ([0, 10**18]); numpy refuses to even shape
    # those, so the extents without the zeros answer to the same ceiling as the count.
    extent = math.prod(d for d in dims if d)
    if max(count, extent) > max_elements:
        raise CapacityError(
            f"{max(count, extent)} elements exceed this server's ceiling of {max_elements}",
            field=f"{field}.shape",
            expected=f"<= {max_elements} elements",
            got=max(count, extent),
        )
    return dims, count


def nbytes(dtype: str, count: int) -> int:
    """Bytes of a numeric payload; strings travel apart from it, so they count 0 here."""
    return 0 if dtype == STR else count * DTYPES[dtype].itemsize


def footprint(dtype: str, count: int, strings=()) -> int:
    """Memory an array will hold once decoded: what the dataset store budgets for.

    A numeric array is its payload. A string array is not its wire size: each element becomes
    a Python object, so it is charged its UTF-8 length plus a fixed per-object cost; counting
    strings as free would let string uploads grow the store past any budget.
    """
    if dtype != STR:
        return nbytes(dtype, count)
    return count * STR_OVERHEAD + sum(len(s.encode()) for s in strings)


def coded_footprint(count: int, labels) -> int:
    """Memory a dictionary-form string array holds once decoded: a pointer per element and each
    distinct label once, since the elements share their labels' str objects. Its codes are gone
    by then; they are held only while the upload is decoded (``codes_nbytes``)."""
    return count * POINTER + sum(STR_OVERHEAD + len(s.encode()) for s in labels)


def codes_nbytes(count: int) -> int:
    """Bytes of a dictionary-form string array's codes in the upload stream."""
    return count * CODE.itemsize


def bookkeeping(names) -> int:
    """What the store charges a dataset with arrays ``names`` beyond their values."""
    return DATASET_OVERHEAD + sum(ARRAY_OVERHEAD + len(name.encode()) for name in names)


def from_buffer(
    dtype: str, dims: tuple[int, ...], buffer: bytes | bytearray | memoryview, field: str
) -> np.ndarray:
    """A view over ``buffer``; its length must equal the claimed size exactly."""
    expected = nbytes(dtype, math.prod(dims))
    if len(buffer) != expected:
        raise ShapeMismatchError(
            f"shape {list(dims)} of {dtype} needs {expected} bytes, got {len(buffer)}",
            field=f"{field}.data",
            expected=expected,
            got=len(buffer),
        )
    return np.frombuffer(buffer, dtype=DTYPES[dtype]).reshape(dims)


def from_strings(dims: tuple[int, ...], strings: list[str], field: str) -> np.ndarray:
    count = math.prod(dims)
    if len(strings) != count:
        raise ShapeMismatchError(
            f"shape {list(dims)} needs {count} strings, got {len(strings)}",
            field=f"{field}.strings",
            expected=count,
            got=len(strings),
        )
    return np.array(list(strings), dtype=object).reshape(dims)


def from_codes(
    dims: tuple[int, ...], labels, buffer: bytes | bytearray | memoryview, field: str
) -> np.ndarray:
    """The object array of strings that ``from_strings`` would build for the same elements,
    decoded from distinct labels and int32 codes (-1, a missing cell, becomes "").

    Every code is checked against the labels first: numpy would read -2 as the second-to-last
    label and refuse a code past the end with an IndexError, neither of which names the field.
    """
    count = math.prod(dims)
    expected = codes_nbytes(count)
    if len(buffer) != expected:
        raise ShapeMismatchError(
            f"shape {list(dims)} needs {count} int32 codes ({expected} bytes), got {len(buffer)}",
            field="data",
            expected=expected,
            got=len(buffer),
        )
    codes = np.frombuffer(buffer, dtype=CODE)
    bad = np.flatnonzero((codes < -1) | (codes >= len(labels)))
    if bad.size:
        raise InvalidInputError(
            f"code {int(codes[bad[0]])} of element {int(bad[0])} names no label: codes index "
            f"the {len(labels)} labels, or are -1 for a missing cell",
            field=f"{field}.labels",
            expected=f"codes in [-1, {len(labels)})",
            got=int(codes[bad[0]]),
        )
    lookup = np.array([*labels, ""], dtype=object)  # -1 picks the "" at the end
    return lookup[codes].reshape(dims)


def check(array: pb.Array, field: str, max_elements: int = DEFAULT_MAX_ELEMENTS) -> int:
    """Every claim of an inline array against what it carries; allocates nothing.

    Returns the element count. Cheap enough to run on the event loop before a request takes a
    computation slot, so a lying request costs the server no worker and no memory.
    """
    dims, count = check_header(array.dtype, array.shape, field, max_elements)
    if array.dtype == STR:
        if array.data:
            raise InvalidInputError(
                "a str array carries its values in `strings`, not `data`", field=f"{field}.data"
            )
        if len(array.strings) != count:
            raise ShapeMismatchError(
                f"shape {list(dims)} needs {count} strings, got {len(array.strings)}",
                field=f"{field}.strings",
                expected=count,
                got=len(array.strings),
            )
        return count
    if array.strings:
        raise InvalidInputError(
            f"a {array.dtype} array carries its values in `data`, not `strings`",
            field=f"{field}.strings",
        )
    expected = nbytes(array.dtype, count)
    if len(array.data) != expected:
        raise ShapeMismatchError(
            f"shape {list(dims)} of {array.dtype} needs {expected} bytes, got {len(array.data)}",
            field=f"{field}.data",
            expected=expected,
            got=len(array.data),
        )
    return count


def decode(array: pb.Array, field: str, max_elements: int = DEFAULT_MAX_ELEMENTS) -> np.ndarray:
    check(array, field, max_elements)
    dims = tuple(int(d) for d in array.shape)
    if array.dtype == STR:
        return from_strings(dims, array.strings, field)
    return from_buffer(array.dtype, dims, array.data, field)


def wire_dtype(values: np.ndarray) -> str:
    """The wire name for a numpy dtype, or raise when it has none."""
    kind = values.dtype.kind
    if kind in "USO":
        return STR
    if kind == "b":
        return "bool"
    name = values.dtype.name
    if name in DTYPES:
        return name
    raise DTypeError(
        f"dtype {values.dtype} has no wire form",
        field="array",
        expected=sorted(DTYPES),
        got=str(values.dtype),
    )


def encode(values: np.ndarray) -> pb.Array:
    dtype = wire_dtype(values)
    if dtype == STR:
        return pb.Array(dtype=STR, shape=values.shape, strings=[str(v) for v in values.ravel()])
    data = np.ascontiguousarray(values, dtype=DTYPES[dtype]).tobytes()
    return pb.Array(dtype=dtype, shape=values.shape, data=data)
