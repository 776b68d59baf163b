"""The one registry of loss specs, and ``compute``: validate, convert, then call the pure function."""

from __future__ import annotations

import difflib
from typing import Any

import torch

from advisor.errors import InvalidInputError, ParameterError, UnknownLossError
from advisor.losses import checks
from advisor.losses.spec import LossSpec

_REGISTRY: dict[str, LossSpec] = {}

# Everyday names people type, mapped to catalog names; used only for suggestions.
_ALIASES = {
    "mae": "L1Loss",
    "l1": "L1Loss",
    "mse": "MSELoss",
    "l2": "MSELoss",
    "huber": "HuberLoss",
    "smoothl1": "SmoothL1Loss",
    "ce": "CrossEntropyLoss",
    "crossentropy": "CrossEntropyLoss",
    "categoricalcrossentropy": "CrossEntropyLoss",
    "nll": "NLLLoss",
    "bce": "BCELoss",
    "bcewithlogits": "BCEWithLogitsLoss",
    "binarycrossentropy": "BCEWithLogitsLoss",
    "poisson": "PoissonNLLLoss",
    "kl": "KLDivLoss",
    "kldiv": "KLDivLoss",
    "hinge": "HingeLoss",
    "focal": "FocalLoss",
    "pinball": "QuantileLoss",
    "quantile": "QuantileLoss",
    "tweedie": "TweedieLoss",
    "logcosh": "LogCoshLoss",
    "dice": "DiceLoss",
    "triplet": "TripletMarginLoss",
    "ctc": "CTCLoss",
    "barron": "AdaptiveRobustLoss",
    "negativebinomial": "NegativeBinomialNLLLoss",
}


def register(spec: LossSpec) -> LossSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"loss {spec.name!r} registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def names() -> list[str]:
    """Every catalog name, in registration order (torch.nn losses first)."""
    return list(_REGISTRY)


def specs() -> list[LossSpec]:
    return list(_REGISTRY.values())


def suggest(name: str, n: int = 3) -> list[str]:
    key = str(name).lower().replace("_", "").replace("-", "").replace(" ", "")
    stem = key[:-4] if key.endswith("loss") else key
    found: list[str] = []
    if stem in _ALIASES:
        found.append(_ALIASES[stem])
    lowered = {k.lower(): k for k in _REGISTRY}
    found += [lowered[m] for m in difflib.get_close_matches(key, list(lowered), n=n, cutoff=0.6)]
    found += difflib.get_close_matches(str(name), list(_REGISTRY), n=n, cutoff=0.5)
    return list(dict.fromkeys(found))[:n]


def get(name: str) -> LossSpec:
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownLossError(str(name), suggest(str(name))) from None


def resolve_params(spec: LossSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in, every value validated against the spec; unknown names rejected."""
    unknown = [k for k in params if k not in spec.param_names]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, spec.param_names, n=2, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ParameterError(
            f"{spec.name} has no hyperparameter {key!r}{hint} (it takes {', '.join(spec.param_names) or 'none'})",
            field=f"params.{key}",
            expected=list(spec.param_names),
            got=key,
        )
    resolved = spec.defaults()
    resolved.update(params)
    return {p.name: p.validate(resolved[p.name], spec.name) for p in spec.params}


def prepare_inputs(spec: LossSpec, inputs: tuple[Any, ...]) -> dict[str, torch.Tensor]:
    """Convert positional inputs to tensors on one device and dtype, and run the generic checks."""
    if len(inputs) != len(spec.inputs):
        raise InvalidInputError(
            f"{spec.name} takes {len(spec.inputs)} inputs ({', '.join(i.name for i in spec.inputs)}), got {len(inputs)}",
            field="inputs",
            expected=len(spec.inputs),
            got=len(inputs),
        )
    raw = {i.name: checks.to_tensor(v, i.name) for i, v in zip(spec.inputs, inputs, strict=True)}
    device = next((v.device for v in inputs if isinstance(v, torch.Tensor)), torch.device("cpu"))
    first = raw[spec.inputs[0].name]
    real_names = [i.name for i in spec.inputs if i.kind == "real"]
    dtype = checks.common_float_dtype(raw[n] for n in real_names)
    tensors: dict[str, torch.Tensor] = {}
    for ispec in spec.inputs:
        t = raw[ispec.name].to(device)
        checks.require_nonempty(t, ispec.name)
        if ispec.kind == "real":
            if not t.is_complex():
                t = t.to(dtype)
            checks.require_finite(t, ispec.name, allow_neg_inf=ispec.allow_inf)
        elif ispec.kind == "label" and t.is_floating_point() and t.shape == first.shape:
            t = t.to(dtype)  # probabilities of the same shape as the input
            checks.require_finite(t, ispec.name)
        else:
            t = checks.require_integral(t, ispec.name)
        tensors[ispec.name] = t
    return tensors


def _params_to(params: dict[str, Any], like: torch.Tensor) -> dict[str, Any]:
    dtype = like.dtype if like.is_floating_point() else torch.get_default_dtype()
    return {
        k: (v.to(device=like.device, dtype=dtype) if isinstance(v, torch.Tensor) else v)
        for k, v in params.items()
    }


def compute(name: str, *inputs: Any, **params: Any) -> torch.Tensor:
    """Evaluate catalog loss ``name``; positional inputs follow its ``torch.nn`` forward signature.

    ``compute("HuberLoss", x, y, delta=0.5)`` equals ``torch.nn.HuberLoss(delta=0.5)(x, y)``.
    Numpy arrays and lists are converted; everything is validated first, so a mistake raises
    an ``advisor.errors`` exception naming the field instead of a torch stack trace or,
    worse, a silently wrong number.
    """
    spec = get(name)
    resolved = resolve_params(spec, params)
    tensors = prepare_inputs(spec, inputs)
    resolved = _params_to(resolved, tensors[spec.inputs[0].name])
    if spec.check is not None:
        spec.check(tensors, resolved)
    try:
        return spec.fn(*tensors.values(), **resolved)
    except (RuntimeError, ValueError, IndexError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(
            f"{spec.name} rejected the inputs: {exc}", field="inputs", expected=None, got=None
        ) from exc
