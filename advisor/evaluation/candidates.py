"""Turn the caller's candidate list into validated (spec, params) pairs, keeping their order.

Unknown names and out-of-range hyperparameters are request-level errors: they are raised with
the candidate's position in ``field`` so a caller with twenty candidates knows which one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from advisor.errors import AdvisorError, InvalidInputError, ParameterError, UnknownLossError
from advisor.losses import get, registry
from advisor.losses.spec import LossSpec
from advisor.schema.evaluation import CandidateResult, Diagnostics

if TYPE_CHECKING:
    from advisor.evaluation.runner import Outcome


@dataclass
class Candidate:
    """One candidate: its position, spec, the params as given and as resolved (defaults filled)."""

    index: int
    spec: LossSpec
    given: dict[str, Any]
    params: dict[str, Any]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def reduction(self) -> str:
        return self.params.get("reduction", "mean")


def parse(candidates: Sequence[Any]) -> list[Candidate]:
    """Names or ``{"loss": name, "params": {...}}`` dicts, in order; raises typed errors naming the position."""
    if isinstance(candidates, (str, Mapping)):
        candidates = [candidates]
    parsed = []
    for i, item in enumerate(candidates):
        field = f"candidates[{i}]"
        if isinstance(item, str):
            name, given = item, {}
        elif isinstance(item, Mapping):
            if "loss" not in item:
                raise InvalidInputError(
                    "a candidate dict needs a 'loss' key", field=field, expected="{'loss': name, 'params': {...}}", got=sorted(item)
                )
            extra = set(item) - {"loss", "params"}
            if extra:
                raise InvalidInputError(
                    f"unexpected keys {sorted(extra)}", field=field, expected="keys 'loss' and 'params'", got=sorted(item)
                )
            name, given = item["loss"], dict(item.get("params") or {})
        else:
            raise InvalidInputError(
                "must be a loss name or a {'loss': name, 'params': {...}} dict", field=field, expected="str or dict", got=type(item).__name__
            )
        try:
            spec = get(name)
        except UnknownLossError as exc:
            raise UnknownLossError(str(name), exc.suggestions, field=f"{field}.loss") from None
        try:
            params = registry.resolve_params(spec, given)
        except ParameterError as exc:
            raise ParameterError(exc.message, field=f"{field}.{exc.field}", expected=exc.expected, got=exc.got) from None
        parsed.append(Candidate(i, spec, given, params))
    return parsed


def params_to(params: dict[str, Any], dtype: torch.dtype, device: torch.device) -> dict[str, Any]:
    """Tensor params moved to the inputs' device and float dtype, as ``advisor.losses.compute`` does."""
    return {k: (v.to(device=device, dtype=dtype) if isinstance(v, torch.Tensor) else v) for k, v in params.items()}


def json_params(given: dict[str, Any]) -> dict[str, Any]:
    """The params as the caller gave them, made JSON-friendly for the report."""
    out: dict[str, Any] = {}
    for k, v in given.items():
        if hasattr(v, "tolist"):  # tensors and numpy arrays
            out[k] = v.tolist()
        elif callable(v):
            out[k] = getattr(v, "__name__", repr(v))
        else:
            out[k] = v
    return out


def computed(cand: Candidate, out: Outcome, diagnostics: Diagnostics | None) -> CandidateResult:
    """The result of a candidate that was evaluated: its value (or values), path and diagnostics."""
    return CandidateResult(
        loss=cand.name,
        params=json_params(cand.given),
        value=out.value,
        values=out.values,
        family=cand.spec.family.value,
        path=out.path,
        diagnostics=diagnostics,
    )


def skipped(cand: Candidate, exc: AdvisorError) -> CandidateResult:
    """The result of a candidate that does not fit the data: the reason, never a value."""
    return CandidateResult(
        loss=cand.name,
        params=json_params(cand.given),
        skipped=True,
        reason=f"{exc.field}: {exc.message}",
        family=cand.spec.family.value,
    )
