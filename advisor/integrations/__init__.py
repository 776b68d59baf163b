"""Bridges to tuning and pipeline libraries: Optuna search spaces and scikit-learn estimators.

Attributes load on first use, so importing this package pulls in neither Optuna, Ray nor
scikit-learn; each submodule says which extra it needs (``loss-advisor[optuna]``,
``loss-advisor[server]`` for scikit-learn).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "suggest_loss": "advisor.integrations.optuna",
    "build_loss": "advisor.integrations.optuna",
    "enqueue_recommended": "advisor.integrations.optuna",
    "search_space": "advisor.integrations.optuna",
    "SuggestedLoss": "advisor.integrations.optuna",
    "LossProbeRegressor": "advisor.integrations.sklearn",
    "LossProbeClassifier": "advisor.integrations.sklearn",
    "cross_val_loss_scores": "advisor.integrations.sklearn",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'advisor.integrations' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
