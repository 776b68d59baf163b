"""Sending a fuzzed call, judging its outcome, and the known-good call that must still work.

The judgement is the contract: a hostile request may succeed or be refused, but refused the
right way. INVALID_ARGUMENT must name, in a BadRequest, a field that exists in what was sent;
RESOURCE_EXHAUSTED must name (in a QuotaFailure) the field that went over a ceiling; NOT_FOUND
only answers a request that named a dataset. Anything else (UNKNOWN, INTERNAL, a deadline on a
tiny request, an unreachable server) is a failure of the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np

from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from tests.reliability import paths
from tests.reliability.harness import ROOT, quota_subjects, violations
from tests.reliability.strategies import Call


@dataclass
class Outcome:
    code: grpc.StatusCode
    error: grpc.RpcError | None = None
    response: Any = None


def invoke(stub, call: Call, metadata, timeout: float = 30.0) -> Outcome:
    method = getattr(stub, call.method)
    try:
        if call.method == "UploadDataset":
            response = method(iter(call.request), metadata=metadata, timeout=timeout)
        elif call.method == "Validate":
            response = list(method(call.request, metadata=metadata, timeout=timeout))
        else:
            response = method(call.request, metadata=metadata, timeout=timeout)
    except grpc.RpcError as err:
        return Outcome(err.code(), err)
    return Outcome(grpc.StatusCode.OK, response=response)


def sent(call: Call):
    """The message field paths must point into (an upload: its first header)."""
    if call.method != "UploadDataset":
        return call.request
    headers = [c for c in call.request if c.WhichOneof("part") == "header"]
    return headers[0] if headers else pb.UploadChunk()


def _names_a_dataset(message) -> bool:
    if isinstance(message, pb.DatasetArray):
        return True
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
        else:
            items = value if field.is_repeated else [value]
        if any(_names_a_dataset(item) for item in items if hasattr(item, "ListFields")):
            return True
    return False


LEAK = re.compile(r'Traceback|File "|site-packages|' + re.escape(str(ROOT)))


def judge(call: Call, outcome: Outcome) -> str | None:
    """None when the outcome keeps the contract, else what broke it."""
    code, err = outcome.code, outcome.error
    if code == grpc.StatusCode.OK:
        return None
    where = sent(call)
    text = err.details() if err is not None else ""
    if LEAK.search(text or ""):
        return f"the error text leaks internals: {text!r}"
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        fields = violations(err)
        if not fields:
            return f"INVALID_ARGUMENT without a field violation: {text!r}"
        missing = [f for f in fields if not paths.exists(where, f)]
        return f"violation paths not in the request: {missing} ({text!r})" if missing else None
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        subjects = quota_subjects(err)
        if not subjects or not all(paths.exists(where, s) for s in subjects):
            return f"RESOURCE_EXHAUSTED naming no field of the request: {subjects} ({text!r})"
        return None
    if code == grpc.StatusCode.NOT_FOUND:
        return None if _names_a_dataset(where) else f"NOT_FOUND without a dataset: {text!r}"
    return f"{code.name}: {text!r}"


# ---------------------------------------------------------------------- the known-good call

RNG = np.random.default_rng(11)
GOOD_PREDS = RNG.standard_normal(64).astype(np.float32)
GOOD_TARGETS = RNG.standard_normal(64).astype(np.float32)


def inline(values: np.ndarray) -> pb.ArrayRef:
    return pb.ArrayRef(
        inline=pb.Array(dtype=values.dtype.name, shape=values.shape, data=values.tobytes())
    )


def good_evaluate() -> pb.EvaluateRequest:
    return pb.EvaluateRequest(
        predictions=[inline(GOOD_PREDS)],
        targets=inline(GOOD_TARGETS),
        candidates=[pb.Candidate(loss="MSELoss")],
        diagnostics=False,
    )


def expected_mse() -> float:
    diff = GOOD_PREDS.astype(np.float64) - GOOD_TARGETS.astype(np.float64)
    return float(np.mean(diff**2))


def known_good(stub, metadata, timeout: float = 30.0) -> float:
    """Run the known-good Evaluate; return its value after checking it is the right one."""
    reply = stub.Evaluate(good_evaluate(), metadata=metadata, timeout=timeout)
    value = reply.values[0]
    assert abs(value - expected_mse()) <= 1e-5 * max(1.0, expected_mse()), value
    return value
