"""Suite 6: security.

With tokens configured, no call without a valid one reaches any handler (the advisor's RPCs,
the dataset RPCs, reflection, even methods that do not exist), which the server log confirms;
health stays open for orchestrators. A plaintext client cannot talk to a TLS server. Error texts
never carry an internal exception's message or a file path. Dataset ids are unguessable, and one
tenant cannot read, use or delete another tenant's datasets: to it they do not exist.
"""

from __future__ import annotations

import re
import shutil
import string
import subprocess

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

import advisor
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc
from tests.reliability.calls import good_evaluate, inline, known_good
from tests.reliability.conftest import TENANT_A, TENANT_B
from tests.reliability.harness import SERVICE, InProcessServer, ServerProcess, auth

WRONG = [
    (),
    auth("nope"),
    auth(TENANT_A + "x"),
    auth(TENANT_A[:-1]),
    (("authorization", f"bearer {TENANT_A}"),),
    (("authorization", TENANT_A),),
    (("authorization", f"Bearer  {TENANT_A}"),),
    (("authorization", "Bearer "),),
]


def _every_call(channel, metadata) -> list[grpc.StatusCode]:
    """One call of every RPC the server has (and one it does not), with ``metadata``."""
    stub = pb_grpc.LossAdvisorStub(channel)
    ref = inline(np.arange(4, dtype=np.float32))
    header = pb.UploadHeader(arrays=[pb.UploadHeader.Entry(name="x", dtype="float32", shape=[4])])
    calls = [
        lambda: stub.Profile(pb.ProfileRequest(targets=ref), metadata=metadata, timeout=10),
        lambda: stub.Recommend(pb.RecommendRequest(targets=ref), metadata=metadata, timeout=10),
        lambda: stub.Evaluate(good_evaluate(), metadata=metadata, timeout=10),
        lambda: list(
            stub.Validate(
                pb.ValidateRequest(features=ref, targets=ref), metadata=metadata, timeout=10
            )
        ),
        lambda: stub.ListLosses(pb.ListLossesRequest(), metadata=metadata, timeout=10),
        lambda: stub.Benchmark(pb.BenchmarkRequest(cases=["x"]), metadata=metadata, timeout=10),
        lambda: stub.UploadDataset(
            iter([pb.UploadChunk(header=header), pb.UploadChunk(data=bytes(16))]),
            metadata=metadata,
            timeout=10,
        ),
        lambda: stub.DeleteDataset(
            pb.DeleteDatasetRequest(dataset_id="x"), metadata=metadata, timeout=10
        ),
        lambda: list(
            reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                metadata=metadata,
                timeout=10,
            )
        ),
        lambda: channel.unary_unary(f"/{SERVICE}/NoSuchMethod")(b"", metadata=metadata, timeout=10),
    ]
    codes = []
    for call in calls:
        try:
            call()
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as err:
            codes.append(err.code())
    return codes


def test_no_call_reaches_a_handler_without_a_valid_token(server, channel, stub, meta, record):
    server.settle()
    lines_before = len(server.rpc_lines())
    stored_before = len(server.events("dataset stored"))
    for metadata in WRONG:
        codes = _every_call(channel, metadata)
        assert set(codes) == {grpc.StatusCode.UNAUTHENTICATED}, (metadata, codes)
    server.settle()
    denied = server.rpc_lines()[lines_before:]
    # Every line is the refusal itself: no handler ran, so none logged a status of its own.
    assert {line["status"] for line in denied} == {"UNAUTHENTICATED"}
    assert len(denied) == 10 * len(WRONG)
    assert len(server.events("dataset stored")) == stored_before
    with grpc.insecure_channel(server.target) as open_channel:
        health = health_pb2_grpc.HealthStub(open_channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=5
        )
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    for token in (TENANT_A, TENANT_B):
        known_good(stub, auth(token))
    record(suite="auth", denied_calls=len(denied), reached_handler=0)


def _upload(stub, metadata, values: np.ndarray) -> str:
    header = pb.UploadHeader(
        arrays=[pb.UploadHeader.Entry(name="targets", dtype="float32", shape=values.shape)]
    )
    chunks = [pb.UploadChunk(header=header), pb.UploadChunk(data=values.tobytes())]
    return stub.UploadDataset(iter(chunks), metadata=metadata, timeout=10).dataset_id


def _profile(stub, metadata, dataset_id: str) -> grpc.RpcError | None:
    ref = pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=dataset_id, name="targets"))
    try:
        stub.Profile(pb.ProfileRequest(targets=ref), metadata=metadata, timeout=10)
    except grpc.RpcError as err:
        return err
    return None


def test_one_tenant_cannot_touch_anothers_datasets(stub):
    a, b = auth(TENANT_A), auth(TENANT_B)
    mine = _upload(stub, a, np.arange(20, dtype=np.float32))
    theirs = _profile(stub, b, mine)
    nowhere = _profile(stub, b, "A" * len(mine))
    assert theirs is not None and theirs.code() == grpc.StatusCode.NOT_FOUND
    # Indistinguishable from an id that never existed: no hint that it belongs to someone.
    assert theirs.details() == nowhere.details()
    ref = pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=mine, name="targets"))
    with pytest.raises(grpc.RpcError) as evaluated:
        stub.Evaluate(pb.EvaluateRequest(predictions=[ref], targets=ref), metadata=b, timeout=10)
    assert evaluated.value.code() == grpc.StatusCode.NOT_FOUND
    deleted = stub.DeleteDataset(pb.DeleteDatasetRequest(dataset_id=mine), metadata=b)
    assert not deleted.deleted
    assert _profile(stub, a, mine) is None  # still there for its owner
    assert stub.DeleteDataset(pb.DeleteDatasetRequest(dataset_id=mine), metadata=a).deleted


def test_dataset_ids_are_unguessable(stub, meta):
    ids = [_upload(stub, meta, np.zeros(2, dtype=np.float32)) for _ in range(100)]
    for dataset_id in ids:
        stub.DeleteDataset(pb.DeleteDatasetRequest(dataset_id=dataset_id), metadata=meta)
    alphabet = set(string.ascii_letters + string.digits + "-_")
    assert len(set(ids)) == len(ids)
    assert all(len(i) >= 32 and set(i) <= alphabet for i in ids)  # >= 192 bits as base64
    # No structure to exploit: every position takes many values, none is a counter or a time.
    for position in range(32):
        assert len({i[position] for i in ids}) >= 30, position


SECRET = "secret detail at /srv/app/internal/thing.py line 12"
LEAKS = re.compile(r"secret|/srv/|\.py\b|Traceback|site-packages")


def test_error_texts_never_echo_internals(monkeypatch):
    server = InProcessServer()
    try:
        with grpc.insecure_channel(server.target) as channel:
            stub = pb_grpc.LossAdvisorStub(channel)

            def broken(*_args, **_kwargs):
                raise RuntimeError(SECRET)

            def wrapped(*_args, **_kwargs):
                try:
                    raise RuntimeError(SECRET)
                except RuntimeError as exc:
                    raise advisor.errors.InvalidInputError(
                        f"HuberLoss rejected the inputs: {exc}", field="inputs"
                    ) from exc

            texts = []
            for name, fake in (("profile", broken), ("evaluate", wrapped)):
                monkeypatch.setattr(advisor, name, fake)
            for call in (
                lambda: stub.Profile(pb.ProfileRequest(targets=inline(np.ones(3))), timeout=10),
                lambda: stub.Evaluate(good_evaluate(), timeout=10),
            ):
                with pytest.raises(grpc.RpcError) as caught:
                    call()
                texts.append(caught.value.details())
                texts += [str(v) for _, v in caught.value.trailing_metadata() or ()]
    finally:
        server.stop()
    assert texts and not any(LEAKS.search(t) for t in texts), texts


def _self_signed(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.skipif(
    shutil.which("openssl") is None,
    reason="no `cryptography` package and no openssl binary to make a test certificate",
)
def test_a_plaintext_client_cannot_talk_to_a_tls_server(tmp_path, record):
    cert, key = _self_signed(tmp_path)
    proc = ServerProcess(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        creds = grpc.ssl_channel_credentials(cert.read_bytes())
        options = [("grpc.ssl_target_name_override", "localhost")]
        with grpc.secure_channel(proc.target, creds, options=options) as secure:
            known_good(pb_grpc.LossAdvisorStub(secure), ())
        handled = len(proc.rpc_lines())
        with (
            grpc.insecure_channel(proc.target) as plain,
            pytest.raises(grpc.RpcError) as caught,
        ):
            pb_grpc.LossAdvisorStub(plain).ListLosses(pb.ListLossesRequest(), timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        untrusted = grpc.ssl_channel_credentials()  # the system roots, not our certificate
        with (
            grpc.secure_channel(proc.target, untrusted, options=options) as stranger,
            pytest.raises(grpc.RpcError),
        ):
            pb_grpc.LossAdvisorStub(stranger).ListLosses(pb.ListLossesRequest(), timeout=5)
        assert len(proc.rpc_lines()) == handled  # neither reached a handler
    finally:
        assert proc.stop() == 0
    record(suite="tls", plaintext_refused=True)
