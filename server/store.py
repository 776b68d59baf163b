"""Uploaded datasets, held once and referenced by id, within a byte budget and a TTL.

Ids come from ``secrets`` because a dataset id is the first thing standing between one caller's
data and another's; the second is the owner: with several tenants, a dataset is visible only to
the tenant that uploaded it, and to any other it does not exist (NOT_FOUND, never a hint).

The budget covers uploads still in flight as well as stored datasets: an upload reserves its
declared size before its bytes arrive, so many concurrent uploads cannot together hold more
memory than the budget. When the budget is full the least recently used datasets go first, and
each eviction is logged so a NOT_FOUND later can be explained from the log.

Bounds: the bytes charged (``nbytes`` of each ``put`` or ``reserve``) never exceed
``budget_bytes``, and a dataset unused for ``ttl_s`` is dropped. The server charges each
upload its arrays' memory plus ``codec.bookkeeping`` (a fixed cost per dataset and per array),
so the budget also bounds how many datasets are held, empty ones included: at most
``budget_bytes / codec.DATASET_OVERHEAD``.
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
    owner: str = ""


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
        self._stored = 0
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def used_bytes(self) -> int:
        """Stored bytes plus the bytes reserved by uploads in flight."""
        with self._lock:
            return self._stored + self._pending

    @property
    def pending_bytes(self) -> int:
        with self._lock:
            return self._pending

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def reserve_check(self, nbytes: int) -> None:
        """Refuse an upload up front when it could never fit, before its bytes arrive."""
        if nbytes > self.budget:
            raise CapacityError(
                f"dataset of {nbytes} bytes exceeds the store budget of {self.budget} bytes",
                field="header.arrays",
                expected=f"<= {self.budget} bytes",
                got=nbytes,
            )

    def reserve(self, nbytes: int) -> None:
        """Hold ``nbytes`` of the budget for an upload about to receive them.

        Stored datasets are evicted to make room; only other uploads in flight can make this
        fail, and then the caller learns at once rather than after sending everything.
        """
        self.reserve_check(nbytes)
        with self._lock:
            self._expire(self._clock())
            if self._pending + nbytes > self.budget:
                raise CapacityError(
                    "the dataset store is full of uploads in progress; retry later",
                    field="header.arrays",
                    expected=f"<= {self.budget - self._pending} bytes",
                    got=nbytes,
                )
            self._evict_for(nbytes)
            self._pending += nbytes

    def release(self, nbytes: int) -> None:
        """Give back a reservation whose upload failed or was abandoned."""
        with self._lock:
            self._pending = max(0, self._pending - nbytes)

    def put(
        self,
        arrays: dict[str, np.ndarray],
        nbytes: int,
        owner: str = "",
        *,
        reserved: bool = False,
    ) -> tuple[str, float]:
        """Store arrays; ``reserved`` says their bytes were held by :meth:`reserve` already."""
        if not reserved:
            self.reserve(nbytes)
        now = self._clock()
        with self._lock:
            self._pending = max(0, self._pending - nbytes)
            dataset_id = secrets.token_urlsafe(24)
            self._data[dataset_id] = Dataset(arrays, nbytes, now + self.ttl, now, owner)
            self._stored += nbytes
            held = self._stored + self._pending
        log.info(
            "dataset stored",
            extra={"dataset": dataset_id[:6], "bytes": nbytes, "store_bytes": held},
        )
        return dataset_id, self.ttl

    def get(self, dataset_id: str, field: str = "dataset_id", owner: str = "") -> Dataset:
        now = self._clock()
        with self._lock:
            self._expire(now)
            found = self._data.get(dataset_id)
            if found is None or found.owner != owner:
                raise DatasetNotFoundError(
                    "no such dataset (never uploaded, expired or deleted)",
                    field=field,
                    got=dataset_id[:6] + "…" if dataset_id else "",
                )
            found.used = now
            found.expires = now + self.ttl
            self._data.move_to_end(dataset_id)
            return found

    def delete(self, dataset_id: str, owner: str = "") -> bool:
        with self._lock:
            found = self._data.get(dataset_id)
            if found is None or found.owner != owner:
                return False
            self._drop(dataset_id)
            return True

    def _drop(self, key: str) -> Dataset:
        gone = self._data.pop(key)
        self._stored -= gone.nbytes
        return gone

    def _evict_for(self, nbytes: int) -> None:
        while self._data and self._stored + self._pending + nbytes > self.budget:
            old_id = next(iter(self._data))
            old = self._drop(old_id)
            log.warning(
                "dataset evicted",
                extra={"dataset": old_id[:6], "bytes": old.nbytes, "reason": "budget"},
            )

    def _expire(self, now: float) -> None:
        for key in [k for k, d in self._data.items() if d.expires <= now]:
            gone = self._drop(key)
            log.info(
                "dataset expired", extra={"dataset": key[:6], "bytes": gone.nbytes, "reason": "ttl"}
            )
