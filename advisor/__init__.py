"""loss-advisor: profile data, recommend, evaluate and benchmark loss functions.

Attributes are loaded lazily so that importing ``advisor.errors`` or ``advisor.schema``
(as the light client does) never pulls in torch or scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "losses": ("advisor.losses", None),
    # Function names differ from their modules' names on purpose: importing a submodule
    # binds its name on the package, which would shadow a function of the same name.
    "profile": ("advisor.profiler", "profile"),
    "recommend": ("advisor.recommender", "recommend"),
    "evaluate": ("advisor.evaluation", "evaluate"),
    "warmup": ("advisor.evaluation", "warmup"),
    "validate": ("advisor.validation", "validate"),
    "report": ("advisor.reporting", "report"),
}


def installed_version() -> str:
    """The installed distribution's version; ``__version__`` in a checkout never installed."""
    from importlib import metadata

    try:
        return metadata.version("loss-advisor")
    except metadata.PackageNotFoundError:
        return __version__


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'advisor' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
