"""Loss recommendation: the decision table as data, ranking as a pure function of the profile.

Modules, one job each: ``core`` (recommend), ``facts`` (the profile flattened into named
facts), ``table`` (the rules), ``rank`` (scoring), ``derive`` (hyperparameters from the
data), ``document`` (the rules as ``docs/decision-table.md``); goals are parsed by
``advisor.schema.goal``, light enough for a command line to check them before any work.

>>> import advisor
>>> advisor.recommend([0, 1, 1, 0, 1, 0]).best.loss
'BCEWithLogitsLoss'
"""

from advisor.recommender.core import recommend, recommend_from_profile
from advisor.recommender.table import RULES, Rule, describe
from advisor.schema.goal import parse_goal

__all__ = ["RULES", "Rule", "describe", "parse_goal", "recommend", "recommend_from_profile"]
