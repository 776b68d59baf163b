"""Empirical validation: probe models trained with every candidate loss at once, cross-validated."""

from advisor.validation.core import validate

__all__ = ["validate"]
