"""Shared checks of the tests that hold one diagnostics path against another."""

from __future__ import annotations

import math
from typing import Any

import pytest


def assert_same_results(got: list, want: list) -> None:
    """Each result's value and diagnostics agree: order statistics and counts exactly, sums to float64 rounding."""
    for a, b in zip(got, want, strict=True):
        assert a.value == (b.value if b.value is None or math.isinf(b.value) else pytest.approx(b.value, rel=1e-12)), a.loss
        da, db = a.diagnostics, b.diagnostics
        assert da.loss_quantiles == db.loss_quantiles, a.loss
        for field in ("n_samples", "nonfinite_losses", "nonfinite_grads", "grad_max", "zero_grad_fraction"):
            assert getattr(da, field) == getattr(db, field), (a.loss, field)
        for field in ("grad_mean", "top1pct_grad_share", "skill", "saturation"):
            want_value = getattr(db, field)
            assert getattr(da, field) == (want_value if want_value is None else pytest.approx(want_value, rel=1e-9)), (a.loss, field)


def record(monkeypatch, module: Any, name: str, succeeded) -> list[bool]:
    """Wrap ``module.name``; each call appends ``succeeded(its result)`` to the returned list."""
    seen: list[bool] = []
    original = getattr(module, name)

    def counted(*args, **kw):
        out = original(*args, **kw)
        seen.append(succeeded(out))
        return out

    monkeypatch.setattr(module, name, counted)
    return seen
