"""The loss catalog: one vocabulary of losses, their specs, and a validated ``compute``.

    from advisor import losses
    losses.compute("HuberLoss", x, y, delta=0.5)   # == torch.nn.HuberLoss(delta=0.5)(x, y)
    losses.get("FocalLoss").describe()            # family, tasks, hyperparameter ranges
    losses.build("FocalLoss", gamma=2.0)          # a ready nn.Module for a training loop

Inputs may be tensors, numpy arrays or lists; every call is validated first.

Modules, one job each: ``spec`` (the shape of a catalog entry: inputs, tasks, valid
hyperparameters), ``registry`` (the one registry, and ``compute``), ``checks`` (input
conversion and the shared checks, each raising a typed, field-named error), ``modules``
(catalog losses as ``torch.nn.Module`` objects), and the entries by family: ``regression``,
``classification``, ``probabilistic`` (counts, heteroscedastic regression, distributions),
``embedding`` (pairs and triplets) and ``sequence`` (CTC).
"""

from advisor.losses import classification, embedding, probabilistic, regression, sequence  # noqa: F401  (registration)
from advisor.losses.modules import build
from advisor.losses.registry import compute, get, names, resolve_params, specs, suggest
from advisor.losses.spec import InputSpec, LossSpec, ParamSpec

__all__ = [
    "InputSpec",
    "LossSpec",
    "ParamSpec",
    "build",
    "compute",
    "get",
    "names",
    "resolve_params",
    "specs",
    "suggest",
]
