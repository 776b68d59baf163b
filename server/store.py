"""Uploaded datasets, held once and referenced by id, within a byte budget and a TTL.

Ids come from ``secrets`` because a dataset id is the only thing standing between one caller's
data and another's. When the budget is full the least recently used datasets go first, and each
eviction is logged so a NOT_FOUND later can be explained from the log.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from advisor.errors import CapacityError, DatasetNotFoundError

log = logging.getLogger("server.store")


@dataclass
class Dataset:
    arrays: dict[str, np.ndarray]
    nbytes: int
    expires: float
    used: float = field(default=0.0)


class DatasetStore:
    def __init__(
        self,
        budget_bytes: int,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget_bytes
        self.ttl = ttl_s
        self._clock = clock
        self._data: OrderedDict[str, Dataset] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return sum(d.nbytes for d in self._data.values())

    def reserve_check(self, nbytes: int) -> None:
        """Refuse an upload up front when it could never fit, before its bytes arrive."""
        if nbytes > self.budget:
            raise CapacityError(
                f"dataset of {nbytes} bytes exceeds the store budget of {self.budget} bytes",
                field="header.arrays",
                expected=f"<= {self.budget} bytes",
                got=nbytes,
            )

    def put(self, arrays: dict[str, np.ndarray], nbytes: int) -> tuple[str, float]:
        self.reserve_check(nbytes)
        now = self._clock()
        with self._lock:
            self._expire(now)
            total = sum(d.nbytes for d in self._data.values())
            while self._data and total + nbytes > self.budget:
                old_id, old = self._data.popitem(last=False)
                total -= old.nbytes
                log.warning(
                    "dataset evicted",
                    extra={"dataset": old_id[:6], "bytes": old.nbytes, "reason": "budget"},
                )
            dataset_id = secrets.token_urlsafe(24)
            self._data[dataset_id] = Dataset(arrays, nbytes, now + self.ttl, now)
        return dataset_id, self.ttl

    def get(self, dataset_id: str, field: str = "dataset_id") -> Dataset:
        now = self._clock()
        with self._lock:
            self._expire(now)
            found = self._data.get(dataset_id)
            if found is None:
                raise DatasetNotFoundError(
                    "no such dataset (never uploaded, expired or deleted)",
                    field=field,
                    got=dataset_id[:6] + "…" if dataset_id else "",
                )
            found.used = now
            found.expires = now + self.ttl
            self._data.move_to_end(dataset_id)
            return found

    def delete(self, dataset_id: str) -> bool:
        with self._lock:
            return self._data.pop(dataset_id, None) is not None

    def _expire(self, now: float) -> None:
        for key in [k for k, d in self._data.items() if d.expires <= now]:
            gone = self._data.pop(key)
            log.info(
                "dataset expired", extra={"dataset": key[:6], "bytes": gone.nbytes, "reason": "ttl"}
            )
