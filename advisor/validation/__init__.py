"""Empirical validation: probe models trained with every candidate loss at once, cross-validated.

Modules, one job each: ``core`` (``validate``: the request's order of work and the report),
``data`` (features and targets as tensors, prepared per fold, and the fold assignment),
``heads`` (how a probe's raw outputs become each loss's inputs and the task's predictions),
``probes`` (the stacked K candidates × F folds models), ``trainer`` (the batched training
loop), ``metrics`` (held-out metrics from scikit-learn) and ``ray_backend`` (the candidate
grid as Ray tasks).
"""

from advisor.validation.core import validate

__all__ = ["validate"]
