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
        out = np.asarray(value)
    if out.dtype.kind == "O":
        flat = out.ravel()
        if any(isinstance(v, str) for v in flat):
            out = np.array([None if v is None else str(v) for v in flat], dtype=object).reshape(
                out.shape
            )
        else:
            try:
                out = out.astype(np.float64)
            except (TypeError, ValueError):
                out = out.astype(str)
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
