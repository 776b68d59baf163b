"""The ``loss-advisor`` command line.

It is a front end like the Python client: in-process by default, so the compute stack
(torch, scikit-learn) is imported only inside the commands that need it. People get
tables; machines get ``--json``. Every failure is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import resources
from typing import Any

from advisor.errors import AdvisorError

EXIT_USAGE = 2


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [
        max(len(c), *(len(row[i]) for row in cells)) if cells else len(c)
        for i, c in enumerate(columns)
    ]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, rule, *body])


def cmd_losses(args: argparse.Namespace) -> int:
    from advisor import losses

    specs = [
        s for s in losses.specs() if args.task is None or args.task in {t.value for t in s.tasks}
    ]
    if args.json:
        print(json.dumps([s.describe() for s in specs], indent=2))
        return 0
    rows = [
        {
            "loss": s.name,
            "family": s.family.value,
            "tasks": ",".join(t.value for t in s.tasks),
            "hyperparameters": ", ".join(
                f"{p.name}={p.default!r}"
                for p in s.params
                if p.name != "reduction" and not callable(p.default)
            ),
            "reference": s.reference if len(s.reference) <= 40 else s.reference[:37] + "...",
        }
        for s in specs
    ]
    print(_table(rows, ["loss", "family", "tasks", "hyperparameters", "reference"]))
    print(f"\n{len(rows)} losses. `loss-advisor losses --json` gives ranges and docs.")
    return 0


def _recommend(targets: Any, features: Any, args: argparse.Namespace) -> int:
    import advisor

    rec = advisor.recommend(
        targets, features=features, task=args.task, goal=args.goal, top_k=args.top_k
    )
    if args.json:
        print(rec.model_dump_json(indent=2))
    else:
        print(rec.explain())
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from advisor import io

    table = io.read_table(args.data)
    features = args.features.split(",") if args.features else None
    targets, x = io.select(table, args.target, features)
    return _recommend(targets, x, args)


def cmd_demo(args: argparse.Namespace) -> int:
    from advisor import io

    path = resources.files("advisor") / "data" / "delivery_times.csv"
    with resources.as_file(path) as csv_path:
        table = io.read_table(csv_path)
    targets, x = io.select(table, "minutes", None)
    if not args.json:
        print(
            f"Bundled example: delivery_times.csv, {len(targets)} deliveries, target 'minutes'.\n"
        )
    return _recommend(targets, x, args)


def _progress_bar(step: int, total: int, message: str) -> None:
    width = 30
    done = int(width * step / max(total, 1))
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {message}")
    if step >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_validate(args: argparse.Namespace) -> int:
    import advisor
    from advisor import io

    table = io.read_table(args.data)
    features = args.features.split(",") if args.features else None
    targets, x = io.select(table, args.target, features)
    if x is None:
        raise AdvisorError("validation needs at least one numeric feature column", field="features")
    report = advisor.validate(
        x,
        targets,
        args.loss or None,
        task=args.task,
        folds=args.folds,
        model=args.model,
        epochs=args.epochs,
        budget_s=args.budget,
        seed=args.seed,
        metric=args.metric,
        progress=None if args.json else _progress_bar,
    )
    if args.plot:
        report.plot(args.plot)
    print(report.model_dump_json(indent=2) if args.json else report.table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loss-advisor",
        description="Profile data, recommend, evaluate and benchmark loss functions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("losses", help="the loss catalog")
    p.add_argument("--task", help="only losses serving this task")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_losses)

    def recommend_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--task", help="override the inferred task")
        p.add_argument("--goal", help="robust, calibrated, median, quantile:q or ranking")
        p.add_argument("--top-k", type=int, default=5, dest="top_k")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("recommend", help="profile a table and recommend losses")
    p.add_argument("data", help="CSV, Parquet, NPY or NPZ file")
    p.add_argument("--target", required=True, help="target column")
    p.add_argument(
        "--features", help="comma-separated feature columns (default: all other numeric)"
    )
    recommend_options(p)
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser(
        "validate", help="train probe models with each candidate loss, cross-validated"
    )
    p.add_argument("data", help="CSV, Parquet, NPY or NPZ file")
    p.add_argument("--target", required=True, help="target column")
    p.add_argument(
        "--features", help="comma-separated feature columns (default: all other numeric)"
    )
    p.add_argument(
        "--loss", action="append", help="a candidate loss (repeat); default: the recommendation"
    )
    p.add_argument("--task", help="override the inferred task")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--model", choices=["linear", "mlp"], default="linear")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--budget", type=float, help="stop after this many seconds (partial report)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--metric", help="rank by this metric instead of the task's primary one")
    p.add_argument("--plot", help="write loss curves and metrics to this PNG (needs matplotlib)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("demo", help="recommend a loss for the bundled example, in-process")
    recommend_options(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AdvisorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as exc:
        print(
            f"error: this command runs in-process and needs {exc.name!r}; install loss-advisor[server]",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
