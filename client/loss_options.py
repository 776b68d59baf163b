"""``--loss NAME:k=v,...`` on the command line -> the library's ``{"loss", "params"}`` candidates.

Kept apart from the command line so the syntax has one definition and can be tested without
building a parser.
"""

from __future__ import annotations

import json
from typing import Any

from advisor.errors import AdvisorError


def parse_losses(specs: list[str] | None) -> list[dict[str, Any]] | None:
    """``["HuberLoss:delta=0.5,reduction=sum"]`` -> ``[{"loss": ..., "params": {...}}]``.

    Values are read as JSON where they parse (numbers, true/false, lists such as
    ``weight=[1,2]``), as text otherwise (``reduction=sum``). None stays None: the library then
    evaluates its default candidates.
    """
    if not specs:
        return None
    out = []
    for i, spec in enumerate(specs):
        name, _, rest = spec.partition(":")
        if not name.strip():
            raise AdvisorError(
                f"{spec!r} names no loss", field=f"loss[{i}]", expected="NAME[:k=v,...]"
            )
        params: dict[str, Any] = {}
        for item in split_params(rest):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise AdvisorError(
                    f"{item!r} is not name=value", field=f"loss[{i}]", expected="name=value"
                )
            try:
                params[key.strip()] = json.loads(value)
            except json.JSONDecodeError:
                params[key.strip()] = value.strip()
        out.append({"loss": name.strip(), "params": params})
    return out


def split_params(text: str) -> list[str]:
    """Split on commas outside brackets, so ``weight=[1,2],reduction=sum`` is two items."""
    items, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        items.append(current)
    return [i for i in items if i.strip()]
