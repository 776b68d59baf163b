"""The cap on computations running at once, and the record of how close load came to it.

A call over the cap is refused at once rather than queued, so a caller learns about overload
before its deadline burns. ``peak`` is the most that ever ran together: the number that shows
the cap held, which ``active`` alone (a moment's value) cannot.
"""

from __future__ import annotations

import threading

from advisor.errors import CapacityError


class Overloaded(CapacityError):
    pass


class Limiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.peak = 0
        self.refused = 0
        self._lock = threading.Lock()

    def try_enter(self) -> int:
        """Take a slot; return how many computations run now, this one included."""
        with self._lock:
            if self.active >= self.limit:
                self.refused += 1
                raise Overloaded(
                    f"server busy: {self.limit} computations already running; retry later",
                    field="",
                    expected=f"<= {self.limit} concurrent calls",
                )
            self.active += 1
            self.peak = max(self.peak, self.active)
            return self.active

    def leave(self) -> None:
        with self._lock:
            self.active -= 1
