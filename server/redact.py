"""What of an error's text may go back to a caller.

The advisor's own messages say what was expected and what came, and they are meant for the
caller. Some of them wrap a lower layer's exception (``"HuberLoss rejected the inputs: <torch's
message>"``): that inner text describes the server's internals, not the request, so it is cut
out, and anything shaped like a file system path is masked whatever its origin.
"""

from __future__ import annotations

import re

_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?(?:[\\/][\w.@+-]+){2,}[\\/]?")
_LIMIT = 500


def _causes(exc: BaseException):
    seen = set()
    inner = exc.__cause__ or exc.__context__
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        yield inner
        inner = inner.__cause__ or inner.__context__


def public_message(exc: BaseException, text: str) -> str:
    """``text`` (the message of ``exc``) without its causes' texts and without paths."""
    from advisor.errors import AdvisorError

    for inner in _causes(exc):
        if isinstance(inner, AdvisorError):
            continue
        detail = str(inner)
        # A short cause text ("'x'", "0") could match anywhere; cut it only where it is appended.
        if detail and detail in text and (len(detail) >= 8 or text.endswith(detail)):
            text = _cut(text, detail)
    text = _PATH.sub("<path>", text)
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def _cut(text: str, detail: str) -> str:
    before, _, after = text.partition(detail)
    before = before.rstrip(" :;,(")
    after = after.lstrip(")")
    return (before + after).strip() or "rejected"
