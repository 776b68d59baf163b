"""Data profiling: the measured facts a loss recommendation is derived from.

Modules, one job each: ``core`` (one pass, orchestration), ``task_rules`` (which task),
``targets`` (numeric target statistics), ``classes`` (balance, multilabel, distributions),
``counts`` (dispersion), ``features`` (feature-space outliers), ``predictions`` (their
format), ``residuals`` (what a quick cross-fitted model of the features leaves unexplained)
and ``integers`` (what integer targets stand for, settled by held-out fits). Inputs are
converted by ``advisor.ingest`` before any of them sees them.

>>> import advisor
>>> advisor.profile([0.0, 1.0, 1.0, 0.0]).task.task.value
'binary'
"""

from advisor.profiler.core import profile
from advisor.vocabulary import parse_task

__all__ = ["parse_task", "profile"]
