"""Catalog losses as ready ``torch.nn.Module`` objects, for training loops.

``build`` returns the ``torch.nn`` class itself where one exists, so checkpoints, hooks and
``torch.compile`` see exactly what they would without the advisor. Losses torch lacks are
exposed the way guide 000 shows custom losses: a subclass of ``nn.Module`` whose
``forward(predictions, targets)`` computes the loss. Hyperparameters are validated once, at
construction; tensor-valued ones are buffers, so ``.to(device)`` moves them with the module.
"""

from __future__ import annotations

from typing import Any

import torch

from advisor.losses.registry import get, resolve_params, specs

__all__ = ["CatalogLoss", "build"]


class CatalogLoss(torch.nn.Module):
    """Base of the catalog's own losses; one subclass per loss, named after it."""

    loss_name: str = ""

    def __init__(self, **params: Any) -> None:
        super().__init__()
        spec = get(self.loss_name)
        resolved = resolve_params(spec, params)
        self._plain: dict[str, Any] = {}
        for key, value in resolved.items():
            if isinstance(value, torch.Tensor):
                self.register_buffer(key, value.to(torch.get_default_dtype()))
            else:
                self._plain[key] = value
        self._tensor_names = [k for k, v in resolved.items() if isinstance(v, torch.Tensor)]
        self._fn = spec.fn

    def _params(self, like: torch.Tensor) -> dict[str, Any]:
        params = dict(self._plain)
        for key in self._tensor_names:
            buffer = getattr(self, key)
            params[key] = buffer.to(dtype=like.dtype) if like.is_floating_point() else buffer
        return params

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self._fn(*inputs, **self._params(inputs[0]))

    def extra_repr(self) -> str:
        shown = {**self._plain, **{k: getattr(self, k).tolist() for k in self._tensor_names}}
        return ", ".join(f"{k}={v!r}" for k, v in shown.items() if v is not None)


_CLASSES: dict[str, type[CatalogLoss]] = {
    spec.name: type(spec.name, (CatalogLoss,), {"loss_name": spec.name, "__doc__": spec.summary})
    for spec in specs()
    if spec.torch_class is None
}
globals().update(_CLASSES)


def build(name: str, **params: Any) -> torch.nn.Module:
    """A configured loss module: ``torch.nn.<Name>`` where torch has it, ours otherwise."""
    spec = get(name)
    resolved = resolve_params(spec, params)
    if spec.torch_class is None:
        return _CLASSES[name](**params)
    torch_params = {k: v for k, v in resolved.items() if k in params or k == "reduction"}
    return getattr(torch.nn, spec.torch_class)(**torch_params)
