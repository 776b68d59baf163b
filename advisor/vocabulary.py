"""Names shared by the domain, the wire and the client: tasks and input conventions.

Kept free of torch and scikit-learn so the light client can import it.
"""

from __future__ import annotations

from enum import Enum

from advisor.errors import ParameterError


class Task(str, Enum):
    """What the model predicts; the profiler infers it, the recommender keys on it."""

    REGRESSION = "regression"
    COUNT = "count"
    BINARY = "binary"
    MULTICLASS = "multiclass"
    MULTILABEL = "multilabel"
    DISTRIBUTION = "distribution"
    RANKING = "ranking"
    EMBEDDING = "embedding"
    SEQUENCE = "sequence"


class Family(str, Enum):
    """A loss's input convention. Losses of one family can be computed in one pass."""

    REGRESSION = "regression_values"
    BINARY_LOGITS = "binary_logits"
    BINARY_PROBABILITIES = "binary_probabilities"
    MULTICLASS_LOGITS = "multiclass_logits"
    LOG_PROBABILITIES = "log_probabilities"
    DISTRIBUTIONS = "distributions"
    PAIRS = "pairs"
    TRIPLETS = "triplets"
    SEQUENCES = "sequences"


def parse_task(task: object) -> Task | None:
    """A ``task=`` argument as a Task; unknown names raise ``ParameterError`` naming ``task``."""
    if task is None:
        return None
    if isinstance(task, Task):
        return task
    try:
        return Task(str(task).strip().lower())
    except ValueError:
        raise ParameterError(
            f"unknown task {task!r}; expected one of {', '.join(t.value for t in Task)}",
            field="task",
            expected=[t.value for t in Task],
            got=task,
        ) from None
