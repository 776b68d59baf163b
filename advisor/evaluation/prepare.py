"""Per-candidate input preparation, shared between candidates that read the inputs the same way.

``advisor.losses.registry.prepare_inputs`` converts and checks every input for one call; with K
candidates it would cast and scan the data K times. This cache does the same conversions once
per (tensor, convention) and reads finiteness from the request's cached min/max.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from advisor.errors import InvalidInputError, NonFiniteError
from advisor.evaluation.inputs import Inputs
from advisor.losses import checks
from advisor.losses.spec import LossSpec


class PrepareCache:
    """Memoised conversions for one request."""

    def __init__(self, inp: Inputs) -> None:
        self.inp = inp
        self._memo: dict[tuple[Any, ...], Any] = {}

    def _once(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        if key not in self._memo:
            try:
                self._memo[key] = make()
            except InvalidInputError as exc:
                self._memo[key] = exc
        value = self._memo[key]
        if isinstance(value, InvalidInputError):
            raise value
        return value

    def _real(self, t: torch.Tensor, dtype: torch.dtype, name: str, allow_neg_inf: bool) -> torch.Tensor:
        def make() -> torch.Tensor:
            out = t.to(dtype)
            lo, hi = self.inp.minmax(out)
            bad = hi == float("inf") or (lo == float("-inf") and not allow_neg_inf)
            if bad:
                checks.require_finite(out, name, allow_neg_inf=allow_neg_inf)  # raises with the counts
                raise NonFiniteError("has non-finite values", field=name, expected="finite values", got=None)
            return out

        return self._once(("real", id(t), dtype, name, allow_neg_inf), make)

    def _index(self, t: torch.Tensor, name: str) -> torch.Tensor:
        return self._once(("index", id(t), name), lambda: checks.require_integral(t, name))

    def prepare(self, spec: LossSpec, raw: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
        """What ``registry.prepare_inputs`` returns, without repeating work across candidates."""
        reals = [t for s, t in zip(spec.inputs, raw, strict=True) if s.kind == "real"]
        dtype = checks.common_float_dtype(reals)
        first = raw[0]
        out: dict[str, torch.Tensor] = {}
        for s, t in zip(spec.inputs, raw, strict=True):
            if s.kind == "real":
                out[s.name] = self._real(t, dtype, s.name, s.allow_inf)
            elif s.kind == "label" and t.is_floating_point() and t.shape == first.shape:
                out[s.name] = self._real(t, dtype, s.name, False)
            else:
                out[s.name] = self._index(t, s.name)
        return out

    def check(self, spec: LossSpec, tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
        """The loss's own check, memoised on the inputs and on the params it can depend on."""
        if spec.check is None:
            return
        key = ("check", spec.check, tuple(id(t) for t in tensors.values()), _param_key(params))
        self._once(key, lambda: spec.check(tensors, params))


def _param_key(params: dict[str, Any]) -> tuple[Any, ...]:
    items = []
    for k, v in sorted(params.items()):
        if k == "reduction":
            continue
        if isinstance(v, torch.Tensor):
            items.append((k, id(v)))
        elif isinstance(v, list):
            items.append((k, tuple(v)))
        elif callable(v):
            items.append((k, id(v)))
        else:
            items.append((k, v))
    return tuple(items)
