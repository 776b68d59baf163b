"""Undecodable request bytes become INVALID_ARGUMENT, not UNKNOWN.

grpc parses each request message before any handler runs; when the bytes are not the message
they claim to be, it answers UNKNOWN with the parser's own exception text. That is the wrong
code (the caller's fault, not an unknown one) and it leaks an internal message. This
interceptor swaps every handler's parser for one that marks a bad message instead of raising,
and answers the mark with INVALID_ARGUMENT and a fixed text.
"""

from __future__ import annotations

import inspect
import time

import grpc
from google.protobuf.message import DecodeError

from server.rpclog import log_rpc

MESSAGE = "the request is not a valid {} message"


class Undecodable:
    """Stands in for a message whose bytes did not parse."""

    def __init__(self, size: int) -> None:
        self.size = size


def _safe(parse):
    if parse is None:
        return None

    def deserialize(raw: bytes):
        try:
            return parse(raw)
        except (DecodeError, ValueError, TypeError):
            return Undecodable(len(raw))

    return deserialize


def _message_name(parse) -> str:
    owner = getattr(parse, "__self__", None)
    return getattr(getattr(owner, "DESCRIPTOR", None), "full_name", "request")


async def _refuse(method: str, what: str, size: int, context, log: bool = True) -> None:
    """Abort the call; a stream's handler logs its own line, a unary call is logged here."""
    if log:
        name = method.rsplit("/", 1)[-1]
        log_rpc(name, "INVALID_ARGUMENT", time.perf_counter(), size, 0, context.peer())
    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, MESSAGE.format(what))


def _checked_stream(method: str, what: str, requests, context):
    async def checked():
        async for message in requests:
            if isinstance(message, Undecodable):
                await _refuse(method, what, message.size, context, log=False)
            yield message

    return checked()


def _is_async(behavior) -> bool:
    return inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior)


class DecodeGuard(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        behavior = (
            handler.unary_unary
            or handler.unary_stream
            or handler.stream_unary
            or handler.stream_stream
        )
        if not _is_async(behavior):
            return handler  # a thread-pool handler: leave it to grpc
        method = handler_call_details.method
        what = _message_name(handler.request_deserializer)
        deserialize = _safe(handler.request_deserializer)
        serialize = handler.response_serializer

        async def check(request, context) -> None:
            if isinstance(request, Undecodable):
                await _refuse(method, what, request.size, context)

        if handler.stream_stream is not None:

            async def stream_stream(requests, context):
                async for reply in behavior(
                    _checked_stream(method, what, requests, context), context
                ):
                    yield reply

            return grpc.stream_stream_rpc_method_handler(stream_stream, deserialize, serialize)
        if handler.stream_unary is not None:

            async def stream_unary(requests, context):
                return await behavior(_checked_stream(method, what, requests, context), context)

            return grpc.stream_unary_rpc_method_handler(stream_unary, deserialize, serialize)
        if handler.unary_stream is not None:

            async def unary_stream(request, context):
                await check(request, context)
                async for reply in behavior(request, context):
                    yield reply

            return grpc.unary_stream_rpc_method_handler(unary_stream, deserialize, serialize)

        async def unary_unary(request, context):
            await check(request, context)
            return await behavior(request, context)

        return grpc.unary_unary_rpc_method_handler(unary_unary, deserialize, serialize)
