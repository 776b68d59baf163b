"""The gRPC transport around ``advisor``: ``loss-advisor serve`` and ``python -m server``.

Imports are deferred so that ``import server`` (the command line builds its parser from it)
costs nothing until a server actually starts.
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
