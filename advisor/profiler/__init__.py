"""Data profiling: the measured facts a loss recommendation is derived from.

>>> import advisor
>>> advisor.profile([0.0, 1.0, 1.0, 0.0]).task.task.value
'binary'
"""

from advisor.profiler.core import profile
from advisor.vocabulary import parse_task

__all__ = ["parse_task", "profile"]
