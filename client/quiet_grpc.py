"""``grpc`` for the light client, imported so that grpc core's own log lines stay off stderr.

grpc core logs from C++ straight to stderr (``chttp2_transport.cc:1403] ... Got goaway`` when a
server shuts down under a call) at a level it reads from ``GRPC_VERBOSITY`` once, when ``grpc``
is first imported. Everything such a line says reaches the caller anyway, as the call's
exception, so the client imports grpc with ``GRPC_VERBOSITY=NONE``, unless the user set the
variable (their setting wins) or grpc was imported before (its level is fixed by then). The
variable is removed again right after the import: it was only for this process's grpc, not for
the processes the caller starts (a server, which keeps grpc's default).
"""

from __future__ import annotations

import os
import sys

if "grpc" not in sys.modules and "GRPC_VERBOSITY" not in os.environ:
    os.environ["GRPC_VERBOSITY"] = "NONE"
    try:
        import grpc
    finally:
        os.environ.pop("GRPC_VERBOSITY", None)
else:
    import grpc

__all__ = ["grpc"]
