"""The door a draining server closes: new calls get UNAVAILABLE, calls in flight run to the end.

``grpc.aio.Server.stop`` cancels calls that reached the server but no handler yet, and a caller
sees CANCELLED (grpc/grpc#41785), which clients do not retry. So the drain closes this gate
first: from then on every new call (health aside, for the orchestrators) is answered
UNAVAILABLE, which a client retries on another replica, and ``stop`` runs only once the calls
let through before have finished or the grace period is over.
"""

from __future__ import annotations

import asyncio
import inspect

import grpc

from server.auth import OPEN_PREFIXES
from server.standins import refusing

DRAINING = "server is shutting down; retry on another replica"


def _tracked(handler, gate: DrainGate):
    """``handler`` with its behaviour counted in and out of ``gate``."""
    if handler.request_streaming and handler.response_streaming:
        kind, behaviour = grpc.stream_stream_rpc_method_handler, handler.stream_stream
    elif handler.request_streaming:
        kind, behaviour = grpc.stream_unary_rpc_method_handler, handler.stream_unary
    elif handler.response_streaming:
        kind, behaviour = grpc.unary_stream_rpc_method_handler, handler.unary_stream
    else:
        kind, behaviour = grpc.unary_unary_rpc_method_handler, handler.unary_unary

    async def single(request, context):
        gate.enter()
        try:
            return await behaviour(request, context)
        finally:
            gate.leave()

    async def streaming(request, context):
        gate.enter()
        try:
            result = behaviour(request, context)
            if inspect.isasyncgen(result):
                async for message in result:
                    yield message
            else:  # a handler that writes through the context itself
                await result
        finally:
            gate.leave()

    wrapped = streaming if handler.response_streaming else single
    return kind(wrapped, handler.request_deserializer, handler.response_serializer)


class DrainGate(grpc.aio.ServerInterceptor):
    """Counts the calls it lets through; once ``close``d, refuses the new ones."""

    def __init__(self) -> None:
        self.closed = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()

    async def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        if method.startswith(OPEN_PREFIXES):
            return await continuation(handler_call_details)
        if self.closed:
            return refusing(await continuation(handler_call_details), method, grpc.StatusCode.UNAVAILABLE, DRAINING)
        handler = await continuation(handler_call_details)
        return None if handler is None else _tracked(handler, self)

    def close(self) -> None:
        """From now on every new call is refused."""
        self.closed = True

    async def settle(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the calls in flight to finish; whether they did."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=timeout_s)
        except asyncio.TimeoutError:
            return False
        return True
