"""Bearer-token check for every RPC except health, which orchestrators probe without secrets."""

from __future__ import annotations

import hmac
import time

import grpc

from server.rpclog import log_rpc

OPEN_PREFIXES = ("/grpc.health.v1.Health/",)


def _method_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _deny(path: str, message: str):
    async def abort(_request, context):
        log_rpc(_method_name(path), "UNAUTHENTICATED", time.perf_counter(), 0, 0, context.peer())
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    return abort


class TokenInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    async def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        if method.startswith(OPEN_PREFIXES):
            return await continuation(handler_call_details)
        given = dict(handler_call_details.invocation_metadata or ()).get("authorization", "")
        if isinstance(given, str):
            given = given.encode()
        if hmac.compare_digest(given, self._expected):
            return await continuation(handler_call_details)
        handler = await continuation(handler_call_details)
        message = "missing or wrong bearer token"
        deny = _deny(method, message)
        if handler is None:
            return grpc.unary_unary_rpc_method_handler(deny)
        # Keep the handler's shape so the stream is closed the way the caller expects.
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(
                _deny_stream(method, message),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(
                deny, handler.request_deserializer, handler.response_serializer
            )
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(
                _deny_stream(method, message),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return grpc.unary_unary_rpc_method_handler(
            deny, handler.request_deserializer, handler.response_serializer
        )


def _deny_stream(path: str, message: str):
    async def abort(_request, context):
        log_rpc(_method_name(path), "UNAUTHENTICATED", time.perf_counter(), 0, 0, context.peer())
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)
        yield  # pragma: no cover - makes this an async generator

    return abort
