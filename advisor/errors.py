"""One family of typed errors for everything the advisor rejects.

Every error names the offending ``field`` (a dotted path such as ``"target"`` or
``"params.delta"``) so that a caller, or the gRPC layer, can point at it without parsing
the message. Messages always say what was expected and what came.

This module imports nothing heavy: the light client re-raises these same types.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AdvisorError",
    "CancelledError",
    "CapacityError",
    "DTypeError",
    "DatasetNotFoundError",
    "EmptyInputError",
    "InvalidInputError",
    "LabelOutOfRangeError",
    "NonFiniteError",
    "ParameterError",
    "ShapeMismatchError",
    "UnknownLossError",
]


class AdvisorError(Exception):
    """Base of every error the advisor raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        field: str,
        expected: Any = None,
        got: Any = None,
    ) -> None:
        self.field = field
        self.expected = expected
        self.got = got
        self.message = message
        super().__init__(f"{field}: {message}")


class InvalidInputError(AdvisorError, ValueError):
    """The caller's data cannot be used as given."""


class ShapeMismatchError(InvalidInputError):
    """Shapes of inputs disagree with each other or with the loss's convention."""


class DTypeError(InvalidInputError, TypeError):
    """An array has a dtype that cannot hold what the field needs."""


class EmptyInputError(InvalidInputError):
    """An array has no elements where at least one is needed."""


class NonFiniteError(InvalidInputError):
    """NaN or infinity where only finite values make sense."""


class LabelOutOfRangeError(InvalidInputError):
    """Class indices or label values outside the set the loss understands."""


class ParameterError(AdvisorError, ValueError):
    """A hyperparameter is unknown, of the wrong type, or out of its valid range."""


class UnknownLossError(AdvisorError, LookupError):
    """A loss name that is not in the catalog; ``suggestions`` holds the nearest names."""

    def __init__(self, name: str, suggestions: list[str], *, field: str = "loss") -> None:
        self.suggestions = list(suggestions)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"unknown loss {name!r}{hint}",
            field=field,
            expected="a name from advisor.losses.names()",
            got=name,
        )


class DatasetNotFoundError(AdvisorError, LookupError):
    """A dataset id that the store does not hold (never held, expired or deleted)."""


class CapacityError(AdvisorError):
    """The request is valid but larger than this process is configured to handle."""


class CancelledError(AdvisorError):
    """The caller's ``cancel`` was set while the work ran: it stopped, and there is no result."""
