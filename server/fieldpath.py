"""Domain field names to paths that exist in the caller's request.

The advisor names fields by its own argument names (``target``, ``input``, ``params.delta``),
which is right for a library caller but points nowhere in a gRPC request. A BadRequest field
violation is only useful when a caller can follow it into the message it sent, so every path
is checked against the request and, where it does not resolve, rewritten: a loss input's name
becomes the request field that carried it, and a path that still does not resolve is cut back
to its longest prefix that does.
"""

from __future__ import annotations

import re

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")
_INDEX = re.compile(r"\[(\d+)\]")

#: Loss-input names (torch's forward arguments) to the request fields that carry them.
_INPUTS = {
    "input": "predictions[0]",
    "inputs": "predictions",
    "input1": "predictions[0]",
    "input2": "predictions[1]",
    "anchor": "predictions[0]",
    "positive": "predictions[1]",
    "negative": "predictions[2]",
    "log_probs": "predictions[0]",
    "var": "predictions[1]",
    "target": "targets",
    "input_lengths": "targets",
    "target_lengths": "targets",
    "weight": "sample_weight",
}


def _split(path: str) -> list[tuple[str, list[int]]] | None:
    parts = []
    for raw in path.split("."):
        match = _SEGMENT.match(raw)
        if match is None:
            return None
        parts.append((match.group(1), [int(i) for i in _INDEX.findall(match.group(2))]))
    return parts


def _resolves(message: Message | None, descriptor, parts: list[tuple[str, list[int]]]) -> bool:
    """Whether ``parts`` names a field of ``descriptor`` (and an element ``message`` holds)."""
    for depth, (name, indices) in enumerate(parts):
        if descriptor.full_name == "google.protobuf.Struct":
            # Hyperparameters: a key the caller sent, or as the last segment one it did not send
            # (a required hyperparameter); inside a value, the path is the caller's own JSON.
            sent = message is not None and name in message.fields
            return sent or (not indices and depth == len(parts) - 1)
        fd = descriptor.fields_by_name.get(name)
        if fd is None:
            return False
        repeated = fd.is_repeated
        if indices and (not repeated or len(indices) > 1):
            return False
        value = getattr(message, name) if message is not None else None
        if repeated:
            if indices:
                if value is not None and indices[0] >= len(value):
                    return False
                value = value[indices[0]] if value is not None else None
            elif depth < len(parts) - 1:
                return False  # a path into a list must say which element
        if fd.type != FieldDescriptor.TYPE_MESSAGE:
            return depth == len(parts) - 1
        descriptor = fd.message_type
        message = value
    return True


def _table_column(request: Message, path: str) -> str:
    """``features.<name>`` (the library's name for a table's column) as the request's
    ``features_table.columns[i].values``, where a column of that name was sent."""
    if not path.startswith("features.") or "features_table" not in request.DESCRIPTOR.fields_by_name:
        return ""
    if not request.HasField("features_table"):
        return ""
    wanted = path[len("features.") :]
    for i, column in enumerate(request.features_table.columns):
        if column.name == wanted:
            return f"features_table.columns[{i}].values"
    return ""


def exists(request: Message, path: str) -> bool:
    parts = _split(path) if path else None
    return parts is not None and _resolves(request, request.DESCRIPTOR, parts)


def locate(request: Message | None, path: str, fallback: str = "") -> str:
    """The longest request path that ``path`` names, else ``fallback``."""
    if request is None or not isinstance(request, Message):
        return path
    if exists(request, path):
        return path
    head, _, rest = path.partition(".")
    name = head.split("[", 1)[0]
    column = _table_column(request, path)
    if column:
        return column
    if name in _INPUTS:
        rewritten = _INPUTS[name] + (f".{rest}" if rest else "")
        if exists(request, rewritten):
            return rewritten
        path = rewritten
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join([*parts[: cut - 1], parts[cut - 1].split("[", 1)[0]])
        if exists(request, prefix):
            return prefix
    return fallback if exists(request, fallback) else ""
