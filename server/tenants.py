"""Bearer tokens and the tenants they stand for.

A token file holds one token per line; each token is its own tenant, so one server can be shared
by several teams without one of them reading another's datasets. A file with a single line is
the single-tenant case. Blank lines and lines starting with ``#`` are ignored so a file can carry
notes on who holds which token.

The tenant id is a digest of the token, never the token itself: it ends up in logs and in the
dataset store, neither of which should hold a secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

AUTH_KEY = "authorization"


def _tenant_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class Tenants:
    def __init__(self, tokens: Iterable[str]) -> None:
        cleaned = [t.strip() for t in tokens]
        self._expected = [(f"Bearer {t}".encode(), _tenant_id(t)) for t in cleaned if t]
        if not self._expected:
            raise ValueError("no tokens given")

    @classmethod
    def parse(cls, text: str) -> Tenants:
        return cls(line for line in text.splitlines() if not line.strip().startswith("#"))

    def __len__(self) -> int:
        return len(self._expected)

    def identify(self, metadata) -> str | None:
        """The tenant whose token the call's metadata carries, or None.

        Every token is compared, in constant time each, so the time taken says nothing about
        which token (or how much of one) a guess matched.
        """
        given = dict(metadata or ()).get(AUTH_KEY, b"")
        if isinstance(given, str):
            given = given.encode()
        found = None
        for expected, tenant in self._expected:
            if hmac.compare_digest(given, expected):
                found = tenant
        return found
