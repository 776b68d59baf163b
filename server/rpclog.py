"""The one structured line per RPC: method, status, duration and bytes, as JSON.

``extra`` carries what only some calls have (how many computations ran when one was admitted),
so that overload and cancellation can be checked from the log alone.
"""

from __future__ import annotations

import json
import logging
import time

log = logging.getLogger("server.rpc")


def log_rpc(
    method: str,
    status: str,
    started: float,
    bytes_in: int,
    bytes_out: int,
    peer: str,
    **extra: object,
) -> None:
    log.info(
        json.dumps(
            {
                "event": "rpc",
                "method": method,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "bytes_in": bytes_in,
                "bytes_out": bytes_out,
                "peer": peer,
                **extra,
            }
        )
    )
