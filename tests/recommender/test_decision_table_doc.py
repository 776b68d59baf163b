"""The decision table's page is generated from the table and kept current."""

from __future__ import annotations

import numpy as np

import advisor
from advisor.recommender import document
from advisor.recommender.table import RULES


def test_the_committed_page_is_what_the_table_generates():
    assert document.PAGE.read_text(encoding="utf-8") == document.render(), (
        "docs/decision-table.md is stale: run python -m advisor.recommender.document"
    )


def test_every_rule_a_recommendation_cites_is_on_the_page():
    page = document.PAGE.read_text(encoding="utf-8")
    assert all(f"### `{rule.id}`" in page for rule in RULES)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    rec = advisor.recommend(x @ [1.0, 2.0, -1.0] + rng.standard_t(2, 500), features=x)
    cited = {rule for c in rec.candidates for rule in c.rules} | {r for a in rec.avoid for r in a.rules}
    assert cited and all(f"### `{rule}`" in page for rule in cited)
    assert f"rules: {', '.join(rec.best.rules)}" in rec.explain()
