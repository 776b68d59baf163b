"""The ``loss-advisor`` command line.

It is a front end like the Python client: in-process by default, so the compute stack
(torch, scikit-learn) is imported only inside the commands that need it, and on a server with
``--server ADDR``, where the same methods run through ``AdvisorClient`` and the compute stack
is never imported. People get tables; machines get ``--json``. Every failure is one line on
stderr: exit 2 for what the caller can fix (a file, an option, what the server rejected),
1 for anything else, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from advisor import installed_version
from advisor.errors import AdvisorError
from advisor.schema.benchmark import CASES, QUICK_CASES, STANDARD_CASES
from advisor.schema.evaluation import DEFAULT_QUANTILE_SAMPLE, check_quantile_sample
from client.loss_options import parse_losses

EXIT_USAGE = 2
EXIT_FAILURE = 1


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


def _readable(path: str, field: str) -> str:
    """The file's text; checked here so a missing token or CA file is one line, not a trace."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise AdvisorError(f"cannot read {path} ({reason})", field=field) from None


def _advisor(args: argparse.Namespace) -> Any:
    """The in-process advisor, or the remote one with ``--server``: the commands call the same
    methods on either, and the remote path imports neither torch nor scikit-learn."""
    if getattr(args, "server", None):
        from client.advisor_client import AdvisorClient

        if getattr(args, "device", "auto") != "auto":
            raise AdvisorError(
                "--device picks the in-process device; a server computes on its own "
                "(loss-advisor serve --device)",
                field="device",
            )

        token = _readable(args.token_file, "token_file").strip() if args.token_file else None
        if args.tls_ca:
            _readable(args.tls_ca, "tls_ca")
        return AdvisorClient(args.server, token=token, tls=args.tls_ca, timeout=args.timeout)
    from client.local import LocalAdvisor

    # One command, then exit: a compilation would cost more than it saves, so evaluation runs
    # eagerly (``bench`` forces its own compiled mode).
    return LocalAdvisor(device=getattr(args, "device", "auto"), eval_mode="eager")


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
            targets,
            features=features,
            task=args.task,
            goal=args.goal,
            top_k=args.top_k,
            categorical=_names(getattr(args, "categorical", None)),
        )
    if not args.json:
        _say_features(rec.profile.features.preparation if rec.profile.features else None)
    print(rec.model_dump_json(indent=2) if args.json else rec.explain())
    return 0


def _names(spec: str | None) -> list[str] | None:
    return [n.strip() for n in spec.split(",") if n.strip()] if spec else None


def _say_features(preparation: Any) -> None:
    """Which columns the model reads and which were dropped, on stderr (stdout stays the report)."""
    if preparation is None:
        return
    used = [c.name for c in preparation.columns if c.action != "dropped"]
    dropped = [f"{c.name} ({c.reason})" for c in preparation.columns if c.action == "dropped"]
    encoded = [c.name for c in preparation.columns if c.action == "encoded"]
    lines = [f"features: {len(used)} columns used: {', '.join(used)}"]
    if encoded:
        lines.append(f"  encoded as categories: {', '.join(encoded)}")
    if dropped:
        lines.append(f"  dropped: {'; '.join(dropped)}")
    print("\n".join(lines), file=sys.stderr)


def _table_columns(args: argparse.Namespace) -> tuple[Any, Any]:
    """The target column and the feature columns (all others unless ``--features``)."""
    from advisor import io

    table = io.read_table(args.data)
    return io.select(table, args.target, _names(args.features))


def cmd_profile(args: argparse.Namespace) -> int:
    targets, features = _table_columns(args)
    with _advisor(args) as advisor:
        prof = advisor.profile(
            targets, features=features, task=args.task, categorical=_names(args.categorical)
        )
    print(prof.model_dump_json(indent=2) if args.json else prof.summary())
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    targets, features = _table_columns(args)
    return _recommend(targets, features, args)


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
    targets, features = _table_columns(args)
    if features is None:
        raise AdvisorError("validation needs at least one feature column", field="features")
    with _advisor(args) as advisor:
        report = advisor.validate(
            features,
            targets,
            parse_losses(args.loss),
            task=args.task,
            folds=args.folds,
            model=args.model,
            epochs=args.epochs,
            budget_s=args.budget,
            seed=args.seed,
            metric=args.metric,
            progress=None if args.json else _progress_bar,
            categorical=_names(args.categorical),
        )
    if not args.json:
        _say_features(report.preparation)
    if args.plot:
        report.plot(args.plot)
    print(report.model_dump_json(indent=2) if args.json else report.table())
    return 0


def _report_inputs(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Targets, features and predictions from one read of DATA. ``--predictions`` is a column
    of DATA (then never a feature), else ``FILE[:NAME]``."""
    from advisor import io

    table = io.read_table(args.data)
    spec, predictions, exclude = args.predictions, None, ()
    if spec is not None and not Path(io.split_key(spec)[0]).is_file():
        if spec not in table:
            raise AdvisorError(
                f"{spec!r} is neither a column of {args.data} nor a file",
                field="predictions",
                expected=f"FILE[:NAME] or one of: {', '.join(table)}",
                got=spec,
            )
        predictions, exclude = table[spec], (spec,)
    elif spec is not None:
        predictions = _read(spec, "predictions")
    targets, features = io.select(table, args.target, _names(args.features), exclude)
    return targets, features, predictions


def cmd_report(args: argparse.Namespace) -> int:
    from advisor.schema.report import Report

    if args.from_json:
        report = Report.model_validate_json(_readable(args.from_json, "from_json"))
    else:
        targets, features, predictions = _report_inputs(args)
        with _advisor(args) as advisor:
            report = advisor.report(
                targets,
                features,
                predictions,
                task=args.task,
                goal=args.goal,
                top_k=args.top_k,
                categorical=_names(args.categorical),
                validate=args.validate,
                folds=args.folds,
                model=args.model,
                epochs=args.epochs,
                budget_s=args.budget,
                seed=args.seed,
                progress=None if args.json else _progress_bar,
                title=args.title,
                source=Path(args.data).name,
                target=args.target,
            )
        report = report.model_copy(update={"command": shlex.join(["loss-advisor", *args.argv])})
        if not args.json:
            prepared = report.recommendation.profile.features
            _say_features(prepared.preparation if prepared else None)
    output = args.output or (None if args.json else "report.html")
    if output is not None:
        from advisor.reporting.render import write

        write(report, output)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(f"{report.summary()}\nwrote {output}")
    return 0


def _read(spec: str | None, field: str) -> Any:
    from advisor import io

    if spec is None:
        return None
    path, key = io.split_key(spec)
    try:
        return io.read_array(path, key)
    except AdvisorError as exc:
        raise AdvisorError(exc.message, field=field, expected=exc.expected, got=exc.got) from None


def _parquet_stream(args: argparse.Namespace) -> Any:
    """Batches of one large Parquet file, when every input is a column of it and the work is local.

    A file of more than ``--batch-rows`` rows is read a batch at a time (``advisor.evaluate``
    takes the batches as a stream: one pass, bounded memory); None otherwise.
    """
    from advisor import io

    if getattr(args, "server", None):
        return None
    specs = [*args.predictions, args.targets, *([args.sample_weight] if args.sample_weight else [])]
    if any(spec is None for spec in specs):
        return None
    split = [io.split_key(spec) for spec in specs]
    paths = {path for path, _ in split}
    if len(paths) != 1 or any(key is None for _, key in split):
        return None
    (path,) = paths
    rows = io.parquet_rows(path)
    if rows is None or rows <= args.batch_rows:
        return None
    n_preds = len(args.predictions)

    def batches() -> Any:
        for arrays in io.parquet_batches(path, [key for _, key in split], args.batch_rows):
            preds = arrays[0] if n_preds == 1 else tuple(arrays[:n_preds])
            yield (preds, *arrays[n_preds:])

    return batches()


def cmd_evaluate(args: argparse.Namespace) -> int:
    # Everything local is read and parsed before a server is contacted or torch is loaded.
    if args.batch_rows < 1:
        raise AdvisorError("must be a positive number of rows", field="batch_rows", got=args.batch_rows)
    stream = _parquet_stream(args)
    if stream is not None:  # the batches carry every input: evaluate reads them as a stream
        predictions, targets, sample_weight = stream, None, None
    else:
        read = tuple(_read(p, "predictions") for p in args.predictions)
        predictions = read[0] if len(read) == 1 else read
        targets = _read(args.targets, "targets")
        sample_weight = _read(args.sample_weight, "sample_weight")
    candidates = parse_losses(args.loss)
    quantile_sample = None if args.quantile_sample == 0 else check_quantile_sample(args.quantile_sample)
    with _advisor(args) as advisor:
        report = advisor.evaluate(
            predictions,
            targets,
            candidates,
            task=args.task,
            sample_weight=sample_weight,
            diagnostics=not args.no_diagnostics,
            quantile_sample=quantile_sample,
        )
    print(report.model_dump_json(indent=2) if args.json else report.table())
    # nothing computed is a failure for a script to see, though the report says why
    return EXIT_FAILURE if all(r.skipped for r in report.results) else 0


def _bench_advice(args: argparse.Namespace) -> int:
    """The advice benchmark: real published data sets, the recommendation against their
    literature and against the task's default loss on held-out rows (in-process)."""
    if args.server:
        raise AdvisorError("--advice runs in-process: its data sets ship with this install", field="advice")
    from advisor.advice import run

    rows = run.run(progress=None if args.json else _progress_bar)
    print(json.dumps([r.as_dict() for r in rows], indent=2) if args.json else run.table(rows))
    return 0


def _bench_anchors(args: argparse.Namespace) -> int:
    """The engine against a hand-fused kernel, the torch.nn.functional loop, the read bound and
    the autograd loop, then across data layouts (in-process)."""
    if args.server:
        raise AdvisorError("--anchors runs in-process", field="anchors")
    from advisor.benchmarking import anchors
    from advisor.schema.benchmark import format_anchors

    rows = anchors.run((args.anchor_rows,), device=args.device)
    print(json.dumps([r.model_dump() for r in rows], indent=2) if args.json else format_anchors(rows))
    return 0


def _bench_long_lived(args: argparse.Namespace) -> int:
    """The benchmark cases fresh, then after many mixed requests in the same process."""
    if args.server:
        raise AdvisorError("--long-lived runs in-process", field="long_lived")
    from advisor.benchmarking import longlived

    report = longlived.run(args.long_lived, device=args.device)
    print(report.model_dump_json(indent=2) if args.json else report.format())
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.advice:
        return _bench_advice(args)
    if args.anchors:
        return _bench_anchors(args)
    if args.long_lived is not None:
        return _bench_long_lived(args)
    if args.quick and args.server:
        raise AdvisorError(
            "--quick picks the cases in-process; name them with --case to run remotely",
            field="quick",
        )
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
        return 0
    from advisor.schema.benchmark import BenchRow, format_table

    print(format_table([BenchRow.model_validate(row) for row in reply["rows"]]))
    if reply.get("truncated"):
        print(
            "\nThe server's --max-benchmark-s ended the run: these are the cases it finished.",
            file=sys.stderr,
        )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The server's own options are parsed here, not in ``build_parser``: building them imports
    grpc and the service, which every other command would otherwise pay for."""
    import server

    parser = argparse.ArgumentParser(
        prog="loss-advisor serve", description="Run the LossAdvisor gRPC service."
    )
    server.add_serve_arguments(parser)
    return server.serve_from_args(parser.parse_args(args.serve_argv))


def _remote_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("remote (default: in-process)")
    g.add_argument("--server", metavar="ADDR", help="run on a loss-advisor server, host:port")
    g.add_argument("--token-file", help="file holding the server's bearer token")
    g.add_argument("--tls-ca", help="PEM CA bundle of a TLS server")
    g.add_argument("--timeout", type=float, default=300.0, help="deadline of each call, seconds")


def _device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="in-process device: auto, cpu, cuda[:i]")


def _feature_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--features",
        metavar="COLS",
        help="comma-separated feature columns (default: every column but the target)",
    )
    p.add_argument(
        "--categorical",
        metavar="COLS",
        help="comma-separated columns to encode as categories whatever they hold (integer "
        "codes, say); text, boolean and mixed columns always are",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loss-advisor",
        description="Profile data, recommend, evaluate and benchmark loss functions.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
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

    p = sub.add_parser("profile", help="measure a table: task, target, features, residuals")
    p.add_argument("data", help="CSV, Parquet, NPY or NPZ file")
    p.add_argument("--target", required=True, help="target column (several, comma-separated: several values per row)")
    _feature_options(p)
    p.add_argument("--task", help="override the inferred task")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _remote_options(p)
    p.set_defaults(func=cmd_profile)

    p = sub.add_parser("recommend", help="profile a table and recommend losses")
    p.add_argument("data", help="CSV, Parquet, NPY or NPZ file")
    p.add_argument("--target", required=True, help="target column (several, comma-separated: several values per row)")
    _feature_options(p)
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
    p.add_argument(
        "--quantile-sample",
        type=int,
        default=DEFAULT_QUANTILE_SAMPLE,
        metavar="ROWS",
        help=f"rows sampled for the loss quantiles (default {DEFAULT_QUANTILE_SAMPLE:,}; "
        "each quantile's rank within ±sqrt(ln 40 / 2·ROWS) at 95%%); 0: exact, slower, memory linear in N",
    )
    p.add_argument(
        "--batch-rows",
        type=int,
        default=1_000_000,
        metavar="ROWS",
        help="a Parquet file of more rows, holding every input, is read this many rows at a time "
        "(one pass, bounded memory; in-process only)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _device_option(p)
    _remote_options(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "validate", help="train probe models with each candidate loss, cross-validated"
    )
    p.add_argument("data", help="CSV, Parquet, NPY or NPZ file")
    p.add_argument("--target", required=True, help="target column (several, comma-separated: several values per row)")
    _feature_options(p)
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

    p = sub.add_parser(
        "report",
        help="one self-contained HTML page: profile, recommendation, lints, evaluation, validation",
        description="Writes one HTML file that loads nothing from the network (styles and "
        "plots inlined). --json prints the same report as JSON; --from-json renders a saved one.",
    )
    p.add_argument("data", nargs="?", help="CSV, Parquet, NPY or NPZ file")
    p.add_argument("--target", help="target column, or several comma-separated (required with DATA)")
    _feature_options(p)
    p.add_argument(
        "--predictions",
        metavar="COLUMN|FILE[:NAME]",
        help="a model's predictions, row for row: a column of DATA (then never a feature) or "
        "another file; the candidates are evaluated and linted on them",
    )
    p.add_argument("--validate", action="store_true", help="also train probe models per candidate")
    recommend_options(p)
    p.add_argument("--folds", type=int, default=5, help="validation folds")
    p.add_argument("--model", choices=["linear", "mlp"], default="linear", help="validation probe")
    p.add_argument("--epochs", type=int, default=100, help="validation epochs")
    p.add_argument("--budget", type=float, help="stop validation after this many seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--title", help="the page's heading (default: the target's name)")
    p.add_argument("-o", "--output", metavar="FILE", help="the HTML file (default: report.html; none with --json unless given)")
    p.add_argument("--from-json", metavar="FILE", help="render a report saved with --json instead of computing one")
    _device_option(p)
    _remote_options(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="loss throughput on this machine (or the server's)")
    p.add_argument(
        "--case",
        action="append",
        choices=list(CASES),
        metavar="CASE",
        help=f"a benchmark case (repeat): {', '.join(CASES)}; default: "
        f"{', '.join(STANDARD_CASES)} (with --quick: {', '.join(QUICK_CASES)})",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run in seconds: the small cases, eager kernels, nothing compiled",
    )
    p.add_argument(
        "--advice",
        action="store_true",
        help="instead of throughput: the recommendation on 18 real data sets shipped with "
        "scikit-learn and statsmodels, against their literature and the default loss",
    )
    p.add_argument(
        "--anchors",
        action="store_true",
        help="instead of the cases: the eight regression losses against a hand-fused compiled "
        "kernel, the torch.nn.functional loop, the memory-read bound and an autograd loop, then "
        "the time across data layouts (minutes: it compiles)",
    )
    p.add_argument(
        "--anchor-rows", type=int, default=1_000_000, metavar="N", help="rows for --anchors (default 1e6)"
    )
    p.add_argument(
        "--long-lived",
        type=int,
        nargs="?",
        const=1000,
        metavar="REQUESTS",
        help="instead of the cases: the regression and multiclass cases timed fresh, then again "
        "after REQUESTS (default 1000) mixed requests in the same process, with its compile "
        "counters and memory (minutes)",
    )
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

    p = sub.add_parser(
        "serve",
        add_help=False,  # --help goes to the server's own parser, in cmd_serve
        help="run the gRPC service (loss-advisor serve --help lists its options)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="recommend a loss for the bundled example, in-process")
    recommend_options(p)
    p.set_defaults(func=cmd_demo)
    return parser


#: optional modules -> the extra that installs them, for the "not installed" message
_EXTRAS = {
    "torch": "server",
    "sklearn": "server",
    "scipy": "server",
    "grpc_health": "server",
    "grpc_reflection": "server",
    "grpc_status": "server",
    "matplotlib": "plot",
    "jinja2": "report",
}


def _missing_module(name: str | None, args: argparse.Namespace) -> str:
    top = (name or "").split(".")[0]
    extra = _EXTRAS.get(top)
    if extra is None:
        return f"this command needs the module {top!r}, which is not installed"
    hint = f"install loss-advisor[{extra}]"
    if extra == "server" and hasattr(args, "server"):
        hint += " or run it on a server with --server ADDR"
    return f"this command needs {top!r}; {hint}"


def _advisor_error(exc: AdvisorError, server: str | None) -> str:
    """``field: message``; a failure of the connection itself names the server instead."""
    text = f"{exc.field}: {exc.message}" if exc.field else exc.message
    if server and not exc.field:
        text = f"server {server}: {text}"
    return text


def _fail(text: str) -> None:
    print("error: " + " ".join(text.split()), file=sys.stderr)


def _check_options(args: argparse.Namespace) -> None:
    """The options' values, checked before a command imports the compute stack (seconds of
    torch): a wrong --task, --goal or count is reported at once, by the parsers the domain
    uses itself."""
    from advisor.errors import ParameterError
    from advisor.vocabulary import parse_task

    if getattr(args, "task", None):
        parse_task(args.task)
    if getattr(args, "goal", None):
        from advisor.schema.goal import parse_goal

        parse_goal(args.goal)
    for name, low in (("top_k", 1), ("folds", 2), ("epochs", 1), ("long_lived", 1)):
        value = getattr(args, name, None)
        if value is not None and value < low:
            raise ParameterError(f"must be at least {low}", field=name, expected=f">= {low}", got=value)
    if getattr(args, "plot", None):  # before training, not after it
        _require(("matplotlib",), "plot", "plot", args.plot)
    if args.command == "report":
        _check_report(args)


def _require(modules: tuple[str, ...], extra: str, field: str, got: Any) -> None:
    """Every module installed, or one error naming the extra that installs them."""
    import importlib.util

    from advisor.errors import ParameterError

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise ParameterError(
            f"this needs {' and '.join(missing)}: pip install 'loss-advisor[{extra}]' "
            f"(in a clone of the project: pip install -e '.[{extra}]')",
            field=field,
            expected=f"{', '.join(modules)} installed",
            got=got,
        )


def _check_report(args: argparse.Namespace) -> None:
    from advisor.errors import ParameterError

    if args.from_json:
        if args.data or args.target:
            raise ParameterError("--from-json renders a saved report: give no DATA or --target", field="from_json")
    elif not args.data or not args.target:
        raise ParameterError("give DATA and --target (or --from-json FILE)", field="target" if args.data else "data")
    if args.output or not args.json:
        _require(("jinja2", "matplotlib"), "report", "output", args.output or "report.html")


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 on success, 2 for what the caller can fix (input, options, the server's answer),
    1 for anything else. Set LOSS_ADVISOR_DEBUG=1 to see the traceback of an unexpected error."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        args.serve_argv = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        _check_options(args)
        return int(args.func(args) or 0)
    except AdvisorError as exc:
        _fail(_advisor_error(exc, getattr(args, "server", None)))
        return EXIT_USAGE
    except ModuleNotFoundError as exc:
        _fail(_missing_module(exc.name, args))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (head, less) went away: not worth a message, and Python must not print
        # one while flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as exc:  # e.g. the --plot path
        _fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))
        return EXIT_FAILURE
    except Exception as exc:
        if os.environ.get("LOSS_ADVISOR_DEBUG"):
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (LOSS_ADVISOR_DEBUG=1 shows where)")
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
