"""Per-candidate input preparation, shared between candidates that read the inputs the same way.

``advisor.losses.registry.prepare_inputs`` converts and checks every input for one call; with K
candidates it would cast and scan the data K times. This cache does the same conversions once
per (tensor, convention) and reads finiteness from the request's cached min/max.

Bound: one cache per request (``evaluate`` makes it, and drops it on return), holding at most
one entry per (input tensor, dtype, convention) and one check per (loss, params it read): no
memo lives across calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from advisor.errors import InvalidInputError, NonFiniteError
from advisor.evaluation.candidates import params_to
from advisor.evaluation.inputs import Inputs, assemble
from advisor.losses import checks
from advisor.losses.spec import LossSpec


class PrepareCache:
    """Memoised conversions for one request."""

    def __init__(self, inp: Inputs) -> None:
        self.inp = inp
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._checks: dict[tuple[Any, ...], list[tuple[dict[str, Any], InvalidInputError | None]]] = {}

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

    def ready(self, spec: LossSpec, params: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """A candidate's tensors, and its resolved params moved to their device and float dtype,
        checked; raises ``InvalidInputError`` where the inputs do not fit the loss."""
        tensors = self.prepare(spec, assemble(spec, self.inp))
        lead = next(iter(tensors.values()))
        moved = params_to(params, lead.dtype if lead.is_floating_point() else self.inp.float_dtype, lead.device)
        self.check(spec, tensors, moved)
        return tensors, moved

    def check(self, spec: LossSpec, tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
        """The loss's own check, memoised on the inputs and on the params it actually read.

        A check is a deterministic function of the tensors and of the params it reads, so the
        params are handed over in a dict that records the keys read: a later candidate of the
        same loss whose params agree on those keys (label smoothing does not matter to a label
        check) reuses the outcome instead of scanning the targets again.
        """
        if spec.check is None:
            return
        base = ("check", spec.check, tuple(id(t) for t in tensors.values()))
        for read, outcome in self._checks.get(base, []):
            if all(_read_key(params, k) == v for k, v in read.items()):
                if outcome is not None:
                    raise outcome
                return
        seen = _Reads(params)
        outcome: InvalidInputError | None = None
        try:
            spec.check(tensors, seen)
        except InvalidInputError as exc:
            outcome = exc
        read = {k: _read_key(params, k) for k in (set(params) if seen.all_read else seen.read)}
        self._checks.setdefault(base, []).append((read, outcome))
        if outcome is not None:
            raise outcome


def _read_key(params: dict[str, Any], key: str) -> Any:
    """What a check saw when it read ``key``: the value's key, or None when it was absent (or
    is the reduction, which no check depends on)."""
    if key not in params or key == "reduction":
        return None
    v = params[key]
    if isinstance(v, torch.Tensor):
        # small tensors (class weights, priors) by value: equal weights given twice are equal
        return (tuple(v.shape), str(v.dtype), tuple(v.reshape(-1).tolist())) if v.numel() <= 4096 else id(v)
    if isinstance(v, list):
        return tuple(v)
    return id(v) if callable(v) else v


class _Reads(dict):
    """A params dict that remembers which keys a check looked at (all of them if it iterated)."""

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.read: set[str] = set()
        self.all_read = False

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)

    def __iter__(self):
        self.all_read = True
        return super().__iter__()

    def keys(self):
        self.all_read = True
        return super().keys()

    def values(self):
        self.all_read = True
        return super().values()

    def items(self):
        self.all_read = True
        return super().items()

    def copy(self) -> dict[str, Any]:
        self.all_read = True
        return dict(super().items())
