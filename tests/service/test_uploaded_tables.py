"""Tables uploaded once and sent again as references: each column is stored as a named array
and ``features`` may be the uploaded dataset, a mapping of its arrays, or such references among
arrays. Text in uploads travels as distinct labels and int32 codes in the data chunks, so a
long text column streams like a numeric one; the old form (every string in the header) still
decodes. The reference for every result is the library run in-process on the same table.
"""

from __future__ import annotations

import grpc
import numpy as np
import pandas as pd
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

import advisor
from advisor import errors
from advisor.schema.profile import DataProfile
from client import AdvisorClient, LocalAdvisor
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc
from tests.ingest.frames import mixed
from tests.service.conftest import TOKEN, ServerProcess

AUTH = (("authorization", f"Bearer {TOKEN}"),)


@pytest.fixture(scope="module")
def frame():
    """Text with missing cells, numbers with NaN, a nullable integer, datetimes with a missing
    one, booleans, a constant and an all-missing text column; text labels as the target."""
    features, churn = mixed(n=300, seed=5)
    features["signup"] = features["signup"].where(np.arange(len(features)) % 11 != 0)  # NaT
    features["visits"] = pd.array([None if i % 7 == 0 else i % 9 for i in range(300)], "Int64")
    return features, churn


@pytest.fixture
def stub(server):
    with grpc.insecure_channel(server.target) as channel:
        yield pb_grpc.LossAdvisorStub(channel)


def violations(err: grpc.RpcError) -> list[str]:
    fields = []
    for detail in rpc_status.from_call(err).details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return fields


def test_an_uploaded_dataframe_profiles_and_recommends_as_the_frame(frame, client, server):
    features, churn = frame
    up = client.upload(features)
    assert up.names == tuple(features.columns)
    got = client.profile(churn, features=up)
    line = server.rpc_lines("Profile")[-1]
    assert line["status"] == "OK" and line["bytes_in"] < 4000  # references, not 300 rows of text
    expected = advisor.profile(churn, features=features)
    assert got.features.preparation == expected.features.preparation
    assert got.classes == expected.classes
    assert got == expected
    rec = client.recommend(churn, features=up, top_k=3)
    local = advisor.recommend(churn, features=features, top_k=3)
    assert [c.model_dump() for c in rec.candidates] == [c.model_dump() for c in local.candidates]
    assert client.delete(up)


def test_a_mapping_of_references_and_a_mix_of_references_and_arrays(frame, client):
    features, churn = frame
    up = client.upload({"city": features["city"], "income": features["income"]})
    refs = {"city": up["city"], "income": up["income"]}
    assert client.profile(churn, features=refs) == advisor.profile(
        churn, features=features[["city", "income"]]
    )
    mix = {"city": up["city"], "signup": features["signup"], "income": up["income"]}
    expected = advisor.profile(churn, features=features[["city", "signup", "income"]])
    assert client.profile(churn, features=mix) == expected
    report = client.validate(mix, churn, ["BCEWithLogitsLoss"], folds=2, epochs=2)
    assert report.preparation == expected.features.preparation


def test_the_in_process_twin_takes_the_same_uploads(frame):
    features, churn = frame
    local = LocalAdvisor()
    up = local.upload(features)
    expected = advisor.profile(churn, features=features)
    assert local.profile(churn, features=up) == expected
    assert local.profile(churn, features={"city": up["city"]}) == advisor.profile(
        churn, features=features[["city"]]
    )


def test_upload_takes_tables_of_every_kind(client):
    kinds = [("x", "f8"), ("n", "i4"), ("s", "S1")]
    rows = np.array([(1.5, 3, b"a"), (np.nan, 4, b"b")], dtype=kinds)
    assert client.upload(rows).names == ("x", "n", "s")
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"t": ["a", None, "b"], "v": [1.0, None, 3.0]})
    up = client.upload(table, extra=np.arange(4))
    assert up.names == ("t", "v", "extra")


@pytest.fixture(scope="module")
def small_messages(tmp_path_factory):
    """A server whose messages may be at most 2 MB, so long text must stream to arrive."""
    proc = ServerProcess(
        tmp_path_factory.mktemp("small-messages"), "--max-message-mb", "2", "--store-mb", "200"
    )
    yield proc
    assert proc.stop() == 0, proc.tail()


def test_a_long_text_column_streams_past_the_message_limit(small_messages):
    n = 1_500_000  # inline, its strings would weigh about 15 MB
    rng = np.random.default_rng(4)
    city = rng.choice(np.array([f"city-{i:03d}" for i in range(40)], dtype=object), n)
    city[::101] = None
    y = (city == "city-007") + rng.standard_normal(n)
    before = len(small_messages.rpc_lines("UploadDataset"))
    with AdvisorClient(small_messages.target, timeout=300) as c:
        got = c.profile(y, features={"city": city})
    assert got == advisor.profile(y, features={"city": city})
    uploads = small_messages.rpc_lines("UploadDataset")[before:]
    assert [u["status"] for u in uploads] == ["OK", "OK"]  # the targets, then the table
    assert uploads[-1]["bytes_in"] == 4 * n  # one int32 code a row; the labels are the header
    deleted = small_messages.rpc_lines("DeleteDataset")
    assert [d["status"] for d in deleted[-2:]] == ["OK", "OK"]


def _header_chunks(*entries: pb.UploadHeader.Entry, data: bytes = b"") -> list[pb.UploadChunk]:
    chunks = [pb.UploadChunk(header=pb.UploadHeader(arrays=list(entries)))]
    return chunks + [pb.UploadChunk(data=data[i : i + 1000]) for i in range(0, len(data), 1000)]


def test_both_text_forms_decode_to_the_same_labels(stub):
    """An old client's upload (every string in the header) and the dictionary form, with a
    numeric array between them whose bytes follow the codes in the chunks."""
    rng = np.random.default_rng(7)
    labels = rng.choice(np.array(["cat", "dog", "", "NA", "émeu"], dtype=object), 500)
    x = rng.standard_normal(500)
    names = sorted(set(labels))
    codes = np.array([names.index(v) for v in labels], dtype="<i4")
    codes[labels == ""] = -1  # a missing cell: the server stores ""
    entries = (
        pb.UploadHeader.Entry(name="coded", dtype="str", shape=[500], labels=names),
        pb.UploadHeader.Entry(name="x", dtype="float64", shape=[500]),
        pb.UploadHeader.Entry(name="old", dtype="str", shape=[500], strings=list(labels)),
    )
    chunks = _header_chunks(*entries, data=codes.tobytes() + x.astype("<f8").tobytes())
    info = stub.UploadDataset(iter(chunks), metadata=AUTH, timeout=30)
    expected = advisor.profile(labels, features=x)

    def profile(name: str):
        ref = pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=info.dataset_id, name=name))
        xref = pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=info.dataset_id, name="x"))
        request = pb.ProfileRequest(targets=ref, features=xref)
        return stub.Profile(request, metadata=AUTH, timeout=30).profile_json

    for name in ("coded", "old"):
        assert DataProfile.model_validate_json(profile(name)) == expected, name


CODED = {"name": "t", "dtype": "str", "shape": [4], "labels": ["a", "b"]}


@pytest.mark.parametrize(
    ("entry", "codes", "field"),
    [
        (CODED, [0, 1, 2, 0], "header.arrays[0].labels"),
        (CODED, [0, -2, 1, 0], "header.arrays[0].labels"),
        (CODED, [0, 1, 0], "data"),  # three codes for four elements
        (CODED, [0, 1, 0, 1, 0], "data"),
        ({**CODED, "strings": ["a", "b", "a", "b"]}, [0, 1, 0, 1], "header.arrays[0].labels"),
        ({**CODED, "dtype": "int32", "labels": ["a"]}, [0] * 4, "header.arrays[0].labels"),
    ],
)
def test_bad_codes_and_labels_are_invalid_argument_with_the_field(stub, entry, codes, field):
    chunks = _header_chunks(pb.UploadHeader.Entry(**entry), data=np.array(codes, "<i4").tobytes())
    with pytest.raises(grpc.RpcError) as caught:
        stub.UploadDataset(iter(chunks), metadata=AUTH, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(caught.value) == [field]


@pytest.mark.parametrize("advisor_", ["remote", "local"])
def test_nothing_or_no_table_to_upload_is_a_typed_error(advisor_, client):
    target = client if advisor_ == "remote" else LocalAdvisor()
    with pytest.raises(errors.EmptyInputError) as nothing:
        target.upload()
    assert nothing.value.field == "data"
    with pytest.raises(errors.EmptyInputError):
        target.upload({})
    for not_a_table in (np.arange(3), 5, "text"):
        with pytest.raises(errors.InvalidInputError) as caught:
            target.upload(not_a_table)
        assert caught.value.field == "data"
    with pytest.raises(errors.InvalidInputError) as ref:
        target.upload(copy=target.upload(x=[1.0]))
    assert ref.value.field == "copy"


def test_a_whole_dataset_where_one_array_belongs_is_a_typed_error(client):
    up = client.upload(y=[1.0, 2.0, 3.0])
    with pytest.raises(errors.InvalidInputError) as caught:
        client.profile(up)
    assert caught.value.field == "targets"
