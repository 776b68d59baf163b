"""The loss catalog: one vocabulary of losses, their specs, and a validated ``compute``.

    >>> from advisor import losses
    >>> float(losses.compute("HuberLoss", [0.0, 2.0], [0.0, 0.0], delta=0.5))
    0.4375
"""

from advisor.losses import classification, embedding, probabilistic, regression, sequence  # noqa: F401  (registration)
from advisor.losses.registry import compute, get, names, resolve_params, specs, suggest
from advisor.losses.spec import InputSpec, LossSpec, ParamSpec

__all__ = [
    "InputSpec",
    "LossSpec",
    "ParamSpec",
    "compute",
    "get",
    "names",
    "resolve_params",
    "specs",
    "suggest",
]
