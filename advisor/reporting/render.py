"""A ``Report`` as one self-contained HTML page, through Jinja2 templates.

Self-contained means the page loads nothing: the stylesheet is inlined, the plots are SVG
data URIs (glyphs drawn as paths, so no font is needed either), and the rules the candidates
cite are copied in from the decision table. It can be mailed, attached to a ticket or opened
offline, and it shows what the JSON holds, since it is rendered from the same object.

Templates live in ``templates/`` beside this module. Autoescaping is on: every text from the
data (column names, labels, reasons) is escaped by Jinja2, never by hand.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

from advisor.schema.report import Report


def _num(value: Any, digits: int = 4) -> str:
    """Numbers as people read them: 4 significant digits, '–' for missing, no Python reprs."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.1f}%"


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    from advisor.reporting.plots import label_of

    env = Environment(
        loader=PackageLoader("advisor.reporting", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2")),
        undefined=StrictUndefined,  # a misspelt field fails the render instead of printing ""
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["call"] = lambda item: label_of(item.loss, item.params, limit=200)
    env.globals["zip"] = zip
    return env


def _cited_rules(report: Report) -> list[dict[str, Any]]:
    """The decision table's rows that scored or ruled out a loss on this page, in table order."""
    from advisor.recommender.document import parts
    from advisor.recommender.table import RULES

    rec = report.recommendation
    cited = {rule for item in [*rec.candidates, *rec.runner_up, *rec.avoid] for rule in item.rules}
    return [
        {"id": rule.id, "parts": parts(rule, code=str)} for rule in RULES if rule.id in cited
    ]


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def html(report: Report) -> str:
    """The page's text."""
    from advisor.reporting.plots import figures

    images = {name: _data_uri(svg) for name, svg in figures(report).items()}
    return (
        _environment()
        .get_template("report.html.j2")
        .render(report=report, images=images, rules=_cited_rules(report))
    )


def write(report: Report, path: str | Path) -> Path:
    """Write the page to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(html(report), encoding="utf-8")
    return out
