"""Loss recommendation: the decision table as data, ranking as a pure function of the profile.

Modules, one job each: ``core`` (recommend), ``facts`` (the profile flattened into named
facts), ``table`` (the rules), ``rank`` (scoring), ``derive`` (hyperparameters from the
data), ``document`` (the rules as ``docs/decision-table.md``); goals are parsed by
``advisor.schema.goal``, light enough for a command line to check them before any work.
``recommend`` and ``recommend_from_profile`` load lazily: the table and its documentation
import neither torch nor scikit-learn, so the light client can cite rules (the HTML report).

>>> import advisor
>>> advisor.recommend([0, 1, 1, 0, 1, 0]).best.loss
'BCEWithLogitsLoss'
"""

from typing import Any

from advisor.recommender.table import RULES, Rule, describe
from advisor.schema.goal import parse_goal

__all__ = ["RULES", "Rule", "describe", "parse_goal", "recommend", "recommend_from_profile"]


def __getattr__(name: str) -> Any:
    if name in ("recommend", "recommend_from_profile"):
        from advisor.recommender import core

        return getattr(core, name)
    raise AttributeError(f"module 'advisor.recommender' has no attribute {name!r}")
