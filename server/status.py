"""The one place where exceptions become gRPC statuses.

Every handler funnels failures through :func:`to_status` so that the same error always gets the
same code, and so that nothing unexpected leaks its detail to the caller: INTERNAL carries only a
reference that matches the log line holding the traceback.

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
    CapacityError,
    DatasetNotFoundError,
    InvalidInputError,
    ParameterError,
    UnknownLossError,
)

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
    if isinstance(exc, (InvalidInputError, ParameterError, UnknownLossError)):
        return grpc.StatusCode.INVALID_ARGUMENT
    return grpc.StatusCode.INVALID_ARGUMENT


def to_status(exc: BaseException, method: str = "") -> grpc.Status:
    if isinstance(exc, AdvisorError):
        code = _code(exc)
        details = []
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            details.append(
                _pack(
                    error_details_pb2.BadRequest(
                        field_violations=[
                            error_details_pb2.BadRequest.FieldViolation(
                                field=exc.field, description=exc.message
                            )
                        ]
                    )
                )
            )
        metadata = {"field": exc.field}
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
        message = str(exc)
    else:
        code = grpc.StatusCode.INTERNAL
        ref = secrets.token_hex(4)
        log.error("unexpected error in %s (ref %s)", method, ref, exc_info=exc)
        message = f"internal error (ref {ref}); the server log has the detail"
        details = []
    return rpc_status.to_status(
        status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=details)
    )
