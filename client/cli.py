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
from pathlib import Path
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


def _advisor(args: argparse.Namespace) -> Any:
    """The in-process advisor, or the remote one with ``--server``: the commands call the same
    methods on either, and the remote path imports neither torch nor scikit-learn."""
    if getattr(args, "server", None):
        from client.advisor_client import AdvisorClient

        token = None
        if args.token_file:
            try:
                token = Path(args.token_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise AdvisorError(
                    f"cannot read the token file ({exc.strerror})", field="token_file"
                ) from None
        return AdvisorClient(args.server, token=token, tls=args.tls_ca, timeout=args.timeout)
    from client.local import LocalAdvisor

    return LocalAdvisor(device=getattr(args, "device", "auto"))


def cmd_losses(args: argparse.Namespace) -> int:
    with _advisor(args) as advisor:
        specs = advisor.list_losses(args.task)
    if args.json:
        print(json.dumps(specs, indent=2))
        return 0
    rows = [
        {
            "loss": s["name"],
            "family": s["family"],
            "tasks": ",".join(s["tasks"]),
            "hyperparameters": ", ".join(
                f"{p['name']}={p['default']!r}"
                for p in s["params"]
                if p["name"] != "reduction" and p.get("kind") != "callable"
            ),
            "reference": s["reference"]
            if len(s["reference"]) <= 40
            else s["reference"][:37] + "...",
        }
        for s in specs
    ]
    print(_table(rows, ["loss", "family", "tasks", "hyperparameters", "reference"]))
    print(f"\n{len(rows)} losses. `loss-advisor losses --json` gives ranges and docs.")
    return 0


def _recommend(targets: Any, features: Any, args: argparse.Namespace) -> int:
    with _advisor(args) as advisor:
        rec = advisor.recommend(
            targets, features=features, task=args.task, goal=args.goal, top_k=args.top_k
        )
    print(rec.model_dump_json(indent=2) if args.json else rec.explain())
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
    from advisor import io

    table = io.read_table(args.data)
    features = args.features.split(",") if args.features else None
    targets, x = io.select(table, args.target, features)
    if x is None:
        raise AdvisorError("validation needs at least one numeric feature column", field="features")
    with _advisor(args) as advisor:
        report = advisor.validate(
            x,
            targets,
            _candidates(args.loss),
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


def _candidates(specs: list[str] | None) -> list[dict[str, Any]] | None:
    """``--loss HuberLoss:delta=0.5,reduction=sum`` -> ``{"loss": ..., "params": {...}}``.

    Values are read as JSON where they parse (numbers, true/false, lists such as
    ``weight=[1,2]``), as text otherwise (``reduction=sum``).
    """
    if not specs:
        return None
    out = []
    for i, spec in enumerate(specs):
        name, _, rest = spec.partition(":")
        params: dict[str, Any] = {}
        for item in _split_params(rest):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise AdvisorError(
                    f"{item!r} is not name=value", field=f"loss[{i}]", expected="name=value"
                )
            try:
                params[key.strip()] = json.loads(value)
            except json.JSONDecodeError:
                params[key.strip()] = value.strip()
        out.append({"loss": name.strip(), "params": params})
    return out


def _split_params(text: str) -> list[str]:
    """Split on commas outside brackets, so ``weight=[1,2],reduction=sum`` is two items."""
    items, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        items.append(current)
    return [i for i in items if i.strip()]


def _read(spec: str | None, field: str) -> Any:
    from advisor import io

    if spec is None:
        return None
    path, key = io.split_key(spec)
    try:
        return io.read_array(path, key)
    except AdvisorError as exc:
        raise AdvisorError(exc.message, field=field, expected=exc.expected, got=exc.got) from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    predictions = tuple(_read(p, "predictions") for p in args.predictions)
    targets = _read(args.targets, "targets")
    with _advisor(args) as advisor:
        report = advisor.evaluate(
            predictions[0] if len(predictions) == 1 else predictions,
            targets,
            _candidates(args.loss),
            task=args.task,
            sample_weight=_read(args.sample_weight, "sample_weight"),
            diagnostics=not args.no_diagnostics,
        )
    print(report.model_dump_json(indent=2) if args.json else report.table())
    return 0


BENCH_COLUMNS = (
    ("case", "case", None),
    ("diag", "diagnostics", None),
    ("K", "k", None),
    ("fused ms", "fused_s", 1e3),
    ("loop ms", "loop_s", 1e3),
    ("speedup", "speedup", 1),
    ("fused/single", "fused_over_single", 1),
    ("read-bound ms", "read_bound_s", 1e3),
    ("GB/s", "gb_per_s", 1),
    ("compile s", "compile_s", 1),
    ("peak MiB", "peak_extra_bytes", 1 / 2**20),
)


def bench_table(rows: list[dict[str, Any]]) -> str:
    """The benchmark rows as a table; rows are dicts so a remote reply needs no compute stack."""

    def cell(row: dict[str, Any], key: str, scale: float | None) -> str:
        value = row.get(key)
        if value is None:
            return "-"
        if scale is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return str(value)
        return f"{value * scale:.3g}"

    return _table(
        [{title: cell(r, key, scale) for title, key, scale in BENCH_COLUMNS} for r in rows],
        [title for title, _, _ in BENCH_COLUMNS],
    )


def cmd_bench(args: argparse.Namespace) -> int:
    if args.quick and args.server:
        raise AdvisorError("--quick runs in-process; name the cases to run remotely", field="quick")
    with _advisor(args) as advisor:
        if args.server:
            reply = advisor.benchmark(args.case or None, diagnostics=bool(args.diagnostics))
        else:
            reply = advisor.benchmark(
                args.case or None,
                diagnostics=args.diagnostics,
                quick=args.quick,
                progress=None if args.json else _progress_bar,
            )
    if args.json:
        print(json.dumps(reply, indent=2))
    else:
        print(f"device: {reply['device']}\n")
        print(bench_table(reply["rows"]))
    return 0


def _needs_server_extra(missing: str | None) -> int:
    raise ModuleNotFoundError(f"serving needs {missing!r}", name=missing)


def cmd_serve(args: argparse.Namespace) -> int:
    import server

    return server.serve_from_args(args)


def _remote_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("remote (default: in-process)")
    g.add_argument("--server", metavar="ADDR", help="run on a loss-advisor server, host:port")
    g.add_argument("--token-file", help="file holding the server's bearer token")
    g.add_argument("--tls-ca", help="PEM CA bundle of a TLS server")
    g.add_argument("--timeout", type=float, default=300.0, help="deadline of each call, seconds")


def _device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="in-process device: auto, cpu, cuda[:i]")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loss-advisor",
        description="Profile data, recommend, evaluate and benchmark loss functions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("losses", help="the loss catalog")
    p.add_argument("--task", help="only losses serving this task")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _remote_options(p)
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
    _remote_options(p)
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser(
        "evaluate",
        help="evaluate candidate losses on predictions and targets, with diagnostics",
        description="Files are NPY, NPZ, CSV or Parquet; FILE:NAME picks an NPZ array or "
        "table column(s) (comma-separated).",
    )
    p.add_argument(
        "--predictions",
        action="append",
        required=True,
        metavar="FILE[:NAME]",
        help="predictions; repeat for pair and triplet losses",
    )
    p.add_argument("--targets", metavar="FILE[:NAME]", help="targets (labels, values)")
    p.add_argument(
        "--loss",
        action="append",
        metavar="NAME[:k=v,...]",
        help="a candidate, e.g. HuberLoss:delta=0.5 (repeat); default: the recommendation",
    )
    p.add_argument("--task", help="the task, when the data leave it open")
    p.add_argument("--sample-weight", metavar="FILE[:NAME]", help="one weight per row")
    p.add_argument("--no-diagnostics", action="store_true", help="values only (faster)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _device_option(p)
    _remote_options(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "validate", help="train probe models with each candidate loss, cross-validated"
    )
    p.add_argument("data", help="CSV, Parquet, NPY or NPZ file")
    p.add_argument("--target", required=True, help="target column")
    p.add_argument(
        "--features", help="comma-separated feature columns (default: all other numeric)"
    )
    p.add_argument(
        "--loss",
        action="append",
        metavar="NAME[:k=v,...]",
        help="a candidate loss (repeat); default: the recommendation",
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
    _device_option(p)
    _remote_options(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("bench", help="loss throughput on this machine (or the server's)")
    p.add_argument("--case", action="append", help="a benchmark case (repeat); default: all")
    p.add_argument("--quick", action="store_true", help="the small cases, in seconds")
    p.add_argument(
        "--diagnostics",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with or without diagnostics (default: both in-process, values remotely)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _device_option(p)
    _remote_options(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("serve", help="run the gRPC service")
    try:
        import server

        server.add_serve_arguments(p)
        p.set_defaults(func=cmd_serve)
    except ModuleNotFoundError as exc:  # a light install: the client without the server extra
        missing = exc.name
        p.set_defaults(func=lambda _args: _needs_server_extra(missing))

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
            f"error: this command runs in-process and needs {exc.name!r}; "
            "install loss-advisor[server] or use --server",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
