"""Bearer-token check for every RPC except health, which orchestrators probe without secrets.

A call without a known token is answered by a stand-in that only refuses it, so it reaches no
handler: not the advisor's, not reflection's, not the dataset RPCs.
"""

from __future__ import annotations

import grpc

from server.standins import refusing
from server.tenants import Tenants

OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
DENIED = "missing or wrong bearer token"


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
        return refusing(handler, method, grpc.StatusCode.UNAUTHENTICATED, DENIED)
