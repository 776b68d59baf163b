"""``python -m server``: the same server as ``loss-advisor serve``, without the command line."""

from __future__ import annotations

import argparse
import sys

from server import add_serve_arguments, serve_from_args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__)
    add_serve_arguments(parser)
    return serve_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
