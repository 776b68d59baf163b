"""The shape of a catalog entry: what a loss takes, what it serves, which values are valid.

A spec is data first. The recommender reads the hyperparameter ranges to keep derived values
valid, the service lists specs over the wire, and ``compute`` validates calls against them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from advisor.errors import ParameterError
from advisor.vocabulary import Family, Task

ParamKind = Literal["float", "int", "bool", "choice", "tensor", "floats", "callable"]
InputKind = Literal["real", "label", "index", "length"]

REDUCTIONS = ("none", "mean", "sum")


@dataclass(frozen=True)
class ParamSpec:
    """One hyperparameter: its type, default and valid range.

    ``low``/``high`` bound a number (or every element of a tensor/list); ``*_open`` makes
    the bound exclusive. ``nullable`` admits ``None`` (meaning "not set" or "derive it").
    """

    name: str
    kind: ParamKind
    default: Any
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] = ()
    nullable: bool = False
    doc: str = ""

    def range_text(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "True or False"
        if self.kind == "callable":
            return "a callable (x, y) -> distances"
        lo = "-inf" if self.low is None else repr(self.low)
        hi = "inf" if self.high is None else repr(self.high)
        interval = f"{'(' if self.low_open or self.low is None else '['}{lo}, {hi}{')' if self.high_open or self.high is None else ']'}"
        what = {"float": "a number", "int": "an integer", "tensor": "values", "floats": "a list"}[
            self.kind
        ]
        return f"{what} in {interval}" + (" or None" if self.nullable else "")

    def _in_range(self, x: float) -> bool:
        if math.isnan(x):
            return False
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return False
        return not (
            self.high is not None and (x > self.high or (self.high_open and x == self.high))
        )

    def validate(self, value: Any, loss: str) -> Any:
        """Return the value in its canonical form, or raise ``ParameterError``."""
        field_name = f"params.{self.name}"

        def fail(why: str) -> ParameterError:
            return ParameterError(
                f"{loss}.{self.name} {why}; expected {self.range_text()}, got {_short(value)}",
                field=field_name,
                expected=self.range_text(),
                got=_short(value),
            )

        if value is None:
            if self.nullable:
                return None
            raise fail("must be set")
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            raise fail("must be a boolean")
        if self.kind == "choice":
            if value in self.choices:
                return value
            raise fail("is not an accepted value")
        if self.kind == "callable":
            if callable(value):
                return value
            raise fail("must be callable")
        if self.kind in ("float", "int"):
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)
            ):
                if isinstance(value, torch.Tensor) and value.numel() == 1:
                    value = value.item()
                else:
                    raise fail("must be a number")
            if self.kind == "int":
                if not math.isfinite(float(value)) or float(value) != int(value):
                    raise fail("must be an integer")
                value = int(value)
            else:
                value = float(value)
            if not self._in_range(float(value)):
                raise fail("is out of range")
            return value
        if self.kind == "floats":
            items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
            try:
                floats = [float(v) for v in items]
            except (TypeError, ValueError):
                raise fail("must be a list of numbers") from None
            if not floats:
                raise fail("must not be empty")
            if not all(self._in_range(v) for v in floats):
                raise fail("has a value out of range")
            return floats
        # tensor
        try:
            tensor = (
                value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
            )
        except (TypeError, ValueError, RuntimeError):
            raise fail("must be numeric") from None
        if not (
            tensor.is_floating_point()
            or tensor.dtype in _INTEGER_DTYPES
            or tensor.dtype == torch.bool
        ):
            raise fail("must be numeric")
        if tensor.numel() == 0:
            raise fail("must not be empty")
        tensor = tensor if tensor.is_floating_point() else tensor.to(torch.get_default_dtype())
        finite = torch.isfinite(tensor).all().item()
        lo_ok = self.low is None or bool(
            (tensor > self.low if self.low_open else tensor >= self.low).all()
        )
        hi_ok = self.high is None or bool(
            (tensor < self.high if self.high_open else tensor <= self.high).all()
        )
        if not (finite and lo_ok and hi_ok):
            raise fail("has a value out of range")
        return tensor


_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _short(value: Any) -> str:
    text = repr(value.tolist() if isinstance(value, (torch.Tensor, np.ndarray)) else value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class InputSpec:
    """One positional input, in ``torch.nn`` forward order.

    ``kind``: ``real`` is a floating tensor; ``label`` is class indices or, where the loss
    allows it, probabilities of the same shape as the input; ``index`` is integer labels only;
    ``length`` is per-sequence lengths. ``allow_inf`` admits -inf (masked logits,
    log-probabilities of impossible classes); NaN is never admitted.
    """

    name: str
    kind: InputKind = "real"
    allow_inf: bool = False
    doc: str = ""


@dataclass(frozen=True)
class LossSpec:
    """A catalog entry. ``fn`` is pure: tensors and validated params in, a tensor out."""

    name: str
    families: tuple[Family, ...]
    tasks: tuple[Task, ...]
    inputs: tuple[InputSpec, ...]
    params: tuple[ParamSpec, ...]
    reference: str
    fn: Callable[..., torch.Tensor]
    summary: str
    check: Callable[[dict[str, torch.Tensor], dict[str, Any]], None] | None = None
    torch_class: str | None = None
    citation: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> Family:
        """The primary input convention (some losses, like focal, accept a second one)."""
        return self.families[0]

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly view, for the CLI table and the ListLosses RPC."""
        return {
            "name": self.name,
            "family": self.family.value,
            "families": [f.value for f in self.families],
            "tasks": [t.value for t in self.tasks],
            "inputs": [i.name for i in self.inputs],
            "params": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "default": p.default if not callable(p.default) else None,
                    "range": p.range_text(),
                    "doc": p.doc,
                }
                for p in self.params
            ],
            "reference": self.reference,
            "torch_class": self.torch_class,
            "summary": self.summary,
            "citation": self.citation,
        }


def reduction_param(extra: Sequence[str] = ()) -> ParamSpec:
    return ParamSpec(
        "reduction",
        "choice",
        "mean",
        choices=(*REDUCTIONS, *extra),
        doc="how per-element losses are combined",
    )
