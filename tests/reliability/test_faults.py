"""Suite 5: faults.

A client killed mid-upload leaves the server serving and no partial dataset (nor any of the
store's budget) behind. SIGTERM with calls in flight lets them finish, refuses new ones with
UNAVAILABLE and exits 0. Running out of memory inside an evaluation (an allocation failure
patched into the domain, on an in-process server) is RESOURCE_EXHAUSTED and the next request
succeeds. A corrupted dataset id is NOT_FOUND.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import grpc
import numpy as np
import pytest
import torch

import advisor
from advisor import errors
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc
from tests.reliability.calls import good_evaluate, inline, known_good
from tests.reliability.conftest import LONG, STORE_MB, TENANT_A
from tests.reliability.harness import ROOT, InProcessServer, ServerProcess

DYING_UPLOADER = """
import sys, time
import grpc
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb, advisor_pb2_grpc as pb_grpc

def chunks():
    header = pb.UploadHeader(arrays=[pb.UploadHeader.Entry(name="x", dtype="float64",
                                                           shape=[int(sys.argv[3])])])
    yield pb.UploadChunk(header=header)
    for _ in range(4):
        yield pb.UploadChunk(data=bytes(65536))
    print("sent", flush=True)
    time.sleep(600)  # killed here, halfway through

with grpc.insecure_channel(sys.argv[1]) as channel:
    pb_grpc.LossAdvisorStub(channel).UploadDataset(
        chunks(), metadata=(("authorization", "Bearer " + sys.argv[2]),))
"""


def _near_budget_upload(stub, meta) -> str:
    """An upload of nearly the whole store: only fits if nothing else holds the budget."""
    n = (STORE_MB * 2**20) // 8 - 1024
    header = pb.UploadHeader(arrays=[pb.UploadHeader.Entry(name="x", dtype="float64", shape=[n])])
    data = np.zeros(n).tobytes()
    chunks = [pb.UploadChunk(header=header)] + [
        pb.UploadChunk(data=data[i : i + (1 << 20)]) for i in range(0, len(data), 1 << 20)
    ]
    return stub.UploadDataset(iter(chunks), metadata=meta, timeout=30).dataset_id


def test_a_client_dying_mid_upload_leaves_nothing_behind(server, stub, meta, record):
    server.settle()
    stored_before = len(server.events("dataset stored"))
    uploads_before = len(server.rpc_lines("UploadDataset"))
    shape = (STORE_MB * 2**20) // 8 - 1024  # reserves nearly the whole store
    rounds = 20 if LONG else 3
    for _ in range(rounds):
        proc = subprocess.Popen(
            [sys.executable, "-c", DYING_UPLOADER, server.target, TENANT_A, str(shape)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout.readline().strip() == "sent"
        finally:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 10
    while len(server.rpc_lines("UploadDataset")) < uploads_before + rounds:
        assert time.monotonic() < deadline, "the server never noticed the clients died"
        time.sleep(0.05)
    ended = {line["status"] for line in server.rpc_lines("UploadDataset")[uploads_before:]}
    # grpc may report a dropped connection as the end of the stream before it reports the
    # cancellation; then the upload is short of its declared bytes and refused as such.
    assert ended <= {"CANCELLED", "INVALID_ARGUMENT"}, ended
    assert len(server.events("dataset stored")) == stored_before  # no partial dataset
    known_good(stub, meta)
    # Each dead upload had reserved nearly the whole budget; all of it must be back.
    dataset_id = _near_budget_upload(stub, meta)
    stub.DeleteDataset(pb.DeleteDatasetRequest(dataset_id=dataset_id), metadata=meta)
    record(suite="faults", fault="client killed mid-upload", injected=rounds, survived=True)


def test_a_corrupt_dataset_id_is_not_found(stub, meta, record):
    values = np.arange(10, dtype=np.float32)
    chunks = [
        pb.UploadChunk(
            header=pb.UploadHeader(
                arrays=[pb.UploadHeader.Entry(name="targets", dtype="float32", shape=[10])]
            )
        ),
        pb.UploadChunk(data=values.tobytes()),
    ]
    real = stub.UploadDataset(iter(chunks), metadata=meta, timeout=10).dataset_id
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")
    corrupt = [flipped, real[:-1], real + "x", real.upper(), "", "\u202e" + real, real[::-1]]
    for dataset_id in corrupt:
        ref = pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=dataset_id, name="targets"))
        with pytest.raises(grpc.RpcError) as caught:
            stub.Profile(pb.ProfileRequest(targets=ref), metadata=meta, timeout=10)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert real not in caught.value.details()  # never echo an id back
    ref = pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=real, name="targets"))
    assert stub.Profile(pb.ProfileRequest(targets=ref), metadata=meta, timeout=10).task
    record(suite="faults", fault="corrupt dataset id", injected=len(corrupt), survived=True)


def test_sigterm_lets_calls_in_flight_finish_and_refuses_new_ones(tmp_path, record):
    proc = ServerProcess(tmp_path, "--grace-s", "30", "--max-concurrency", "2")
    x = np.random.default_rng(1).standard_normal((200, 3)).astype(np.float32)
    request = pb.ValidateRequest(
        features=inline(x), targets=inline(x.sum(axis=1)), task="regression", folds=2, epochs=80
    )
    results: list[str] = []
    started = [threading.Event(), threading.Event()]

    def in_flight(i: int) -> None:
        with grpc.insecure_channel(proc.target) as channel:
            stub = pb_grpc.LossAdvisorStub(channel)
            try:
                for event in stub.Validate(request, timeout=120):
                    started[i].set()
                    if event.WhichOneof("event") == "report_json":
                        results.append("report")
            except grpc.RpcError as err:
                results.append(err.code().name)

    workers = [threading.Thread(target=in_flight, args=(i,)) for i in range(2)]
    try:
        for w in workers:
            w.start()
        assert all(e.wait(60) for e in started)
        proc.proc.send_signal(signal.SIGTERM)
        proc._wait_for(lambda line: line.get("event") == "refusing new calls", 10)
        refused = _new_call_after_drain(proc.target)
        for w in workers:
            w.join(120)
        code = proc.proc.wait(60)
    finally:
        proc.stop()
    assert results == ["report", "report"], results
    assert refused == "UNAVAILABLE"
    assert code == 0, proc.tail()
    record(suite="faults", fault="SIGTERM with 2 calls in flight", injected=1, survived=True)


def _new_call_after_drain(target: str) -> str:
    with grpc.insecure_channel(target) as channel:
        try:
            pb_grpc.LossAdvisorStub(channel).ListLosses(pb.ListLossesRequest(), timeout=5)
        except grpc.RpcError as err:
            return err.code().name
    return "OK"


@pytest.fixture(scope="module")
def in_process():
    server = InProcessServer("--max-concurrency", "2")
    yield server
    server.stop()


@pytest.mark.parametrize(
    "failure",
    [
        lambda: torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB"),
        lambda: MemoryError(),
        # As the loss catalog reports it: a RuntimeError from a loss becomes a bad input.
        lambda: _wrapped(torch.OutOfMemoryError("out of memory at /opt/secret/alloc.cpp:42")),
    ],
    ids=["torch", "python", "wrapped"],
)
def test_out_of_memory_is_resource_exhausted_and_the_next_call_works(
    in_process, monkeypatch, failure, record
):
    real = advisor.evaluate
    calls = {"n": 0}

    def fails_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise failure()
        return real(*args, **kwargs)

    monkeypatch.setattr(advisor, "evaluate", fails_once)
    with grpc.insecure_channel(in_process.target) as channel:
        stub = pb_grpc.LossAdvisorStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Evaluate(good_evaluate(), timeout=30)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        text = caught.value.details()
        assert "GiB" not in text and "/opt" not in text and "alloc" not in text, text
        known_good(stub, ())
    assert in_process.built.servicer.limiter.active == 0
    record(suite="faults", fault="out of memory in evaluate", injected=1, survived=True)


def _wrapped(cause: BaseException) -> errors.InvalidInputError:
    try:
        raise cause
    except BaseException as exc:
        try:
            raise errors.InvalidInputError(
                f"HuberLoss rejected the inputs: {exc}", field="inputs"
            ) from exc
        except errors.InvalidInputError as wrapped:
            return wrapped
