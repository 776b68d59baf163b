"""A computation's stop signal, and how much work it did after being told to stop.

Every computing RPC hands its ``Cancel`` to the domain, which checks it between steps: Profile
and Recommend between feature columns and baseline fits, Evaluate between kernel calls,
Validate between epochs, Benchmark between timed calls (``advisor.cancel``). The log's
``stopped_ms`` (from the signal to the work's end) and, for training, the progress steps
reported after the signal show whether a cancelled or timed-out call really stopped within a
step, rather than burning a worker until it finished on its own.
"""

from __future__ import annotations

import threading
import time


class Cancel(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self.set_at: float | None = None
        self.steps_after = 0

    def set(self) -> None:
        if self.set_at is None:
            self.set_at = time.perf_counter()
        super().set()

    def step(self) -> None:
        """Called on each progress step; counts those that ran after the stop signal."""
        if self.is_set():
            self.steps_after += 1

    def stopped_ms(self) -> float | None:
        """Milliseconds from the stop signal until now (the work's end), None if never set."""
        if self.set_at is None:
            return None
        return round((time.perf_counter() - self.set_at) * 1000, 3)


def release_memory() -> None:
    """After an allocation failure: drop garbage and torch's cached blocks so the next request
    starts from the memory the failed one could not get."""
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
