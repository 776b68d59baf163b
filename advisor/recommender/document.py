"""The decision table as a page people can read: ``docs/decision-table.md``.

Rationales cite the rule ids of ``table.RULES`` (``Candidate.rules``); this page is where a
user looks them up. It is generated from the table itself, so it cannot drift from what
runs (a test compares the committed page with this output). Regenerate with
``python -m advisor.recommender.document``. ``parts`` gives one rule's fields, which the HTML
report shows for the rules its candidates cite.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from advisor.recommender.table import RULES, Rule

PAGE = Path(__file__).resolve().parents[2] / "docs" / "decision-table.md"

SOURCES = """\
## Sources

The rules cite where they come from:

- **guide 000**: a tutorial on PyTorch loss functions with a decision table (L1, MSE,
  cross-entropy, hinge, Huber, Poisson: when to use each) and a procedure for choosing one:
  problem type, outliers, class imbalance, architecture, goals.
- **guide 001**: twelve `torch.nn` losses with code. Its claim that SmoothL1 is *more* sensitive
  to outliers than MSE is wrong (it is Huber divided by beta, so less); rules that touch it say
  "corrected".
- **guide 002**: regression against classification losses, and which output activation pairs
  with which loss.
- **guide 003**: input conventions: tensors, shapes (N against N × C), and NLLLoss needing
  log-probabilities.
- **past the guides**: the literature the guides do not cover, named in the rule's source or
  its text: the focal, class-balanced and logit-adjusted losses, label smoothing, the Tweedie,
  negative-binomial and Gaussian likelihoods, the quantile (pinball) loss, CTC, proper scoring
  rules, mean-variance estimation, the fractional logit for shares (Papke & Wooldridge 1996),
  the Gamma's moments and models (Johnson, Kotz & Balakrishnan 1994; McCullagh & Nelder 1989).

The guides are public tutorials the project was built from; they are read for intent, not as
truth, and their known mistakes are what the evaluation's lints catch in users' code.
"""


def _code(text: str) -> str:
    return f"`{text}`"


def parts(rule: Rule, code: Callable[[str], str] = _code) -> list[tuple[str, str]]:
    """The rule as (heading, text) pairs, in the page's order; ``code`` marks up clauses and
    derivations (backticks here, plain text for the HTML report, which escapes its own)."""
    out = [("Source", rule.cite)]
    out.append(("When", " and ".join(code(f"{f} {op} {v!r}") for f, op, v in rule.when) or "always"))
    up = [f"{loss} +{w:g}" for loss, w in rule.favour.items() if w > 0]
    down = [f"{loss} {w:g}" for loss, w in rule.favour.items() if w < 0]
    noted = [loss for loss, w in rule.favour.items() if w == 0]
    if up:
        out.append(("Favours", ", ".join(up)))
    if down:
        out.append(("Penalises", ", ".join(down)))
    if noted:
        out.append(("Notes, without changing the score of", ", ".join(noted)))
    if rule.avoid:
        out.append(("Rules out", ", ".join(rule.avoid)))
    if rule.params:
        derived = [
            f"{loss}.{param} ← {code(how)}"
            for loss, params in rule.params.items()
            for param, how in params.items()
        ]
        out.append(("Derives", ", ".join(derived)))
    out.append(("Says", rule.template))
    return out


def _rule(rule: Rule) -> str:
    lines = [f"### `{rule.id}`", ""]
    lines.extend(f"- **{heading}:** {text}" for heading, text in parts(rule))
    return "\n".join(lines)


def render() -> str:
    """The whole page."""
    head = [
        "# The decision table",
        "",
        "Generated from `advisor/recommender/table.py` by `python -m advisor.recommender.document`;",
        "do not edit by hand. Each recommended loss lists the ids of the rules that scored it",
        "(`Candidate.rules`, and `rules:` in `loss-advisor recommend`); look them up here.",
        "",
        "A rule fires when every clause of **When** holds for the profile's facts",
        "(`advisor/recommender/facts.py`). Its weights add up per loss; the highest total ranks",
        "first, and a loss a firing rule rules out is never recommended. **Says** is the",
        "rationale template: the braces are measured facts, filled in from your data. The",
        "derivations are in `advisor/recommender/derive.py`.",
        "",
        SOURCES,
        f"## The rules ({len(RULES)})",
        "",
    ]
    return "\n".join(head) + "\n\n".join(_rule(r) for r in RULES) + "\n"


def main() -> int:
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
