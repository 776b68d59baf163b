"""Proto requests to domain arguments and domain results to proto responses.

Kept apart from the handlers so the translation can be read (and tested) without an event
loop; field paths given to the codec here are the ones callers see in BadRequest violations.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from google.protobuf import json_format

from advisor.errors import InvalidInputError
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from server import codec
from server.store import DatasetStore


class Resolver:
    """Turns ArrayRefs into arrays, inline or from the store."""

    def __init__(self, store: DatasetStore, max_elements: int) -> None:
        self.store = store
        self.max_elements = max_elements

    def array(self, ref: pb.ArrayRef, field: str, required: bool = False) -> np.ndarray | None:
        source = ref.WhichOneof("source")
        if source is None:
            if required:
                raise InvalidInputError("is required", field=field)
            return None
        if source == "inline":
            return codec.decode(ref.inline, f"{field}.inline", self.max_elements)
        dataset = self.store.get(ref.dataset.dataset_id, f"{field}.dataset.dataset_id")
        if ref.dataset.name not in dataset.arrays:
            raise InvalidInputError(
                f"dataset has no array {ref.dataset.name!r}",
                field=f"{field}.dataset.name",
                expected=sorted(dataset.arrays),
                got=ref.dataset.name,
            )
        return dataset.arrays[ref.dataset.name]

    def has(self, ref: pb.ArrayRef) -> bool:
        return ref.WhichOneof("source") is not None


def candidates(items) -> list[dict[str, Any]] | None:
    parsed = []
    for i, c in enumerate(items):
        if not c.loss:
            raise InvalidInputError("a candidate needs a loss name", field=f"candidates[{i}].loss")
        parsed.append({"loss": c.loss, "params": json_format.MessageToDict(c.params)})
    return parsed or None


def candidate_pb(loss: str, params: dict[str, Any]) -> pb.Candidate:
    out = pb.Candidate(loss=loss)
    out.params.update(json.loads(json.dumps(params, default=_jsonable)))
    return out


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def profile_kwargs(req: pb.ProfileRequest | pb.RecommendRequest, r: Resolver) -> dict[str, Any]:
    return {
        "targets": r.array(req.targets, "targets", required=True),
        "features": r.array(req.features, "features"),
        "predictions": r.array(req.predictions, "predictions"),
        "task": req.task or None,
    }


def evaluate_kwargs(req: pb.EvaluateRequest, r: Resolver) -> dict[str, Any]:
    if not req.predictions:
        raise InvalidInputError("at least one predictions array is required", field="predictions")
    preds = [r.array(p, f"predictions[{i}]", required=True) for i, p in enumerate(req.predictions)]
    return {
        "predictions": preds[0] if len(preds) == 1 else tuple(preds),
        "targets": r.array(req.targets, "targets"),
        "candidates": candidates(req.candidates),
        "task": req.task or None,
        "sample_weight": r.array(req.sample_weight, "sample_weight"),
        "diagnostics": req.diagnostics,
    }


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
