"""The command line: tables for people, JSON for machines, one-line errors and no tracebacks."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import advisor
from advisor import losses
from client.cli import main


def test_losses_table_lists_the_whole_catalog(capsys):
    assert main(["losses"]) == 0
    out = capsys.readouterr().out
    for name in losses.names():
        assert name in out
    assert f"{len(losses.names())} losses" in out


def test_losses_json_is_machine_readable_and_filterable(capsys):
    assert main(["losses", "--json", "--task", "count"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = {r["name"] for r in rows}
    assert {"PoissonNLLLoss", "NegativeBinomialNLLLoss", "TweedieLoss"} <= names
    assert all("count" in r["tasks"] for r in rows)
    huber = json.loads(json.dumps(losses.get("HuberLoss").describe()))
    assert huber["params"][1]["name"] == "delta"


def test_errors_are_one_line_with_non_zero_exit(tmp_path):
    missing = tmp_path / "nope.csv"
    result = subprocess.run(
        [sys.executable, "-m", "client.cli", "recommend", str(missing), "--target", "y"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: path: no such file")


def test_unknown_target_column_names_the_columns(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    assert main(["recommend", str(data), "--target", "y"]) == 2
    err = capsys.readouterr().err
    assert "no column 'y'" in err and "a, b" in err


def test_demo_recommends_a_robust_loss_for_the_bundled_example(capsys):
    assert main(["demo", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["profile"]["task"]["task"] == "regression"
    assert rec["candidates"] and rec["candidates"][0]["rationale"]
    # the bundled data has gross delays: the top choice must be a robust loss, and MSE avoided
    assert rec["candidates"][0]["loss"] in {
        "L1Loss",
        "HuberLoss",
        "SmoothL1Loss",
        "AdaptiveRobustLoss",
    }
    assert "MSELoss" in {a["loss"] for a in rec["avoid"]}


def test_recommend_reads_a_csv_with_string_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["f1,f2,label"] + [
        f"{a:.3f},{b:.3f},{'spam' if rng.random() < 0.1 else 'ham'}"
        for a, b in rng.normal(size=(300, 2))
    ]
    path = tmp_path / "mail.csv"
    path.write_text("\n".join(rows) + "\n")
    assert main(["recommend", str(path), "--target", "label"]) == 0
    out = capsys.readouterr().out
    assert "Task: binary" in out
    assert "Recommended losses:" in out


def test_validate_ranks_candidates_and_writes_a_plot(tmp_path, capsys):
    plot = tmp_path / "v.png"
    args = [
        "validate",
        "advisor/data/delivery_times.csv",
        "--target",
        "minutes",
        "--loss",
        "MSELoss",
    ]
    args += ["--loss", "HuberLoss", "--folds", "3", "--epochs", "10", "--json", "--plot", str(plot)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metric"] == "mae" and len(report["ranking"]) == 2
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_several_target_columns_are_one_multi_output_target(tmp_path, capsys):
    from sklearn.datasets import load_linnerud

    bundle = load_linnerud(as_frame=True)
    path = tmp_path / "linnerud.csv"
    bundle.frame.to_csv(path, index=False)
    targets = ",".join(bundle.target.columns)
    assert main(["recommend", str(path), "--target", targets, "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec == json.loads(advisor.recommend(bundle.target, features=bundle.data).model_dump_json())
    assert main(["validate", str(path), "--target", targets, "--epochs", "5", "--folds", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "regression" and report["ranking"]
    assert main(["recommend", str(path), "--target", "Weight,Height"]) == 2
    assert "no column 'Height'" in capsys.readouterr().err


# ----- evaluate ----------------------------------------------------------------------------


@pytest.fixture
def regression_files(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.normal(size=400)
    p = y + rng.standard_t(2, 400) * 0.5
    np.save(tmp_path / "p.npy", p.astype(np.float32))
    np.save(tmp_path / "t.npy", y.astype(np.float32))
    np.save(tmp_path / "w.npy", np.ones(400, dtype=np.float32))
    return tmp_path


def test_evaluate_json_equals_the_library(regression_files, capsys):
    d = regression_files
    args = ["evaluate", "--predictions", str(d / "p.npy"), "--targets", str(d / "t.npy")]
    args += ["--loss", "HuberLoss:delta=0.5", "--loss", "QuantileLoss:quantiles=[0.1,0.9]"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    expected = advisor.evaluate(
        np.load(d / "p.npy"),
        np.load(d / "t.npy"),
        [
            {"loss": "HuberLoss", "params": {"delta": 0.5}},
            {"loss": "QuantileLoss", "params": {"quantiles": [0.1, 0.9]}},
        ],
    )
    assert report == json.loads(expected.model_dump_json())


def test_evaluate_table_shows_skips_lints_and_the_caveat(tmp_path, capsys):
    probs = np.full((50, 3), 1 / 3, dtype=np.float32)
    np.savez(tmp_path / "c.npz", probs=probs, y=np.arange(50) % 3)
    args = ["evaluate", "--predictions", f"{tmp_path / 'c.npz'}:probs"]
    args += ["--targets", f"{tmp_path / 'c.npz'}:y", "--loss", "CrossEntropyLoss"]
    args += ["--loss", "CrossEntropyLoss:label_smoothing=0.1", "--loss", "MSELoss"]
    assert main(args) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    for column in ("loss", "value", "skill", "p99", "grad", "top1%", "dead", "note"):
        assert column in header
    assert "CrossEntropyLoss()" in out and "CrossEntropyLoss(label_smoothing=0.1)" in out
    # MSELoss cannot compare (50, 3) probabilities with (50,) class indices: skipped, not fatal
    assert "MSELoss()" in out and "skipped:" in out
    assert "[probabilities-as-logits]" in out and "fix:" in out
    assert "not comparable" in out


def test_evaluate_reads_csv_columns_and_defaults_to_the_library(regression_files, capsys):
    d = regression_files
    p, y = np.load(d / "p.npy").astype(np.float64), np.load(d / "t.npy").astype(np.float64)
    lines = ["pred,y", *(f"{a!r},{b!r}" for a, b in zip(p.tolist(), y.tolist(), strict=True))]
    (d / "d.csv").write_text("\n".join(lines) + "\n")
    args = ["evaluate", "--predictions", f"{d / 'd.csv'}:pred", "--targets", f"{d / 'd.csv'}:y"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["results"]  # no --loss: the library's default candidates
    assert report == json.loads(advisor.evaluate(p, y).model_dump_json())


@pytest.mark.parametrize(("flag", "method", "sample"), [(["--quantile-sample", "100"], "sampled", 100), (["--quantile-sample", "0"], "exact", None), ([], "exact", None)])
def test_evaluate_quantile_sample_flag(regression_files, capsys, flag, method, sample):
    d = regression_files
    args = ["evaluate", "--predictions", str(d / "p.npy"), "--targets", str(d / "t.npy"), "--loss", "L1Loss", *flag]
    assert main([*args, "--json"]) == 0
    diag = json.loads(capsys.readouterr().out)["results"][0]["diagnostics"]
    assert (diag["quantile_method"], diag["quantile_sample"]) == (method, sample)
    expected = advisor.evaluate(np.load(d / "p.npy"), np.load(d / "t.npy"), ["L1Loss"], quantile_sample=sample or None)
    assert diag == json.loads(expected.results[0].diagnostics.model_dump_json())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--targets", "t.npy", "--quantile-sample", "-2"], "error: quantile_sample: must be a positive"),
        (["--targets", "MISSING.npy"], "error: targets: no such file"),
        (["--targets", "t.npy", "--loss", "HuberLoss:delta"], "error: loss[0]: 'delta' is not"),
        (["--targets", "t.npy", "--loss", "HuberLos"], "error: candidates[0]"),
        (["--targets", "short.npy"], "error: targets: shape"),
        (["--targets", "garbage.npy"], "error: targets: cannot read"),
        (["--targets", "t.npy", "--sample-weight", "both.npz"], "error: sample_weight: both.npz"),
        (
            ["--targets", "t.npy", "--server", "127.0.0.1:1", "--tls-ca", "MISSING.pem"],
            "error: tls_ca: cannot read",
        ),
    ],
)
def test_evaluate_errors_are_one_line(regression_files, extra, message):
    d = regression_files
    np.save(d / "short.npy", np.zeros(3, dtype=np.float32))
    (d / "garbage.npy").write_bytes(b"not an array")
    np.savez(d / "both.npz", a=np.ones(400), b=np.ones(400))
    extra = [str(d / e) if e.endswith((".npy", ".npz", ".pem")) else e for e in extra]
    result = subprocess.run(
        [sys.executable, "-m", "client.cli", "evaluate", "--predictions", str(d / "p.npy"), *extra],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith(message), result.stderr


# ----- bench and serve ---------------------------------------------------------------------


def test_bench_quick_json(capsys):
    throughput = pytest.importorskip("advisor.benchmarking.throughput")
    case = next(iter(throughput.QUICK_CASES)) if hasattr(throughput, "QUICK_CASES") else None
    args = ["bench", "--quick", "--no-diagnostics", "--json"]
    if case:
        args += ["--case", case]
    assert main(args) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["device"] and reply["rows"]
    for row in reply["rows"]:
        assert row["diagnostics"] is False
        assert row["speedup"] == pytest.approx(row["loop_s"] / row["fused_s"])


def test_bench_names_its_cases_in_help_and_in_the_error(capsys):
    from advisor.schema.benchmark import CASES

    with pytest.raises(SystemExit) as info:
        main(["bench", "--case", "no-such-case"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'no-such-case'" in err and all(name in err for name in CASES)
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(name in text for name in CASES)


def test_bench_anchors_prints_the_runners_rows(monkeypatch, capsys):
    anchors = pytest.importorskip("advisor.benchmarking.anchors")
    from advisor.schema.benchmark import AnchorRow, format_anchors

    rows = [AnchorRow(mode="diagnostics", layout="random_outliers", n_rows=2_000, device="cpu",
                      seconds={"advisor": 0.01, "autograd_loop": 0.02})]
    seen = []
    monkeypatch.setattr(anchors, "run", lambda sizes, device: seen.append(sizes) or rows)
    assert main(["bench", "--anchors", "--anchor-rows", "2000"]) == 0
    assert seen == [(2_000,)] and capsys.readouterr().out == format_anchors(rows) + "\n"


def test_bench_long_lived_prints_the_runners_report(monkeypatch, capsys):
    longlived = pytest.importorskip("advisor.benchmarking.longlived")
    from advisor.schema.benchmark import LongLivedReport, LongLivedRow

    report = LongLivedReport(
        device="cpu", requests=12, requests_s=1.5, counters={"compiles": 2, "evictions": 1},
        structures_kept=2, rss_before_bytes=2**28, rss_after_bytes=2**28 + 2**20,
        rows=[LongLivedRow(case="regression-1e6", diagnostics=True, fresh_s=0.04, fresh_path="fused-compiled",
                           after_s=0.05, after_path="fused-eager")],
    )  # fmt: skip
    seen = []
    monkeypatch.setattr(longlived, "run", lambda requests, device: seen.append(requests) or report)
    assert main(["bench", "--long-lived", "12"]) == 0
    out = capsys.readouterr().out
    assert seen == [12] and out == report.format() + "\n"
    assert "after/fresh 1.25 (paths fused-compiled -> fused-eager)" in out and "(+1.0)" in out
    assert main(["bench", "--long-lived", "0"]) == 2
    assert "long_lived: must be at least 1" in capsys.readouterr().err


def _bench_rows():
    from advisor.schema.benchmark import BenchRow

    row = BenchRow(
        case="regression-1e5",
        family="regression",
        n_rows=100_000,
        k=6,
        diagnostics=False,
        device="cpu",
        dtype="float32",
        repeats=3,
        path="fused-compiled",
        fused_s=0.004,
        loop_s=0.012,
        speedup=3.0,
        single_loss="HuberLoss",
        single_s=0.002,
        fused_over_single=2.0,
        bytes_read=800_000,
        read_bound_s=0.0005,
        gb_per_s=0.2,
        compile_s=1.5,
        peak_extra_bytes=2**21,
        peak_method="tracemalloc",
    )
    unmeasured = {"compile_s": None, "peak_extra_bytes": None, "peak_method": None}
    return [row, row.model_copy(update={"diagnostics": True, **unmeasured})]


def test_bench_prints_the_runners_table(monkeypatch, capsys):
    throughput = pytest.importorskip("advisor.benchmarking.throughput")
    calls = []

    def fake_run(cases=None, **kwargs):
        calls.append((cases, kwargs))
        return _bench_rows()

    monkeypatch.setattr(throughput, "run", fake_run)
    assert main(["bench", "--quick", "--no-diagnostics"]) == 0
    assert capsys.readouterr().out == throughput.format_table(_bench_rows()) + "\n"
    ((cases, kwargs),) = calls
    assert cases is None and kwargs["quick"] is True and kwargs["diagnostics"] is False


def test_serve_help_lists_the_server_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--port", "--token-file", "--tls-cert", "--max-message-mb", "--device"):
        assert option in out


def test_serve_starts_the_service_and_stops_on_sigterm(tmp_path):
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "client.cli", "serve", "--port", "0", "--warmup", "import"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while '"listening"' not in log.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.05)
            assert '"listening"' in log.read_text(), log.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
    assert code == 0, log.read_text()


# ----- remote: the same answers through a real server ---------------------------------------


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    from tests.service.conftest import ServerProcess

    tmp = tmp_path_factory.mktemp("cli-server")
    token = tmp / "token"
    token.write_text("cli-secret-token\n")
    proc = ServerProcess(tmp, "--token-file", str(token))
    yield ["--server", proc.target, "--token-file", str(token)]
    assert proc.stop() == 0


def test_remote_recommend_and_evaluate_equal_in_process(remote, regression_files, capsys):
    args = ["recommend", "advisor/data/delivery_times.csv", "--target", "minutes", "--json"]
    assert main(args) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*args, *remote]) == 0
    assert json.loads(capsys.readouterr().out) == local

    d = regression_files
    args = ["evaluate", "--predictions", str(d / "p.npy"), "--targets", str(d / "t.npy")]
    args += ["--loss", "HuberLoss:delta=0.5", "--sample-weight", str(d / "w.npy"), "--json"]
    assert main(args) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*args, *remote]) == 0
    assert json.loads(capsys.readouterr().out) == local


def test_remote_bench_runs_the_named_case_on_the_server(remote, capsys):
    pytest.importorskip("advisor.benchmarking.throughput")
    args = ["bench", "--case", "regression-1e5", "--no-diagnostics", "--json"]
    assert main([*args, *remote]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["device"]
    (row,) = reply["rows"]
    assert row["case"] == "regression-1e5" and row["diagnostics"] is False
    assert row["speedup"] == pytest.approx(row["loop_s"] / row["fused_s"])
    assert main(["bench", "--quick", *remote]) == 2
    assert "error: quick:" in capsys.readouterr().err


def test_remote_errors_are_one_line(remote, regression_files, tmp_path):
    d = regression_files
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-token")
    base = [sys.executable, "-m", "client.cli", "evaluate", "--predictions", str(d / "p.npy")]
    base += ["--targets", str(d / "t.npy")]
    cases = [
        (["--loss", "HuberLoss:delta=-1", *remote], "error: "),
        (["--server", remote[1], "--token-file", str(wrong)], "error: "),
        (["--server", "127.0.0.1:1", "--timeout", "2"], "error: "),
    ]
    for extra, prefix in cases:
        result = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=120)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith(prefix) and result.stderr.strip().count("\n") == 0


def test_remote_commands_import_neither_torch_nor_sklearn(remote, regression_files):
    d = regression_files
    evaluate = ["evaluate", "--predictions", str(d / "p.npy"), "--targets", str(d / "t.npy")]
    code = (
        "import sys\n"
        "from client.cli import main\n"
        f"remote = {remote!r}\n"
        "assert main(['losses', '--json', *remote]) == 0\n"
        "assert main(['recommend', 'advisor/data/delivery_times.csv', '--target', 'minutes',"
        " *remote]) == 0\n"
        f"assert main([*{evaluate!r}, '--loss', 'HuberLoss:delta=0.5', *remote]) == 0\n"
        "assert main(['report', 'advisor/data/delivery_times.csv', '--target', 'minutes',"
        " '--top-k', '2', '--json', *remote]) == 0\n"
        "heavy = [m for m in ('torch', 'sklearn', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "not comparable" in result.stdout  # the remote report prints the same table


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (RuntimeError("boom"), 1, "error: unexpected RuntimeError: boom"),
        (ModuleNotFoundError("no matplotlib", name="matplotlib"), 2, "loss-advisor[plot]"),
        (ModuleNotFoundError("no torch", name="torch"), 2, "or run it on a server with --server"),
    ],
)
def test_unexpected_failures_are_one_line_too(monkeypatch, capsys, exc, code, text):
    from client.local import LocalAdvisor

    def fail(self, task=None):
        raise exc

    monkeypatch.setattr(LocalAdvisor, "list_losses", fail)
    monkeypatch.delenv("LOSS_ADVISOR_DEBUG", raising=False)
    assert main(["losses"]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and text in err


def test_loss_options_parse_json_values_and_text():
    from client.loss_options import parse_losses

    assert parse_losses(None) is None
    parsed = parse_losses(
        ["CrossEntropyLoss:weight=[1,2.5],reduction=sum,label_smoothing=0.1", "L1Loss"]
    )
    assert parsed == [
        {
            "loss": "CrossEntropyLoss",
            "params": {"weight": [1, 2.5], "reduction": "sum", "label_smoothing": 0.1},
        },
        {"loss": "L1Loss", "params": {}},
    ]


def test_evaluate_streams_a_parquet_file_larger_than_its_batch(tmp_path, capsys):
    """More rows than --batch-rows: read a batch at a time, with the whole-array values."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = np.random.default_rng(3)
    y = rng.normal(size=5000)
    p = y + rng.standard_t(3, 5000)
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"pred": p, "y": y}), path, row_group_size=700)
    args = ["evaluate", "--predictions", f"{path}:pred", "--targets", f"{path}:y", "--loss", "MSELoss", "--loss", "L1Loss"]
    assert main([*args, "--batch-rows", "1000", "--json"]) == 0
    streamed = json.loads(capsys.readouterr().out)
    whole = advisor.evaluate(p, y, ["MSELoss", "L1Loss"])
    assert streamed["n_samples"] == 5000
    for got, want in zip(streamed["results"], whole.results, strict=True):
        assert got["value"] == pytest.approx(want.value, rel=1e-12)
        assert got["diagnostics"]["loss_quantiles"]["max"] == want.diagnostics.loss_quantiles.max
    assert main([*args, "--batch-rows", "0"]) == 2
    assert "batch_rows" in capsys.readouterr().err


def test_version_and_an_evaluation_that_computes_nothing_exits_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("loss-advisor ")
    np.save(tmp_path / "p.npy", np.zeros((20, 3), dtype=np.float32))
    np.save(tmp_path / "t.npy", np.zeros(20, dtype=np.float32))
    # MSELoss cannot compare (20, 3) scores with 20 targets: every candidate skipped
    args = ["evaluate", "--predictions", str(tmp_path / "p.npy"), "--targets", str(tmp_path / "t.npy"), "--loss", "MSELoss"]
    assert main(args) == 1
    assert "skipped" in capsys.readouterr().out


def test_validate_reads_text_labels_with_empty_cells_as_missing(tmp_path, capsys):
    """Empty label cells were a class of their own, whose missing class weight crashed
    the probes; they are missing rows now, left out and counted."""
    rng = np.random.default_rng(4)
    n = 240
    x = rng.normal(size=(n, 2))
    labels = np.array(["low", "mid", "high"])[np.digitize(x[:, 0], [-0.5, 0.5])].astype(object)
    labels[::9] = ""
    region = rng.choice(["n", "s"], n)
    path = tmp_path / "d.csv"
    rows = zip(labels, x, region, strict=True)
    lines = ["income,x0,x1,region"] + [f"{lab},{a:.4f},{b:.4f},{r}" for lab, (a, b), r in rows]
    path.write_text("\n".join(lines) + "\n")
    assert main(["validate", str(path), "--target", "income", "--folds", "3", "--epochs", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "multiclass" and report["n_excluded"] == 27
    assert {c["name"]: c["action"] for c in report["preparation"]["columns"]}["region"] == "encoded"


@pytest.mark.parametrize(
    ("option", "field"),
    [(["--task", "regresion"], "task"), (["--goal", "nope"], "goal"), (["--top-k", "0"], "top_k")],
)
def test_bad_options_fail_before_the_compute_stack_is_imported(option, field):
    code = (
        "import sys; from client.cli import main; "
        f"rc = main(['recommend', 'advisor/data/delivery_times.csv', '--target', 'minutes', *{option!r}]); "
        "print(rc, 'torch' in sys.modules, 'sklearn' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["2", "False", "False"], result.stderr
    assert result.stderr.startswith(f"error: {field}: ")


def test_a_plot_without_matplotlib_fails_before_training(monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a)
    )
    rc = main(["validate", "advisor/data/delivery_times.csv", "--target", "minutes", "--plot", str(tmp_path / "p.png")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error: plot: this needs matplotlib") and "-e '.[plot]'" in err
    assert "epoch" not in err  # no progress bar: nothing was trained
