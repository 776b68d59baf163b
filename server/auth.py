"""Bearer-token check for every RPC except health, which orchestrators probe without secrets.

A call without a known token is answered by a stand-in that only refuses it, so it reaches no
handler: not the advisor's, not reflection's, not the dataset RPCs.
"""

from __future__ import annotations

import time

import grpc

from server.rpclog import log_rpc
from server.tenants import Tenants

OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
DENIED = "missing or wrong bearer token"


def _method_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _deny(path: str):
    async def abort(_request, context):
        log_rpc(_method_name(path), "UNAUTHENTICATED", time.perf_counter(), 0, 0, context.peer())
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, DENIED)

    return abort


def _deny_stream(path: str):
    async def abort(_request, context):
        log_rpc(_method_name(path), "UNAUTHENTICATED", time.perf_counter(), 0, 0, context.peer())
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, DENIED)
        yield  # pragma: no cover - makes this an async generator

    return abort


class TokenInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, tenants: Tenants | str) -> None:
        self.tenants = Tenants([tenants]) if isinstance(tenants, str) else tenants

    async def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        if method.startswith(OPEN_PREFIXES):
            return await continuation(handler_call_details)
        if self.tenants.identify(handler_call_details.invocation_metadata) is not None:
            return await continuation(handler_call_details)
        handler = await continuation(handler_call_details)
        if handler is None:
            return grpc.unary_unary_rpc_method_handler(_deny(method))
        # Keep the handler's shape (and its deserializers, never its behaviour) so the stream is
        # closed the way the caller expects.
        deserialize, serialize = handler.request_deserializer, handler.response_serializer
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(
                _deny_stream(method), deserialize, serialize
            )
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(_deny(method), deserialize, serialize)
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(
                _deny_stream(method), deserialize, serialize
            )
        return grpc.unary_unary_rpc_method_handler(_deny(method), deserialize, serialize)
