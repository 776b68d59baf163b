"""gRPC failures back to the library's own exception types.

The server attaches an ``ErrorInfo`` naming the exception class and its field (and a standard
``BadRequest`` for INVALID_ARGUMENT), so remote and in-process callers catch the same types.
The details are parsed with googleapis-common-protos when present and skipped otherwise.
"""

from __future__ import annotations

from advisor import errors
from client.quiet_grpc import grpc

_BY_NAME = {name: getattr(errors, name) for name in errors.__all__}
_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidInputError,
    grpc.StatusCode.NOT_FOUND: errors.DatasetNotFoundError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: errors.CapacityError,
}


class RemoteError(errors.AdvisorError):
    """The server failed in a way that is not the caller's input (INTERNAL, UNAVAILABLE, ...)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        self.code = code
        super().__init__(message, field="", got=code.name)
        self.args = (message,)  # no field to name: print the message, not ": message"


class AuthenticationError(RemoteError, PermissionError):
    """The server wants a (different) bearer token."""


class DeadlineExceededError(RemoteError, TimeoutError):
    """The call ran past its deadline; the server stopped working on it."""


class CancelledError(RemoteError):
    """The call was cancelled (by this caller, or by the server shutting down)."""


class UnavailableError(RemoteError, ConnectionError):
    """The server could not take or finish the call: unreachable, or shutting down (a call
    still running when its grace period ended). The call may be retried, on another replica."""


def _details(err: grpc.RpcError) -> tuple[str | None, str, dict[str, str]]:
    """(exception class name, field, metadata) from the rich status, when it has one."""
    try:
        from google.rpc import error_details_pb2, status_pb2
    except ImportError:
        return None, "", {}
    blob = next(
        (v for k, v in (err.trailing_metadata() or ()) if k == "grpc-status-details-bin"), None
    )
    if blob is None:
        return None, "", {}
    status = status_pb2.Status.FromString(blob)
    reason, field, meta = None, "", {}
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, meta = info.reason, dict(info.metadata)
            field = meta.get("field", field)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            if bad.field_violations and not field:
                field = bad.field_violations[0].field
    return reason, field, meta


def from_rpc_error(err: grpc.RpcError) -> Exception:
    code = err.code()
    text = err.details() or code.name
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return AuthenticationError(code, text)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return DeadlineExceededError(code, text)
    if code == grpc.StatusCode.CANCELLED:
        return CancelledError(code, text)
    if code == grpc.StatusCode.UNAVAILABLE:
        return UnavailableError(code, text)
    reason, field, meta = _details(err)
    message = text.split(": ", 1)[1] if field and text.startswith(f"{field}: ") else text
    if reason == "UnknownLossError":
        suggestions = [s for s in meta.get("suggestions", "").split(",") if s]
        return errors.UnknownLossError(meta.get("name", ""), suggestions, field=field or "loss")
    cls = _BY_NAME.get(reason or "") or _BY_CODE.get(code)
    if cls is None or not issubclass(cls, errors.AdvisorError):
        return RemoteError(code, text)
    error = cls(message, field=field)
    error.code = code
    return error
