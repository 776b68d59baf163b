"""Shared data for the evaluation tests: small shapes, eager unless a test forces compiled mode."""

from __future__ import annotations

import pytest

from advisor.evaluation import dispatch


@pytest.fixture(autouse=True)
def _eager_by_default():
    """Tests stay eager unless they opt into compiled mode (compilation is paid once, in test_compiled)."""
    with dispatch.mode("eager"):
        yield
