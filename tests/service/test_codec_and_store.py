"""The array codec and the dataset store on their own, without a server."""

from __future__ import annotations

import logging
import tracemalloc

import numpy as np
import pytest

from advisor import errors
from client import arrays
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from server import codec, mapping
from server.status import to_status
from server.store import DatasetStore


@pytest.mark.parametrize(
    "values",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.array([True, False]),
        np.arange(5, dtype=np.int64),
        np.array(["a", "bb", "c"]),
        np.array([], dtype=np.float64).reshape(0, 3),
    ],
)
def test_round_trip(values):
    decoded = codec.decode(arrays.encode(values), "x")
    assert decoded.shape == values.shape
    assert decoded.tolist() == values.tolist()


def test_client_converts_what_callers_hold():
    assert arrays.encode(np.arange(3, dtype=np.uint16)).dtype == "int64"
    assert arrays.encode(np.arange(3, dtype=">f4")).data == np.arange(3, dtype="<f4").tobytes()
    assert arrays.encode(np.array([1, "a"], dtype=object)).strings == ["1", "a"]

    class Frame:  # what pandas offers
        def to_numpy(self):
            return np.array([[1.0, 2.0]])

    assert arrays.to_numpy(Frame()).shape == (1, 2)


@pytest.mark.parametrize(
    "values",
    [
        np.array(["b", None, "a", "b", "", "é"], dtype=object),
        np.array([["x", "y"], ["y", "z"]]),
        np.array([None, None], dtype=object),  # no label at all: still the dictionary form
        np.array([], dtype=object),
    ],
)
def test_dictionary_text_decodes_to_its_strings(values):
    form = arrays.upload_form(values)
    assert form.payload.dtype == np.dtype("<i4") and form.payload.size == values.size
    assert values.size == 0 or form.labels  # empty labels would mean the old form
    decoded = codec.from_codes(form.shape, form.labels, form.payload.tobytes(), "x")
    expected = np.array(["" if v is None else str(v) for v in values.ravel()], dtype=object)
    assert decoded.dtype == object and decoded.shape == values.shape
    assert decoded.ravel().tolist() == expected.tolist()


def test_decoded_text_is_charged_the_memory_it_holds():
    """Elements share their label's str: a pointer each, plus each label once. Charging the old
    form's per-element cost would overcharge eightfold; charging the codes' 4 bytes, under."""
    n = 200_000
    raw = (np.arange(n) % 301 - 1).astype("<i4").tobytes()  # -1 (missing) and 300 labels
    tracemalloc.start()
    try:
        labels = [f"label-{i:05d}" for i in range(300)]  # made here, as from the header
        decoded = codec.from_codes((n,), labels, raw, "x")
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded[0] == "" and decoded[1] == "label-00000"
    assert 0.9 * held <= codec.coded_footprint(n, labels) <= 1.1 * held


def test_a_table_column_may_reference_an_uploaded_array():
    store = DatasetStore(10**6, ttl_s=60)
    city = np.array(["a", "b"], dtype=object)
    dataset_id, _ = store.put({"city": city, "x": np.zeros(2)}, 100)

    def ref(name: str) -> pb.ArrayRef:
        return pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=dataset_id, name=name))

    inline = pb.ArrayRef(inline=arrays.encode(np.array([1.0, 2.0])))
    columns = [pb.Column(name="city", values=ref("city")), pb.Column(name="y", values=inline)]
    table = pb.Table(columns=columns)
    got = mapping.features(pb.ProfileRequest(features_table=table), mapping.Resolver(store, 100))
    assert list(got) == ["city", "y"] and got["city"] is city and got["y"].tolist() == [1.0, 2.0]
    bad = pb.Table(columns=[pb.Column(name="c", values=ref("nope"))])
    with pytest.raises(errors.InvalidInputError) as caught:
        mapping.features(pb.ProfileRequest(features_table=bad), mapping.Resolver(store, 100))
    assert caught.value.field == "features_table.columns[0].values.dataset.name"


def test_shape_must_match_bytes_exactly():
    with pytest.raises(errors.ShapeMismatchError) as caught:
        codec.decode(pb.Array(dtype="float32", shape=[3], data=b"\0" * 13), "targets")
    assert caught.value.field == "targets.data"


def test_a_huge_claim_is_refused_before_any_allocation():
    claim = pb.Array(dtype="float64", shape=[10**9, 10**9, 10**9], data=b"")
    with pytest.raises(errors.CapacityError) as caught:
        codec.decode(claim, "targets", max_elements=10**6)
    assert caught.value.field == "targets.shape"


def test_dtype_whitelist():
    with pytest.raises(errors.DTypeError):
        codec.decode(pb.Array(dtype="object", shape=[1], data=b"\0" * 8), "x")


def test_status_mapping_is_in_one_place():
    import grpc

    cases = {
        errors.ShapeMismatchError("m", field="f"): grpc.StatusCode.INVALID_ARGUMENT,
        errors.UnknownLossError("x", []): grpc.StatusCode.INVALID_ARGUMENT,
        errors.ParameterError("m", field="f"): grpc.StatusCode.INVALID_ARGUMENT,
        errors.DatasetNotFoundError("m", field="f"): grpc.StatusCode.NOT_FOUND,
        errors.CapacityError("m", field="f"): grpc.StatusCode.RESOURCE_EXHAUSTED,
        RuntimeError("secret detail"): grpc.StatusCode.INTERNAL,
    }
    for exc, code in cases.items():
        status = to_status(exc, "Test")
        assert status.code == code
    assert "secret detail" not in to_status(RuntimeError("secret detail")).details


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_store_ttl_and_unguessable_ids():
    clock = Clock()
    store = DatasetStore(1000, ttl_s=10, clock=clock)
    first, _ = store.put({"a": np.zeros(1)}, 8)
    second, _ = store.put({"a": np.zeros(1)}, 8)
    assert first != second and len(first) >= 32
    clock.now = 5
    store.get(first)  # use refreshes the TTL
    clock.now = 12
    assert store.get(first).nbytes == 8
    with pytest.raises(errors.DatasetNotFoundError):
        store.get(second)


def test_store_evicts_least_recently_used_and_logs_it(caplog):
    store = DatasetStore(100, ttl_s=60)
    a, _ = store.put({}, 40)
    b, _ = store.put({}, 40)
    store.get(a)
    with caplog.at_level(logging.WARNING, logger="server.store"):
        c, _ = store.put({}, 40)
    assert "dataset evicted" in caplog.text
    with pytest.raises(errors.DatasetNotFoundError):
        store.get(b)
    assert store.get(a) and store.get(c)
    with pytest.raises(errors.CapacityError):
        store.put({}, 101)


class _Aborted(Exception):
    pass


class _Context:
    """What a handler uses of a grpc.aio context."""

    def __init__(self) -> None:
        self.status = None

    def time_remaining(self):
        return 10.0

    def peer(self) -> str:
        return "test"

    def add_done_callback(self, _callback) -> None:
        pass

    async def abort_with_status(self, status):
        self.status = status
        raise _Aborted


def test_unexpected_errors_are_internal_with_the_detail_only_in_the_log(monkeypatch, caplog):
    import asyncio

    import grpc

    import advisor
    from server.service import Servicer

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret detail /some/path")

    monkeypatch.setattr(advisor, "profile", broken)
    servicer = Servicer(DatasetStore(1000, 60), max_concurrency=1)
    context = _Context()
    request = pb.ProfileRequest(targets=pb.ArrayRef(inline=arrays.encode(np.zeros(3))))
    with caplog.at_level(logging.INFO, logger="server"), pytest.raises(_Aborted):
        asyncio.run(servicer.Profile(request, context))
    assert context.status.code == grpc.StatusCode.INTERNAL
    assert "secret" not in context.status.details
    assert "secret detail" in caplog.text
    assert '"status": "INTERNAL"' in caplog.text
    assert servicer.limiter.active == 0
