"""A caller's stop signal: an event with ``is_set()`` or a callable returning True.

``is_set`` reads one, for every step that stops early: validation's training loop (locally and
on Ray), the benchmarks between timed calls, and evaluation. ``advisor.evaluate(cancel=...)``
installs its signal for its thread (``cancellable``); every kernel call checks it first
(``dispatch.run``), and so does each candidate's slot of an elementwise kernel run eagerly (``kernels``, where one call over a chunk of a million rows
takes a while), so a large evaluation stops within a slot's work. Compiled kernels skip the
check inside (``torch.compiler.is_compiling``): their calls are short, and the check before
each call covers them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from advisor.errors import CancelledError

_thread = threading.local()  # .cancel: this thread's evaluation's signal


def is_set(cancel: Any) -> bool:
    """Whether ``cancel`` (None: no signal) says stop."""
    if cancel is None:
        return False
    return bool(cancel.is_set()) if hasattr(cancel, "is_set") else bool(cancel())


@contextlib.contextmanager
def cancellable(cancel: Any) -> Iterator[None]:
    """Within the block, ``check`` raises ``CancelledError`` once ``cancel`` is set."""
    old = getattr(_thread, "cancel", None)
    _thread.cancel = cancel
    try:
        yield
    finally:
        _thread.cancel = old


def check() -> None:
    """Raise ``CancelledError`` if this thread's evaluation was cancelled."""
    if is_set(getattr(_thread, "cancel", None)):
        raise CancelledError("the call was cancelled; the evaluation stopped", field="cancel")

