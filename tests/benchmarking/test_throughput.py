"""The benchmark runner: its rows are consistent with themselves and with the case they name.

Timings are not checked against thresholds (a shared machine makes any threshold flaky); the
fields must be measured (positive), derived ones must be what they claim to be.
"""

from __future__ import annotations

import os

import pytest

from advisor.benchmarking import probes, throughput
from advisor.errors import InvalidInputError


def _smallest_quick_case() -> str:
    return min(throughput.QUICK_CASES, key=lambda name: throughput.CASES[name].n_rows * (throughput.CASES[name].n_classes or 1))


@pytest.fixture(scope="module")
def rows():
    return throughput.run([_smallest_quick_case()], diagnostics=False, quick=True, repeats=1)


def test_row_fields_are_consistent(rows):
    name = _smallest_quick_case()
    case = throughput.CASES[name]
    (row,) = rows
    assert row.case == name and row.family == case.family and row.n_rows == case.n_rows
    assert row.k == len(case.candidates)
    assert row.diagnostics is False
    for field in ("fused_s", "loop_s", "single_s", "read_bound_s", "gb_per_s"):
        assert getattr(row, field) > 0, field
    assert row.speedup == pytest.approx(row.loop_s / row.fused_s)
    assert row.fused_over_single == pytest.approx(row.fused_s / row.single_s)
    assert row.gb_per_s == pytest.approx(row.bytes_read / row.fused_s / 1e9)
    assert row.compile_s is None  # quick: nothing compiled
    assert row.peak_extra_bytes is None or row.peak_extra_bytes >= 0
    assert row.compile_cold_s is None and row.compile_warm_s is None  # quick: no fresh-process probe
    assert row.path == "fused-eager"
    assert row.fallbacks == 0


def test_format_table_names_the_case(rows):
    text = throughput.format_table(rows)
    assert rows[0].case in text
    assert "fused/single" in text.splitlines()[0]
    assert "fell back" not in text
    fell = throughput.format_table([rows[0].model_copy(update={"fallbacks": 2})])
    assert "fell back to eager" in fell and ": 2" in fell


def test_quick_runs_the_quick_cases_and_standard_the_required_ones():
    assert set(throughput.QUICK_CASES) <= set(throughput.CASES)
    for name in ("regression-1e6", "regression-1e7", "multiclass-5e5-c32", "multiclass-5e5-c1000"):
        assert name in throughput.CASES
    assert all(throughput.CASES[name].k >= 7 for name in throughput.CASES)


def test_unknown_case_names_its_position():
    with pytest.raises(InvalidInputError) as info:
        throughput.run(["no-such-case"], repeats=1)
    assert info.value.field == "cases[0]"


def test_repeats_must_be_positive():
    with pytest.raises(InvalidInputError) as info:
        throughput.run([_smallest_quick_case()], repeats=0)
    assert info.value.field == "repeats"


def test_cancel_stops_between_timed_calls():
    """Set after a few timed calls, the run stops at the next check and returns the rows it finished."""
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3

    done = throughput.run(list(throughput.QUICK_CASES), diagnostics=None, quick=True, repeats=5, cancel=cancel)
    assert done == [] and len(calls) == 4  # the fourth check stopped it, inside the first row


def test_the_benchmark_rpc_runs_the_quick_set_unless_cases_are_named(monkeypatch):
    from server import bench as rpc_bench

    seen = []

    def fake(cases, **kw):
        seen.append((cases, kw["quick"], kw["cancel"]))
        return []

    monkeypatch.setattr(throughput, "run", fake)
    token = object()
    rpc_bench.run([], False, "cpu", token)
    rpc_bench.run(["regression-1e6"], True, "cpu", token)
    assert seen == [(None, True, token), (["regression-1e6"], False, token)]


def test_the_hand_fused_anchor_computes_the_engines_means():
    """The anchor is timed against advisor.evaluate only because it computes the same eight means."""
    import torch

    import advisor
    from advisor.benchmarking import anchors
    from advisor.benchmarking.cases import layout
    from advisor.schema.benchmark import REGRESSION

    x, y = layout(5_000, "random_outliers")
    ours = [r.value for r in advisor.evaluate(x, y, list(REGRESSION), diagnostics=False).results]
    theirs = anchors.hand_fused(x, y, torch.tensor(anchors.HAND_PARAMS)).tolist()
    assert ours == pytest.approx(theirs, rel=1e-5)


def test_anchor_rows_print_the_ratios_of_their_times():
    from advisor.schema.benchmark import AnchorRow, format_anchors

    values = AnchorRow(mode="values", layout="random_outliers", n_rows=1_000_000, device="cpu",
                       seconds={"advisor": 0.02, "hand": 0.016, "functional": 0.25, "read": 0.001})
    diag = AnchorRow(mode="diagnostics", layout="random_outliers", n_rows=1_000_000, device="cpu",
                     seconds={"advisor": 0.03, "autograd_loop": 0.045})
    spread = [AnchorRow(mode="layout", layout=name, n_rows=1_000_000, device="cpu", seconds={"advisor": t})
              for name, t in (("sorted_targets", 0.03), ("float16", 0.036))]
    text = format_anchors([values, diag, *spread])
    assert "values N=1e6" in text and "advisor/hand 1.25" in text and "F loop/advisor 12.5" in text
    assert "advisor/read 20" in text and "loop/advisor 1.5" in text and "spread 1.2" in text
    assert values.ratio("advisor", "autograd_loop") is None


def test_anchors_stop_when_cancelled_before_any_work():
    from advisor.benchmarking import anchors

    assert anchors.run((1_000,), repeats=1, cancel=lambda: True) == []


def test_a_row_in_its_own_process_returns_the_row():
    """The protocol of the full rows' child interpreter, on a quick row (a full one compiles
    for minutes): the row comes back whole, timed in that process."""
    import torch

    name = _smallest_quick_case()
    row = throughput._row_in_child(name, False, torch.device("cpu"), 1, None, full=False)
    assert row.case == name and row.n_rows == throughput.CASES[name].n_rows
    assert row.fused_s > 0 and row.loop_s > 0 and row.path == "fused-eager"


def test_a_full_benchmark_stops_within_a_second_and_leaves_no_process(monkeypatch):
    """A full row compiles for minutes in a child interpreter; setting the stop signal kills
    that process's whole session (its probe included) at once, and the rows finished so far
    (none) come back."""
    import subprocess
    import threading
    import time

    started: list[subprocess.Popen] = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(probes.subprocess, "Popen", Recorded)  # the row's process starts there
    stop = threading.Event()
    result: dict = {}

    def bench() -> None:
        result["rows"] = throughput.run(["regression-1e6"], diagnostics=False, repeats=1, cancel=stop)
        result["done"] = time.perf_counter()

    thread = threading.Thread(target=bench)
    thread.start()
    time.sleep(4)  # the row's process imports torch, or compiles
    assert len(started) == 1 and started[0].poll() is None
    stop.set()
    stopped = time.perf_counter()
    thread.join(10)
    assert not thread.is_alive()
    assert result["rows"] == [] and result["done"] - stopped < 1.0
    assert started[0].poll() is not None
    with pytest.raises(ProcessLookupError):  # nothing is left in the row's session
        os.killpg(started[0].pid, 0)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads process states from /proc")
def test_a_benchmark_process_whose_parent_is_killed_exits():
    """A parent killed outright cannot kill its row's process; the row's process notices it
    is orphaned (``probes.exit_with_parent``) and exits instead of compiling for nobody."""
    import signal
    import subprocess
    import sys
    import time

    child_code = (
        "from advisor.benchmarking.probes import exit_with_parent; exit_with_parent(0.1); "
        "import time; time.sleep(120)"
    )
    parent_code = (
        "import subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', {child_code!r}], start_new_session=True); "
        "print(p.pid, flush=True); time.sleep(120)"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    time.sleep(4)  # the child imports torch and starts watching
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ")[1].startswith("Z"):
                    break  # exited; its new parent has not reaped it yet
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the orphaned benchmark process kept running")
