"""The report a person reads: everything the advisor found about one data set, on one page.

Modules, one job each: ``assemble`` (run the steps, on this process or a server, into a
``schema.report.Report``), ``plots`` (matplotlib figures on scales that let candidates be
compared), ``render`` (the self-contained HTML page, from Jinja2 templates in ``templates/``).
Neither torch nor scikit-learn is imported here: the light client renders pages of a server's
results. Rendering needs the ``report`` extra (Jinja2, matplotlib).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.schema.report import Report

__all__ = ["Report", "report"]


def report(
    targets: Any,
    features: Any = None,
    predictions: Any = None,
    *,
    path: str | Path | None = None,
    **options: Any,
) -> Report:
    """Profile and recommend; evaluate the candidates on ``predictions`` when given; validate
    them with probe models when ``validate=True``. With ``path``, also write the HTML page there.

    ``options`` are ``advisor.reporting.assemble.assemble``'s (``task``, ``goal``, ``top_k``,
    ``categorical``, ``validate``, ``folds``, ``model``, ``epochs``, ``budget_s``, ``seed``,
    ``title``...), meaning what they mean to ``advisor.recommend``, ``advisor.evaluate`` and
    ``advisor.validate``; a named pandas Series of targets names the report. The returned
    ``Report`` serialises with ``model_dump_json``; render it later with
    ``advisor.reporting.render.write(report, path)``.
    """
    import advisor
    from advisor.reporting.assemble import assemble

    name = getattr(targets, "name", None)
    options.setdefault("target", name if isinstance(name, str) else None)
    result = assemble(advisor, targets, features, predictions, **options)
    if path is not None:
        from advisor.reporting.render import write

        write(result, path)
    return result
