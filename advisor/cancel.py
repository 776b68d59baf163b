"""A caller's stop signal: an event with ``is_set()`` or a callable returning True.

``is_set`` reads one, for every step that stops early: validation's training loop (locally and
on Ray) and the benchmarks between timed calls. ``advisor.evaluate``, ``advisor.profile`` and
``advisor.recommend`` take ``cancel=...`` and install it for their thread (``cancellable``);
the steps inside call ``check``, which raises ``CancelledError`` once it is set:

- evaluation: every kernel call checks first (``dispatch.run``), and so does each candidate's
  slot of an elementwise kernel run eagerly (``kernels``, where one call over a chunk of a
  million rows takes a while), so a large evaluation stops within a slot's work. Compiled
  kernels skip the check inside (``torch.compiler.is_compiling``): their calls are short, and
  the check before each call covers them. The benchmark's evaluations get its signal too.
- profiling and recommending: between reading the features' columns (``ingest.features``),
  between preparing them and scoring their outliers (``profiler.features``), before each
  fold's fit of each baseline and between a gradient-boosting fit's rounds
  (``profiler.residuals``, which the integer readings of ``profiler.integers`` fit through
  too), between the profile's sections and before the ranking. The dearest step left whole
  is one linear baseline's fit on a fold of at most 10,000 rows, a fraction of a second.

A call that installs no signal of its own (``cancel=None``) inside one that did keeps the
outer one: a recommendation's profile, the benchmark's evaluations.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from advisor.errors import CancelledError

_thread = threading.local()  # .cancel: the signal of this thread's call under way


def is_set(cancel: Any) -> bool:
    """Whether ``cancel`` (None: no signal) says stop."""
    if cancel is None:
        return False
    return bool(cancel.is_set()) if hasattr(cancel, "is_set") else bool(cancel())


@contextlib.contextmanager
def cancellable(cancel: Any) -> Iterator[None]:
    """Within the block, ``check`` raises ``CancelledError`` once ``cancel`` is set (None:
    the enclosing block's signal, if any, still applies)."""
    old = getattr(_thread, "cancel", None)
    _thread.cancel = old if cancel is None else cancel
    try:
        yield
    finally:
        _thread.cancel = old


def check() -> None:
    """Raise ``CancelledError`` if this thread's call was cancelled."""
    if is_set(getattr(_thread, "cancel", None)):
        raise CancelledError("the call was cancelled; its work stopped", field="cancel")
