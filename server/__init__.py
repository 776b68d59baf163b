"""The gRPC transport around ``advisor``: ``loss-advisor serve`` and ``python -m server``.

Imports are deferred so that ``import server`` (the command line builds its parser from it)
costs nothing until a server actually starts.

Modules, one job each: ``app`` (process lifecycle: options, warm-up, health, graceful drain),
``service`` (the servicer: transport only), ``mapping`` (proto requests to domain arguments and
results back), ``codec`` (arrays from and to the wire, checked before memory is sized),
``decoding`` (undecodable bytes as INVALID_ARGUMENT), ``status`` (exceptions to gRPC statuses),
``fieldpath`` (domain field names to paths in the caller's request), ``redact`` (what of an
error's text goes back), ``auth`` and ``tenants`` (bearer tokens and the tenants they stand
for), ``store`` (uploaded datasets within a byte budget and a TTL), ``limiter`` (the cap on
computations at once), ``work`` (a computation's stop signal), ``drain`` (the door a draining
server closes), ``standins`` (handlers that answer with one status), ``rpclog`` (one
structured line per RPC), ``bench`` (the Benchmark RPC) and ``__main__`` (``python -m server``).
"""

from __future__ import annotations

import argparse

__all__ = ["add_serve_arguments", "serve_from_args"]


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    from server.app import add_serve_arguments as add

    add(parser)


def serve_from_args(args: argparse.Namespace) -> int:
    from server.app import serve_from_args as run

    return run(args)
