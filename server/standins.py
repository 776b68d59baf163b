"""Handlers that answer a call with one status and reach nothing, in the shape of the real one.

The stand-in keeps the real handler's kind and (de)serializers, never its behaviour, so the
caller's stream is closed the way it expects. Each refusal writes its own rpc line.
"""

from __future__ import annotations

import time

import grpc

from server.rpclog import log_rpc


def method_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def refusing(handler, path: str, code: grpc.StatusCode, message: str):
    """A handler like ``handler`` (None: a unary one, for methods that do not exist) that aborts with ``code``."""

    async def abort(_request, context):
        log_rpc(method_name(path), code.name, time.perf_counter(), 0, 0, context.peer())
        await context.abort(code, message)

    async def abort_stream(_request, context):
        log_rpc(method_name(path), code.name, time.perf_counter(), 0, 0, context.peer())
        await context.abort(code, message)
        yield  # pragma: no cover - makes this an async generator

    if handler is None:
        return grpc.unary_unary_rpc_method_handler(abort)
    deserialize, serialize = handler.request_deserializer, handler.response_serializer
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(abort_stream, deserialize, serialize)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(abort, deserialize, serialize)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(abort_stream, deserialize, serialize)
    return grpc.unary_unary_rpc_method_handler(abort, deserialize, serialize)
