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
DEFAULT_MAX_ELEMENTS = 1 << 31


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
    if count > max_elements:
        raise CapacityError(
            f"{count} elements exceed this server's ceiling of {max_elements}",
            field=f"{field}.shape",
            expected=f"<= {max_elements} elements",
            got=count,
        )
    return dims, count


def nbytes(dtype: str, count: int) -> int:
    return 0 if dtype == STR else count * DTYPES[dtype].itemsize


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


def decode(array: pb.Array, field: str, max_elements: int = DEFAULT_MAX_ELEMENTS) -> np.ndarray:
    dims, _ = check_header(array.dtype, array.shape, field, max_elements)
    if array.dtype == STR:
        if array.data:
            raise InvalidInputError(
                "a str array carries its values in `strings`, not `data`", field=f"{field}.data"
            )
        return from_strings(dims, array.strings, field)
    if array.strings:
        raise InvalidInputError(
            f"a {array.dtype} array carries its values in `data`, not `strings`",
            field=f"{field}.strings",
        )
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
