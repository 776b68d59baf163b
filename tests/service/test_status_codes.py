"""Each failure reaches the caller as the right status, field path and exception type."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from advisor import errors
from client import AdvisorClient
from client.errors import AuthenticationError
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc
from tests.service.conftest import TOKEN

AUTH = (("authorization", f"Bearer {TOKEN}"),)


@pytest.fixture
def stub(server):
    with grpc.insecure_channel(server.target) as channel:
        yield pb_grpc.LossAdvisorStub(channel)


def violations(err: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(err)
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return fields


def profile_with(array: pb.Array) -> pb.ProfileRequest:
    return pb.ProfileRequest(targets=pb.ArrayRef(inline=array))


@pytest.mark.parametrize(
    ("array", "field"),
    [
        (pb.Array(dtype="float32", shape=[10], data=b"\0" * 8), "targets.inline.data"),
        (pb.Array(dtype="complex64", shape=[1], data=b"\0" * 8), "targets.inline.dtype"),
        (pb.Array(dtype="float32", shape=[-1], data=b""), "targets.inline.shape"),
        (pb.Array(dtype="str", shape=[3], strings=["a"]), "targets.inline.strings"),
    ],
)
def test_bad_array_is_invalid_argument_with_the_field_path(stub, array, field):
    with pytest.raises(grpc.RpcError) as caught:
        stub.Profile(profile_with(array), metadata=AUTH, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(caught.value) == [field]


def test_client_reraises_the_library_type_with_its_field(server, stub):
    with AdvisorClient(server.target, token=TOKEN) as client:
        with pytest.raises(errors.UnknownLossError) as caught:
            client.evaluate([0.0, 1.0], [0.0, 0.0], ["HuberLos"])
        assert caught.value.field.startswith("candidates")
        assert "HuberLoss" in caught.value.suggestions
        with pytest.raises(errors.ParameterError) as param:
            client.evaluate(
                [0.0, 1.0], [0.0, 0.0], [{"loss": "HuberLoss", "params": {"delta": -1}}]
            )
        assert param.value.field == "candidates[0].params.delta"
        with pytest.raises(errors.EmptyInputError):
            client.profile(np.array([], dtype=np.float32))
    with pytest.raises(grpc.RpcError) as raw:
        stub.Evaluate(
            pb.EvaluateRequest(
                predictions=[
                    pb.ArrayRef(inline=pb.Array(dtype="float32", shape=[1], data=b"\0" * 4))
                ],
                targets=pb.ArrayRef(inline=pb.Array(dtype="float32", shape=[1], data=b"\0" * 4)),
                candidates=[pb.Candidate(loss="NoSuchLoss")],
            ),
            metadata=AUTH,
            timeout=10,
        )
    assert raw.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(raw.value) and violations(raw.value)[0].startswith("candidates")


def test_unknown_dataset_is_not_found(server, stub):
    request = pb.ProfileRequest(
        targets=pb.ArrayRef(dataset=pb.DatasetArray(dataset_id="no-such-id", name="targets"))
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.Profile(request, metadata=AUTH, timeout=10)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with AdvisorClient(server.target, token=TOKEN) as client:
        dataset = client.upload(targets=[1.0, 2.0, 3.0])
        assert client.delete(dataset)
        with pytest.raises(errors.DatasetNotFoundError) as gone:
            client.profile(dataset["targets"])
        assert gone.value.field == "targets.dataset.dataset_id"


def test_oversized_message_is_resource_exhausted_and_the_server_keeps_serving(server):
    huge = np.zeros(3_000_000, dtype=np.float32)  # 12 MB inline, over the 8 MiB cap
    with AdvisorClient(server.target, token=TOKEN, stream_threshold=1 << 40) as client:
        with pytest.raises(errors.CapacityError) as caught:
            client.profile(huge)
        assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert client.list_losses()


def test_claims_are_refused_before_memory_is_sized_from_them(server, stub):
    header = pb.UploadHeader(
        arrays=[pb.UploadHeader.Entry(name="x", dtype="float64", shape=[10**6, 10**6])]
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.UploadDataset(iter([pb.UploadChunk(header=header)]), metadata=AUTH, timeout=10)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    over_budget = pb.UploadHeader(
        arrays=[pb.UploadHeader.Entry(name="x", dtype="float64", shape=[30_000_000])]
    )
    with pytest.raises(grpc.RpcError) as budget:
        stub.UploadDataset(iter([pb.UploadChunk(header=over_budget)]), metadata=AUTH, timeout=10)
    assert budget.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    inline = pb.Array(dtype="uint8", shape=[10**5, 10**5], data=b"")
    with pytest.raises(grpc.RpcError) as elements:
        stub.Profile(profile_with(inline), metadata=AUTH, timeout=10)
    assert elements.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_upload_with_too_few_bytes_is_invalid(stub):
    header = pb.UploadHeader(arrays=[pb.UploadHeader.Entry(name="x", dtype="float32", shape=[4])])
    chunks = [pb.UploadChunk(header=header), pb.UploadChunk(data=b"\0" * 12)]
    with pytest.raises(grpc.RpcError) as caught:
        stub.UploadDataset(iter(chunks), metadata=AUTH, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_missing_or_wrong_token_is_unauthenticated(server, stub, token):
    with AdvisorClient(server.target, token=token) as client:
        for call in (
            client.list_losses,
            lambda: client.upload(x=[1.0]),
            lambda: client.delete("anything"),
            lambda: client.profile([1.0, 2.0]),
            lambda: client.validate([[1.0]], [1.0]),
        ):
            with pytest.raises(AuthenticationError):
                call()
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with grpc.insecure_channel(server.target) as channel:
        reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = reflect.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
            metadata=metadata,
            timeout=10,
        )
        with pytest.raises(grpc.RpcError) as caught:
            list(replies)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    denied = [line for line in server.lines() if line.get("status") == "UNAUTHENTICATED"]
    assert {"ListLosses", "UploadDataset", "DeleteDataset", "ServerReflectionInfo"} <= {
        line["method"] for line in denied
    }


def test_reflection_lists_the_service_with_the_token(server):
    with grpc.insecure_channel(server.target) as channel:
        reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
        (reply,) = reflect.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
            metadata=AUTH,
            timeout=10,
        )
    names = {s.name for s in reply.list_services_response.service}
    assert {"lossadvisor.v1.LossAdvisor", "grpc.health.v1.Health"} <= names


def test_health_is_open_without_a_token(server):
    assert server.health() == 1  # SERVING


def test_negative_quantile_sample_is_invalid_argument_with_its_field(stub):
    x = np.arange(4, dtype=np.float32)
    arr = pb.Array(dtype="float32", shape=[4], data=x.tobytes())
    req = pb.EvaluateRequest(
        predictions=[pb.ArrayRef(inline=arr)], targets=pb.ArrayRef(inline=arr), quantile_sample=-3
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.Evaluate(req, metadata=AUTH, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(caught.value) == ["quantile_sample"]


def test_client_refuses_a_bad_quantile_sample_before_sending(server):
    with AdvisorClient(server.target, token=TOKEN) as client, pytest.raises(errors.InvalidInputError) as caught:
        client.evaluate([1.0, 2.0], [1.0, 2.0], ["MSELoss"], quantile_sample=0)
    assert caught.value.field == "quantile_sample"
