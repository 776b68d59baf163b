"""Suite 2: lying sizes.

A shape claiming more (or fewer) elements than the bytes hold is refused before any memory is
sized from the claim: in the codec (measured with tracemalloc), over the wire for every field
that carries an array (with the server's resident memory watched), and without the lie taking a
computation slot from honest callers, whose results stay bit-identical while it goes on.
"""

from __future__ import annotations

import struct
import threading
import tracemalloc

import grpc
import numpy as np
import pytest

from advisor import errors
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from server import codec, mapping
from server.store import DatasetStore
from tests.reliability.calls import good_evaluate, inline
from tests.reliability.conftest import LONG, MAX_ELEMENTS
from tests.reliability.harness import quota_subjects, violations

HUGE = 10**15  # elements: 8 PB of float64, claimed with 8 bytes
EIGHT = struct.pack("<d", 1.0)


def _lie(shape: list[int], dtype: str = "float64", data: bytes = EIGHT) -> pb.ArrayRef:
    return pb.ArrayRef(inline=pb.Array(dtype=dtype, shape=shape, data=data))


def _requests(lie: pb.ArrayRef) -> dict[str, tuple[str, object]]:
    """The lie in every field of every RPC that carries an array, with the field's path."""
    honest = inline(np.zeros(4, dtype=np.float32))
    return {
        "Profile targets": ("Profile", pb.ProfileRequest(targets=lie)),
        "Profile features": ("Profile", pb.ProfileRequest(targets=honest, features=lie)),
        "Recommend predictions": (
            "Recommend",
            pb.RecommendRequest(targets=honest, predictions=lie),
        ),
        "Evaluate predictions[1]": (
            "Evaluate",
            pb.EvaluateRequest(predictions=[honest, lie], targets=honest),
        ),
        "Evaluate sample_weight": (
            "Evaluate",
            pb.EvaluateRequest(predictions=[honest], targets=honest, sample_weight=lie),
        ),
        "Validate features": ("Validate", pb.ValidateRequest(features=lie, targets=honest)),
    }


FIELD = {
    "Profile targets": "targets",
    "Profile features": "features",
    "Recommend predictions": "predictions",
    "Evaluate predictions[1]": "predictions[1]",
    "Evaluate sample_weight": "sample_weight",
    "Validate features": "features",
}


def _send(stub, method: str, request, meta) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        reply = getattr(stub, method)(request, metadata=meta, timeout=10)
        if method == "Validate":
            list(reply)
    return caught.value


def test_the_codec_allocates_nothing_for_a_lie():
    claims = [
        pb.Array(dtype="float64", shape=[MAX_ELEMENTS], data=EIGHT),
        pb.Array(dtype="float64", shape=[HUGE], data=EIGHT),
        pb.Array(dtype="str", shape=[MAX_ELEMENTS], strings=["a"]),
        pb.Array(dtype="float32", shape=[0, 10**18], data=b""),
    ]
    tracemalloc.start()
    try:
        for claim in claims:
            with pytest.raises(errors.AdvisorError):
                codec.decode(claim, "targets", max_elements=MAX_ELEMENTS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, f"refusing lies allocated {peak} bytes"


def test_a_request_ceiling_counts_all_arrays_together():
    half = np.zeros(MAX_ELEMENTS // 2 + 1, dtype=np.uint8)
    request = pb.EvaluateRequest(predictions=[inline(half)], targets=inline(half))
    with pytest.raises(errors.CapacityError) as caught:
        mapping.precheck(request, MAX_ELEMENTS)
    assert caught.value.field == "targets.inline.shape"
    resolver = mapping.Resolver(DatasetStore(1 << 20, 60), MAX_ELEMENTS)
    with pytest.raises(errors.CapacityError):
        mapping.evaluate_kwargs(request, resolver)


@pytest.mark.parametrize("case", sorted(FIELD))
def test_a_huge_claim_is_refused_naming_its_field(server, stub, meta, case):
    before = server.rss_bytes()
    method, request = _requests(_lie([HUGE]))[case]
    err = _send(stub, method, request, meta)
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.details()
    assert quota_subjects(err) == [f"{FIELD[case]}.inline.shape"]
    assert server.rss_bytes() - before < 16 * 2**20


@pytest.mark.parametrize("claimed", [1, 3, 1000])
def test_shape_and_bytes_that_disagree_are_invalid(stub, meta, claimed):
    # 16 bytes are two float64: a shape of 1 claims fewer, 3 and 1000 claim more.
    method, request = _requests(_lie([claimed], data=EIGHT * 2))["Evaluate predictions[1]"]
    err = _send(stub, method, request, meta)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err) == ["predictions[1].inline.data"]


def test_an_upload_that_lies_leaves_no_reservation_behind(server, stub, meta):
    from tests.reliability.conftest import STORE_MB

    claim = (STORE_MB * 2**20) // 8 - 1024  # nearly the whole store, in float64
    header = pb.UploadHeader(
        arrays=[pb.UploadHeader.Entry(name="x", dtype="float64", shape=[claim])]
    )
    for _ in range(3):
        with pytest.raises(grpc.RpcError) as caught:
            stub.UploadDataset(
                iter([pb.UploadChunk(header=header), pb.UploadChunk(data=EIGHT)]),
                metadata=meta,
                timeout=10,
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violations(caught.value) == ["data"]
    # Had any of those kept its reservation, the store could not take this one.
    honest = np.zeros(claim, dtype=np.float64)
    chunks = [pb.UploadChunk(header=header)] + [
        pb.UploadChunk(data=honest[i : i + 65536].tobytes()) for i in range(0, claim, 65536)
    ]
    info = stub.UploadDataset(iter(chunks), metadata=meta, timeout=30)
    assert info.bytes == claim * 8
    assert stub.DeleteDataset(pb.DeleteDatasetRequest(dataset_id=info.dataset_id), metadata=meta)


def _fingerprint(stub, meta) -> tuple[bytes, str]:
    values = stub.Evaluate(good_evaluate(), metadata=meta, timeout=30).values
    targets = inline(np.arange(50, dtype=np.float32) % 7)
    profile = stub.Profile(pb.ProfileRequest(targets=targets), metadata=meta, timeout=30)
    return struct.pack(f"<{len(values)}d", *values), profile.profile_json


def test_honest_results_stay_bit_identical_under_lies(server, stub, meta, record):
    reference = _fingerprint(stub, meta)
    rounds = 200 if LONG else 25
    stop = threading.Event()
    lies = {"sent": 0, "codes": set()}
    problems: list[str] = []

    def liar() -> None:
        cases = list(_requests(_lie([HUGE])).values()) + list(
            _requests(_lie([MAX_ELEMENTS - 1])).values()
        )
        while not stop.is_set():
            for method, request in cases:
                try:
                    getattr(stub, method)(request, metadata=meta, timeout=10)
                except grpc.RpcError as err:
                    lies["codes"].add(err.code().name)
                lies["sent"] += 1

    def honest() -> None:
        for _ in range(rounds):
            try:
                if _fingerprint(stub, meta) != reference:
                    problems.append("result changed")
            except grpc.RpcError as err:
                problems.append(f"{err.code().name}: {err.details()}")

    liars = [threading.Thread(target=liar) for _ in range(2)]
    honest_threads = [threading.Thread(target=honest) for _ in range(2)]  # = the slot count
    for t in liars + honest_threads:
        t.start()
    for t in honest_threads:
        t.join(300)
    stop.set()
    for t in liars:
        t.join(30)
    record(suite="lies", lies_sent=lies["sent"], honest_calls=4 * rounds, problems=len(problems))
    assert not problems, problems[:5]
    assert lies["codes"] <= {"RESOURCE_EXHAUSTED", "INVALID_ARGUMENT"}, lies["codes"]
    assert lies["sent"] > 0
