"""Suite 7: resource bounds.

The dataset store never holds more than its byte budget, counting uploads still in flight and
charging string labels what they really cost, and it evicts least recently used datasets with a
log line saying so. The element ceiling (``--max-elements``) bounds a request as a whole: over
it the answer is RESOURCE_EXHAUSTED with a QuotaFailure naming the field that went over. That
code, not INVALID_ARGUMENT, because the request is well formed and a server configured with a
larger ceiling would take it; it is this server's capacity the caller ran into, as with the
message size cap, and the remedy (split the request, or ask another server) is the caller's.

Every cache kept across calls is filled past its documented bound here, and stays within it:
the dispatcher's compiled structures (``CACHE_SIZE``), its background compile queue
(``MAX_QUEUED``) and its logged failures (one per kernel); the dataset store's entries, which
its byte budget bounds once each dataset is charged its bookkeeping. The memos of one request
(``PrepareCache``, the engine's and the baselines' memo, ``Inputs`` min/max) must not outlive it.
The store's TTL is tested in ``tests/service/test_codec_and_store.py``.
"""

from __future__ import annotations

import argparse
import gc
import threading
import weakref
from collections import OrderedDict

import grpc
import numpy as np
import pytest
import torch

import advisor
from advisor.errors import CapacityError
from advisor.evaluation import dispatch
from advisor.evaluation.prepare import PrepareCache
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from server import add_serve_arguments, codec
from server.service import Servicer
from server.store import DatasetStore
from tests.reliability.calls import inline
from tests.reliability.conftest import MAX_ELEMENTS, STORE_MB, TENANT_A, TENANT_B
from tests.reliability.harness import auth, quota_subjects

BUDGET = STORE_MB * 2**20


def _chunks(arrays: dict[str, np.ndarray], strings: dict[str, list[str]] | None = None):
    header = pb.UploadHeader()
    for name, values in arrays.items():
        header.arrays.add(name=name, dtype=values.dtype.name, shape=values.shape)
    for name, labels in (strings or {}).items():
        header.arrays.add(name=name, dtype="str", shape=[len(labels)], strings=labels)
    out = [pb.UploadChunk(header=header)]
    for values in arrays.values():
        data = values.tobytes()
        out += [pb.UploadChunk(data=data[i : i + (1 << 20)]) for i in range(0, len(data), 1 << 20)]
    return out


def _upload(stub, metadata, **arrays) -> str:
    return stub.UploadDataset(iter(_chunks(arrays)), metadata=metadata, timeout=30).dataset_id


def _held(server, since: int) -> list[int]:
    return [line["store_bytes"] for line in server.events("dataset stored")[since:]]


def test_the_store_stays_within_its_budget_and_logs_evictions(server, stub, record):
    since = len(server.events("dataset stored"))
    evicted_before = len(server.events("dataset evicted"))
    ids = []
    for i in range(12):  # 12 x 1.5 MiB through an 8 MiB store, alternating tenants
        token = (TENANT_A, TENANT_B)[i % 2]
        values = np.arange(3 * 2**17, dtype=np.float32) + i
        ids.append((token, _upload(stub, auth(token), targets=values)))
    held = _held(server, since)
    evictions = server.events("dataset evicted")[evicted_before:]
    assert max(held) <= BUDGET, max(held)
    assert evictions and all(e["reason"] == "budget" for e in evictions)
    first_token, first = ids[0]
    ref = pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=first, name="targets"))
    with pytest.raises(grpc.RpcError) as gone:
        stub.Profile(pb.ProfileRequest(targets=ref), metadata=auth(first_token), timeout=10)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND  # the least recently used went first
    last_token, last = ids[-1]
    ref = pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=last, name="targets"))
    assert stub.Profile(pb.ProfileRequest(targets=ref), metadata=auth(last_token), timeout=10)
    record(
        suite="store",
        uploads=len(ids),
        evictions=len(evictions),
        peak_bytes=max(held),
        budget_bytes=BUDGET,
    )


def test_concurrent_uploads_cannot_overcommit_the_store(server, stub, meta):
    since = len(server.events("dataset stored"))
    codes: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        values = np.full(3 * 2**18, i, dtype=np.float32)  # 3 MiB each, 18 MiB together
        try:
            _upload(stub, meta, x=values)
            code = "OK"
        except grpc.RpcError as err:
            code = err.code().name
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert set(codes) <= {"OK", "RESOURCE_EXHAUSTED"}, codes
    assert "OK" in codes
    assert max(_held(server, since)) <= BUDGET


def test_string_labels_are_charged_what_they_cost(server, stub, meta):
    labels = [f"label-{i % 97:04d}" for i in range(40_000)]
    info = stub.UploadDataset(iter(_chunks({}, {"targets": labels})), metadata=meta, timeout=30)
    assert info.bytes >= len(labels) * codec.STR_OVERHEAD  # not the 0 bytes of their payload
    evicted_before = len(server.events("dataset evicted"))
    for _ in range(4):  # 4 x ~2.9 MiB of labels through the 8 MiB store
        stub.UploadDataset(iter(_chunks({}, {"targets": labels})), metadata=meta, timeout=30)
    assert len(server.events("dataset evicted")) > evicted_before


def test_the_element_ceiling_is_a_documented_option():
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    option = next(a for a in parser._actions if "--max-elements" in a.option_strings)
    assert option.default == codec.DEFAULT_MAX_ELEMENTS
    assert "request" in option.help and "RESOURCE_EXHAUSTED" in option.help


def _over(stub, meta, method: str, request) -> list[str]:
    with pytest.raises(grpc.RpcError) as caught:
        getattr(stub, method)(request, metadata=meta, timeout=30)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, caught.value.details()
    return quota_subjects(caught.value)


def test_over_the_element_ceiling_names_the_field(stub, meta):
    one_over = np.zeros(MAX_ELEMENTS + 1, dtype=np.uint8)
    assert _over(stub, meta, "Profile", pb.ProfileRequest(targets=inline(one_over))) == [
        "targets.inline.shape"
    ]
    half = np.zeros(MAX_ELEMENTS // 2 + 1, dtype=np.uint8)  # each fits, together they do not
    request = pb.EvaluateRequest(predictions=[inline(half)], targets=inline(half))
    assert _over(stub, meta, "Evaluate", request) == ["targets.inline.shape"]
    # Arrays referenced from the store count too: the work they cause is the same.
    first = _upload(stub, meta, x=half)
    second = _upload(stub, meta, x=half)
    refs = [pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=d, name="x")) for d in (first, second)]
    request = pb.EvaluateRequest(predictions=[refs[0]], targets=refs[1])
    assert _over(stub, meta, "Evaluate", request) == ["targets.dataset"]
    # And an upload whose arrays together exceed it is refused from its header alone.
    header = pb.UploadHeader(
        arrays=[
            pb.UploadHeader.Entry(name="a", dtype="uint8", shape=[MAX_ELEMENTS // 2 + 1]),
            pb.UploadHeader.Entry(name="b", dtype="uint8", shape=[MAX_ELEMENTS // 2 + 1]),
        ]
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.UploadDataset(iter([pb.UploadChunk(header=header)]), metadata=meta, timeout=10)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert quota_subjects(caught.value) == ["header.arrays[1].shape"]


# ---------------------------------------------------------------------- caches and their bounds


def test_compiled_structures_stay_within_cache_size(monkeypatch):
    monkeypatch.setattr(dispatch, "_structures", OrderedDict())
    evictions = dispatch.stats["evictions"]
    keys = [("kernel", (("slot", i),), ()) for i in range(dispatch.CACHE_SIZE + 50)]
    for key in keys:
        dispatch._structure(key, "kernel")
        assert len(dispatch._structures) <= dispatch.CACHE_SIZE
    assert list(dispatch._structures) == keys[-dispatch.CACHE_SIZE :]  # the oldest went first
    assert dispatch.stats["evictions"] - evictions == 50


def test_structures_seen_once_are_remembered_no_further_than_their_bound(monkeypatch):
    monkeypatch.setattr(dispatch, "_sightings", type(dispatch._sightings)())
    keys = [("kernel", (("kinds", (i,)),), ()) for i in range(dispatch.SIGHTINGS + 50)]
    assert not any(dispatch._admitted(key) for key in keys)  # each seen once: none admitted
    assert len(dispatch._sightings) == dispatch.SIGHTINGS
    assert dispatch._admitted(keys[-1]) and not dispatch._admitted(keys[0])  # the oldest forgotten


def _called(key: tuple) -> bool:
    """What ``dispatch.run`` does with an auto-mode call's structure: whether it is kept."""
    uses = dispatch._admitted(key)
    if uses:
        dispatch._structure(key, "kernel", uses)
    return bool(uses)


def test_a_full_cache_admits_a_newcomer_only_once_it_is_busier_than_its_victim(monkeypatch):
    monkeypatch.setattr(dispatch, "CACHE_SIZE", 2)
    monkeypatch.setattr(dispatch, "AGE_EVERY", 10**9)
    monkeypatch.setattr(dispatch, "_structures", OrderedDict())
    monkeypatch.setattr(dispatch, "_sightings", OrderedDict())
    hot = [("kernel", (("hot", i),), ()) for i in range(2)]
    for key in hot:
        assert [_called(key) for _ in range(5)] == [False, True, True, True, True]
    assert [st.uses for st in dispatch._structures.values()] == [5, 5]
    newcomer = ("kernel", (("new", 0),), ())
    assert [_called(newcomer) for _ in range(5)] == [False] * 5  # no busier than hot[0]
    assert list(dispatch._structures) == hot
    assert _called(newcomer)  # its sixth call: busier than the least recently used
    assert list(dispatch._structures) == [hot[1], newcomer]


def test_a_request_counts_once_however_many_chunks_it_runs(monkeypatch):
    """One large request of a new structure (many kernel calls) is one use: it neither gets
    admitted on its own nor outweighs a structure that several requests use."""
    monkeypatch.setattr(dispatch, "CACHE_SIZE", 1)
    monkeypatch.setattr(dispatch, "AGE_EVERY", 10**9)
    monkeypatch.setattr(dispatch, "_structures", OrderedDict())
    monkeypatch.setattr(dispatch, "_sightings", OrderedDict())
    hot, big = ("kernel", (("hot",),), ()), ("kernel", (("big",),), ())
    for _ in range(3):
        with dispatch.request():
            _called(hot)
            _called(hot)  # a second chunk of the same request
    assert dispatch._structures[hot].uses == 3  # three requests, six calls
    with dispatch.request():
        assert not any(_called(big) for _ in range(50))  # fifty chunks, one request
    assert dispatch._sightings[big][0] == 1 and list(dispatch._structures) == [hot]
    for _ in range(2):
        with dispatch.request():
            assert not _called(big)  # its second and third requests: no busier than hot
    with dispatch.request():
        assert _called(big)  # its fourth: busier than hot
    assert list(dispatch._structures) == [big]


def test_call_counts_age(monkeypatch):
    monkeypatch.setattr(dispatch, "CACHE_SIZE", 1)
    monkeypatch.setattr(dispatch, "AGE_EVERY", 40)
    monkeypatch.setattr(dispatch, "_structures", OrderedDict())
    monkeypatch.setattr(dispatch, "_sightings", OrderedDict())
    monkeypatch.setattr(dispatch, "_calls_since_aging", [0])
    old, new = ("kernel", (("old",),), ()), ("kernel", (("new",),), ())
    for _ in range(30):
        _called(old)
    assert dispatch._structures[old].uses == 30
    # the old structure, idle, loses half its count every 40 calls; the new one overtakes it
    calls = 0
    while not _called(new):
        calls += 1
    assert calls < 30 and list(dispatch._structures) == [new]


def test_background_compiles_queue_no_further_than_their_bound(monkeypatch):
    assert dispatch.wait_compiled(600)  # a compile left by an earlier test would skew the count
    monkeypatch.setattr(dispatch, "_closing", threading.Event())
    release = threading.Event()
    monkeypatch.setattr(dispatch, "_compile", lambda st, args, static: release.wait(60) and None)
    args = (torch.zeros(8), torch.zeros(8))
    try:
        queued = [
            dispatch._background(dispatch._Structure("kernel"), args, {})
            for _ in range(dispatch.MAX_QUEUED + 40)
        ]
        assert sum(queued) == dispatch.MAX_QUEUED
        assert dispatch._pending_count[0] == dispatch.MAX_QUEUED
        assert dispatch._queue.qsize() <= dispatch.MAX_QUEUED
    finally:
        release.set()
    assert dispatch.wait_compiled(60)
    assert dispatch._background(dispatch._Structure("kernel"), args, {})  # room again
    assert dispatch.wait_compiled(60)


def test_logged_compile_failures_are_one_per_kernel(monkeypatch):
    monkeypatch.setattr(dispatch, "_logged_failures", set())
    monkeypatch.setattr(dispatch, "stats", dict(dispatch.stats))
    names = sorted(dispatch.KERNELS)
    for i in range(10 * len(names)):
        dispatch._fail(dispatch._Structure(names[i % len(names)]), RuntimeError(f"failure {i}"))
    assert dispatch._logged_failures == set(names)


def _empty_upload(arrays: int) -> pb.UploadHeader:
    entries = [pb.UploadHeader.Entry(name=f"a{i}", dtype="float32", shape=[0]) for i in range(arrays)]
    return pb.UploadHeader(arrays=entries)


def test_empty_datasets_are_charged_so_the_store_holds_a_bounded_number():
    budget = 64 * 1024
    store = DatasetStore(budget, ttl_s=3600)
    servicer = Servicer(store, max_concurrency=1)
    try:
        for i in range(2000):
            entries, total, footprint, charge = servicer._header(_empty_upload(1 + i % 3))
            assert (total, footprint) == (0, 0)  # nothing to receive, no array memory
            assert charge >= codec.DATASET_OVERHEAD + codec.ARRAY_OVERHEAD
            store.reserve(charge)
            store.put({name: np.zeros(0, np.float32) for name, *_ in entries}, charge, reserved=True)
            assert store.used_bytes <= budget
        assert len(store) <= budget // codec.DATASET_OVERHEAD
        # Many empty arrays in one upload cost what they hold too: here more than the budget.
        with pytest.raises(CapacityError):
            servicer._header(_empty_upload(budget // codec.ARRAY_OVERHEAD))
    finally:
        servicer.pool.shutdown()


def test_an_empty_upload_is_charged_its_bookkeeping(server, stub, meta):
    since = len(server.events("dataset stored"))
    header = pb.UploadHeader(arrays=[pb.UploadHeader.Entry(name="x", dtype="float32", shape=[0])])
    info = stub.UploadDataset(iter([pb.UploadChunk(header=header)]), metadata=meta, timeout=10)
    assert info.bytes == 0  # what its arrays hold
    server.settle()
    stored = server.events("dataset stored")[since:]
    assert [line["bytes"] for line in stored] == [codec.bookkeeping(["x"])]


def test_no_request_memo_outlives_its_request(monkeypatch):
    made: list[weakref.ref] = []
    init = PrepareCache.__init__

    def tracked(self, inp):
        init(self, inp)
        made.append(weakref.ref(self))
        made.append(weakref.ref(inp))

    monkeypatch.setattr(PrepareCache, "__init__", tracked)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(200).astype(np.float32)
    labels = rng.integers(0, 4, 200)
    logits = rng.standard_normal((200, 4)).astype(np.float32)
    with dispatch.mode("eager"):
        for _ in range(5):
            advisor.evaluate(x, x[::-1].copy(), diagnostics=True)
            advisor.evaluate(logits, labels, diagnostics=True)
    gc.collect()
    assert len(made) >= 20
    assert [ref for ref in made if ref() is not None] == []
