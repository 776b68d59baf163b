"""Whether a field-violation path points into the request that was sent.

Written apart from the server's own rewriting (``server.fieldpath``) so the fuzz oracle does not
grade the server with the server's logic. A path exists when each name is a field of the message
at that point (set or not: "is required" names a field left empty), each index is within the
list the caller sent, and inside a ``Struct`` (hyperparameters) a key is one the caller sent or,
as the last segment, one the loss expects.
"""

from __future__ import annotations

import re

from google.protobuf.message import Message

_PART = re.compile(r"([A-Za-z_]\w*)((?:\[\d+\])*)")


def exists(message: Message, path: str) -> bool:
    if not path:
        return False
    parts = path.split(".")
    node = message
    for depth, part in enumerate(parts):
        match = _PART.fullmatch(part)
        if match is None:
            return False
        name = match.group(1)
        indices = [int(i) for i in re.findall(r"\d+", match.group(2))]
        last = depth == len(parts) - 1
        if node.DESCRIPTOR.full_name == "google.protobuf.Struct":
            return name in node.fields or (last and not indices)
        if name not in node.DESCRIPTOR.fields_by_name:
            return False
        field = node.DESCRIPTOR.fields_by_name[name]
        value = getattr(node, name)
        if field.is_repeated:
            if len(indices) > 1 or (not indices and not last):
                return False
            if indices:
                if indices[0] >= len(value):
                    return False
                value = value[indices[0]]
        elif indices:
            return False
        if not isinstance(value, Message):
            return last
        node = value
    return True
