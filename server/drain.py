"""The door a draining server closes: new calls get UNAVAILABLE, calls in flight run to the end.

``grpc.aio.Server.stop`` cancels calls that reached the server but no handler yet, and a caller
sees CANCELLED (grpc/grpc#41785), which clients do not retry. So the drain closes this gate
first: from then on every new call (health aside, for the orchestrators) is answered
UNAVAILABLE, which a client retries on another replica, and ``stop`` runs only once the calls
let through before have finished or the grace period is over.

Calls still running when the grace period ends are ``cut`` by the gate itself, before ``stop``:
their handlers are cancelled (which stops their work, as a client's cancel does) and each is
answered UNAVAILABLE, saying the server is shutting down and the call may be retried, instead
of the CANCELLED or bare "Cancelling all calls" that ``stop`` would give them.
"""

from __future__ import annotations

import asyncio
import inspect

import grpc

from server.auth import OPEN_PREFIXES
from server.standins import refusing

DRAINING = "server is shutting down; retry on another replica"
CUT_OFF = (
    "server is shutting down and this call did not finish within its grace period; "
    "it may be retried on another replica"
)


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
        call = gate.enter()
        try:
            return await behaviour(request, context)
        except asyncio.CancelledError:
            if not gate.cut_off:
                raise
            await context.abort(grpc.StatusCode.UNAVAILABLE, CUT_OFF)
        finally:
            gate.leave(call)

    async def streaming(request, context):
        call = gate.enter()
        result = behaviour(request, context)
        try:
            if inspect.isasyncgen(result):
                async for message in result:
                    # While grpc sends the message, a cancel would land in grpc's own code (the
                    # call ends CANCELLED): ``cut`` leaves the call be, and it ends here after.
                    call.sending = True
                    yield message
                    call.sending = False
                    if gate.cut_off:
                        raise asyncio.CancelledError
            else:  # a handler that writes through the context itself
                await result
        except asyncio.CancelledError:
            if not gate.cut_off:
                raise
            if inspect.isasyncgen(result):
                await result.aclose()  # its own clean-up: stop the work, log the call
            await context.abort(grpc.StatusCode.UNAVAILABLE, CUT_OFF)
        finally:
            gate.leave(call)

    wrapped = streaming if handler.response_streaming else single
    return kind(wrapped, handler.request_deserializer, handler.response_serializer)


class _Call:
    """A call let through: its handler's task, and whether grpc is sending one of its messages."""

    __slots__ = ("sending", "task")

    def __init__(self, task: asyncio.Task | None) -> None:
        self.task = task
        self.sending = False


class DrainGate(grpc.aio.ServerInterceptor):
    """Counts the calls it lets through; once ``close``d, refuses the new ones; ``cut`` ends
    those still running."""

    def __init__(self) -> None:
        self.closed = False
        self.cut_off = False
        self.in_flight = 0
        self._calls: set[_Call] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> _Call:
        """Count the calling handler in; returns its call, for ``leave``."""
        self.in_flight += 1
        self._idle.clear()
        call = _Call(asyncio.current_task())
        self._calls.add(call)
        return call

    def leave(self, call: _Call) -> None:
        self.in_flight -= 1
        self._calls.discard(call)
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

    def cut(self) -> int:
        """The grace period is over: cancel the calls still running, each answered UNAVAILABLE
        (``CUT_OFF``) by its handler's wrapper. Returns how many there were."""
        self.cut_off = True
        for call in self._calls:
            if call.task is not None and not call.sending:
                call.task.cancel()
        return len(self._calls)

    async def settle(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the calls in flight to finish; whether they did."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=timeout_s)
        except asyncio.TimeoutError:
            return False
        return True
