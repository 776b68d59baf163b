"""The one place where exceptions become gRPC statuses.

Every handler funnels failures through :func:`to_status` so that the same error always gets the
same code, and so that nothing unexpected leaks its detail to the caller: INTERNAL carries only a
reference that matches the log line holding the traceback. Running out of memory is the server's
capacity, not the caller's mistake nor a bug: RESOURCE_EXHAUSTED, and the next request may fit.

Besides the standard ``BadRequest`` (field violations), every advisor error carries an
``ErrorInfo`` whose ``reason`` is the exception class, so the Python client re-raises the very
same type with the same ``field``.
"""

from __future__ import annotations

import logging
import secrets

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from advisor.errors import (
    AdvisorError,
    CancelledError,
    CapacityError,
    DatasetNotFoundError,
    InvalidInputError,
    ParameterError,
    UnknownLossError,
)
from server import fieldpath
from server.redact import public_message

log = logging.getLogger("server.status")
DOMAIN = "lossadvisor.v1"


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _code(exc: AdvisorError) -> grpc.StatusCode:
    if isinstance(exc, DatasetNotFoundError):
        return grpc.StatusCode.NOT_FOUND
    if isinstance(exc, CapacityError):
        return grpc.StatusCode.RESOURCE_EXHAUSTED
    if isinstance(exc, CancelledError):  # the work stopped because its call ended
        return grpc.StatusCode.CANCELLED
    if isinstance(exc, (InvalidInputError, ParameterError, UnknownLossError)):
        return grpc.StatusCode.INVALID_ARGUMENT
    return grpc.StatusCode.INVALID_ARGUMENT


def is_out_of_memory(exc: BaseException) -> bool:
    """An allocation failure, raised directly or wrapped by the domain as a bad input.

    torch's OutOfMemoryError is a RuntimeError, and the loss catalog turns a RuntimeError from a
    loss into "rejected the inputs"; the cause chain is where an out-of-memory still shows.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _field_details(exc: AdvisorError, code: grpc.StatusCode, field: str) -> list:
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return [
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=field, description=public_message(exc, exc.message)
                        )
                    ]
                )
            )
        ]
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and field:
        # The standard detail for "too much": which field went over, readable by any client.
        return [
            _pack(
                error_details_pb2.QuotaFailure(
                    violations=[
                        error_details_pb2.QuotaFailure.Violation(
                            subject=field, description=public_message(exc, exc.message)
                        )
                    ]
                )
            )
        ]
    return []


def to_status(exc: BaseException, method: str = "", request=None) -> grpc.Status:
    """The status for ``exc``; ``request`` (when given) is what field paths must point into."""
    if is_out_of_memory(exc):
        code = grpc.StatusCode.RESOURCE_EXHAUSTED
        ref = secrets.token_hex(4)
        log.error("out of memory in %s (ref %s)", method, ref, exc_info=exc)
        message = (
            f"the server ran out of memory on this request (ref {ref}); "
            "retry later or with smaller arrays"
        )
        info = error_details_pb2.ErrorInfo(
            reason="CapacityError", domain=DOMAIN, metadata={"field": ""}
        )
        details = [_pack(info)]
    elif isinstance(exc, AdvisorError):
        code = _code(exc)
        field = fieldpath.locate(request, str(exc.field or ""))
        details = _field_details(exc, code, field)
        metadata = {"field": field}
        if isinstance(exc, UnknownLossError):
            metadata["suggestions"] = ",".join(exc.suggestions)
            metadata["name"] = str(exc.got)
        details.append(
            _pack(
                error_details_pb2.ErrorInfo(
                    reason=type(exc).__name__, domain=DOMAIN, metadata=metadata
                )
            )
        )
        text = public_message(exc, exc.message)
        message = f"{field}: {text}" if field else text
    else:
        code = grpc.StatusCode.INTERNAL
        ref = secrets.token_hex(4)
        log.error("unexpected error in %s (ref %s)", method, ref, exc_info=exc)
        message = f"internal error (ref {ref}); the server log has the detail"
        details = []
    return rpc_status.to_status(
        status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=details)
    )
