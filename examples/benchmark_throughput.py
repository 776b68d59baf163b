"""Benchmark how fast ``advisor.evaluate`` scores candidate losses on this machine.

Prints the benchmark's table (the cases, their sizes and throughput). ``--full`` runs the
full-size cases with three repeats; the default is the quick set. ``--device cuda`` measures a
GPU. ``LOSS_ADVISOR_EXAMPLE_QUICK=1``: one repeat of the quick set.

Run: ``python examples/benchmark_throughput.py [--full] [--device cpu|cuda]``
"""

from __future__ import annotations

import argparse
import os

from advisor.benchmarking import throughput

QUICK = os.environ.get("LOSS_ADVISOR_EXAMPLE_QUICK") == "1"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full-size cases, not the quick set")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    args = parser.parse_args(argv)
    rows = throughput.run(device=args.device, quick=not args.full, repeats=1 if QUICK else 3)
    print(throughput.format_table(rows))


if __name__ == "__main__":
    main()
