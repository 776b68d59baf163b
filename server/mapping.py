"""Proto requests to domain arguments and domain results to proto responses.

Kept apart from the handlers so the translation can be read (and tested) without an event
loop; field paths given to the codec here are the ones callers see in BadRequest violations.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from advisor.errors import CapacityError, InvalidInputError, ParameterError
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from server import codec
from server.store import DatasetStore


class Resolver:
    """Turns one request's ArrayRefs into arrays, inline or from the tenant's stored datasets.

    Made afresh per request: it counts the elements the request has used so far, so the
    ``max_elements`` ceiling bounds a request as a whole, not each of its arrays.
    """

    def __init__(self, store: DatasetStore, max_elements: int, tenant: str = "") -> None:
        self.store = store
        self.max_elements = max_elements
        self.tenant = tenant
        self.elements = 0

    def array(self, ref: pb.ArrayRef, field: str, required: bool = False) -> np.ndarray | None:
        source = ref.WhichOneof("source")
        if source is None:
            if required:
                raise InvalidInputError("is required", field=field)
            return None
        if source == "inline":
            self.check(ref.inline, f"{field}.inline")
            return codec.decode(ref.inline, f"{field}.inline", self.max_elements)
        dataset = self.store.get(ref.dataset.dataset_id, f"{field}.dataset.dataset_id", self.tenant)
        if ref.dataset.name not in dataset.arrays:
            raise InvalidInputError(
                f"dataset has no array {ref.dataset.name!r}",
                field=f"{field}.dataset.name",
                expected=sorted(dataset.arrays),
                got=ref.dataset.name,
            )
        found = dataset.arrays[ref.dataset.name]
        self._count(found.size, f"{field}.dataset")
        return found

    def check(self, array: pb.Array, field: str) -> None:
        """An inline array's claims, and the request's running element count."""
        self._count(codec.check(array, field, self.max_elements), f"{field}.shape")

    def _count(self, count: int, field: str) -> None:
        self.elements += count
        if self.elements > self.max_elements:
            raise CapacityError(
                f"the request's arrays hold {self.elements} elements together, over this "
                f"server's ceiling of {self.max_elements}",
                field=field,
                expected=f"<= {self.max_elements} elements per request",
                got=self.elements,
            )

    def has(self, ref: pb.ArrayRef) -> bool:
        return ref.WhichOneof("source") is not None


def precheck(request, max_elements: int) -> None:
    """Check every inline array of ``request`` before it is given a worker or any memory.

    Lies about sizes, unknown dtypes and requests over the element ceiling are refused here, on
    the event loop, so they never occupy a computation slot that an honest caller could use.
    """
    counter = Resolver(None, max_elements)  # type: ignore[arg-type]  # counts, never resolves
    for fd in request.DESCRIPTOR.fields:
        if fd.message_type is not pb.ArrayRef.DESCRIPTOR:
            continue
        value = getattr(request, fd.name)
        refs = (
            [(f"{fd.name}[{i}]", r) for i, r in enumerate(value)]
            if fd.is_repeated
            else [(fd.name, value)]
        )
        for field, ref in refs:
            if ref.WhichOneof("source") == "inline":
                counter.check(ref.inline, f"{field}.inline")


def candidates(items) -> list[dict[str, Any]] | None:
    parsed = []
    for i, c in enumerate(items):
        if not c.loss:
            raise InvalidInputError("a candidate needs a loss name", field=f"candidates[{i}].loss")
        parsed.append({"loss": c.loss, "params": struct_dict(c.params)})
    return parsed or None


def struct_dict(struct) -> dict[str, Any]:
    """A Struct as Python values, NaN and infinities kept as floats.

    ``json_format.MessageToDict`` refuses non-finite numbers with a ValueError; here they pass
    through so the domain's own range check names the hyperparameter that holds one.
    """
    return {key: _value(value) for key, value in struct.fields.items()}


def _value(value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return struct_dict(value.struct_value)
    if kind == "list_value":
        return [_value(v) for v in value.list_value.values]
    if kind is None or kind == "null_value":
        return None
    return getattr(value, kind)


def candidate_pb(loss: str, params: dict[str, Any]) -> pb.Candidate:
    out = pb.Candidate(loss=loss)
    out.params.update(json.loads(json.dumps(params, default=_jsonable)))
    return out


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def task(value: str) -> str | None:
    """The request's task, checked here: the wire carries any string, and not every domain
    entry point turns an unknown task into a ParameterError of its own."""
    if not value:
        return None
    from advisor.vocabulary import Task

    known = [t.value for t in Task]
    if value not in known:
        raise ParameterError(f"unknown task {value!r}", field="task", expected=known, got=value)
    return value


def profile_kwargs(req: pb.ProfileRequest | pb.RecommendRequest, r: Resolver) -> dict[str, Any]:
    return {
        "targets": r.array(req.targets, "targets", required=True),
        "features": features(req, r),
        "predictions": r.array(req.predictions, "predictions"),
        "task": task(req.task),
        "categorical": list(req.categorical) or None,
    }


def features(
    req: pb.ProfileRequest | pb.RecommendRequest | pb.ValidateRequest,
    r: Resolver,
    required: bool = False,
) -> Any:
    """The features array, or the features table as a dict of named columns (never both)."""
    if not req.HasField("features_table"):
        return r.array(req.features, "features", required=required)
    if req.HasField("features"):
        raise InvalidInputError(
            "give features or features_table, not both",
            field="features_table",
            expected="one of features, features_table",
            got="both",
        )
    columns: dict[str, np.ndarray] = {}
    for i, column in enumerate(req.features_table.columns):
        where = f"features_table.columns[{i}]"
        if not column.name or column.name in columns:
            raise InvalidInputError(
                "needs a name of its own" if not column.name else f"repeats {column.name!r}",
                field=f"{where}.name",
                expected="a distinct non-empty name",
                got=column.name,
            )
        columns[column.name] = r.array(column.values, f"{where}.values", required=True)
    if not columns:
        raise InvalidInputError(
            "has no columns", field="features_table.columns", expected="at least one column"
        )
    return columns


def evaluate_kwargs(req: pb.EvaluateRequest, r: Resolver) -> dict[str, Any]:
    if not req.predictions:
        raise InvalidInputError("at least one predictions array is required", field="predictions")
    preds = [r.array(p, f"predictions[{i}]", required=True) for i, p in enumerate(req.predictions)]
    return {
        "predictions": preds[0] if len(preds) == 1 else tuple(preds),
        "targets": r.array(req.targets, "targets"),
        "candidates": candidates(req.candidates),
        "task": task(req.task),
        "sample_weight": r.array(req.sample_weight, "sample_weight"),
        "diagnostics": req.diagnostics,
        **quantile_sample(req),
    }


def quantile_sample(req: pb.EvaluateRequest) -> dict[str, Any]:
    """``quantile_sample`` as ``advisor.evaluate`` takes it: absent keeps its default, 0 is exact (None)."""
    if not req.HasField("quantile_sample"):
        return {}
    m = req.quantile_sample
    if m < 0:
        raise InvalidInputError("must be 0 (exact) or a positive number of rows", field="quantile_sample", got=m)
    return {"quantile_sample": None if m == 0 else int(m)}


def evaluate_response(report) -> pb.EvaluateResponse:
    values = [math.nan if res.value is None else float(res.value) for res in report.results]
    return pb.EvaluateResponse(values=values, report_json=report.model_dump_json())


def loss_pb(spec) -> pb.ListLossesResponse.Loss:
    described = spec.describe()
    return pb.ListLossesResponse.Loss(
        name=described["name"],
        family=described["family"],
        tasks=described["tasks"],
        spec_json=json.dumps(described, default=_jsonable),
    )
