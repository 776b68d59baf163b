"""The small server parts the suites rely on, each on its own and without a server.

Tenants from a token file, the rewriting of domain field names into request paths, the text a
caller may see, and the store's accounting of uploads in flight.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from advisor import errors
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from server import fieldpath
from server.redact import public_message
from server.store import DatasetStore
from server.tenants import Tenants


def test_a_token_file_is_one_tenant_per_line():
    tenants = Tenants.parse("# ops team\nalpha-token\n\n  beta-token  \n")
    assert len(tenants) == 2
    a = tenants.identify((("authorization", "Bearer alpha-token"),))
    b = tenants.identify((("authorization", b"Bearer beta-token"),))
    assert a and b and a != b
    assert "alpha" not in a  # the id is a digest, never the secret
    assert tenants.identify((("authorization", "Bearer # ops team"),)) is None
    assert tenants.identify(()) is None
    with pytest.raises(ValueError):
        Tenants.parse("# nothing but a comment\n\n")


def test_domain_fields_become_paths_of_the_request():
    request = pb.EvaluateRequest(
        predictions=[pb.ArrayRef()], candidates=[pb.Candidate(loss="HuberLoss")]
    )
    request.candidates[0].params.update({"delta": -1})
    cases = {
        "candidates[0].params.delta": "candidates[0].params.delta",
        "target": "targets",
        "input": "predictions[0]",
        "var": "predictions",  # predictions[1] was not sent: the list itself
        "candidates[3].loss": "candidates",
        "params.delta": "",
        "predictions[0].inline.shape": "predictions[0].inline.shape",
    }
    for domain, expected in cases.items():
        assert fieldpath.locate(request, domain) == expected, domain


def test_a_wrapped_exception_and_paths_are_cut_from_the_text():
    try:
        try:
            raise RuntimeError("size mismatch in /opt/lib/kernel.py")
        except RuntimeError as exc:
            raise errors.InvalidInputError(f"L1Loss rejected the inputs: {exc}", field="x") from exc
    except errors.InvalidInputError as wrapped:
        text = public_message(wrapped, wrapped.message)
    assert text == "L1Loss rejected the inputs"
    assert public_message(ValueError(), "see /etc/passwd now") == "see <path> now"


def test_uploads_in_flight_count_against_the_budget(caplog):
    store = DatasetStore(100, ttl_s=60)
    old, _ = store.put({"a": np.zeros(1)}, 60)
    with caplog.at_level(logging.WARNING, logger="server.store"):
        store.reserve(70)  # evicts the stored dataset to make room
    assert "dataset evicted" in caplog.text
    with pytest.raises(errors.DatasetNotFoundError):
        store.get(old)
    with pytest.raises(errors.CapacityError):
        store.reserve(40)  # 70 + 40 in flight would overcommit
    store.release(70)
    assert store.used_bytes == 0
    store.reserve(90)
    new, _ = store.put({"a": np.zeros(1)}, 90, owner="t1", reserved=True)
    assert store.used_bytes == 90 and store.pending_bytes == 0
    with pytest.raises(errors.DatasetNotFoundError):
        store.get(new, owner="t2")
    assert not store.delete(new, owner="t2")
    assert store.get(new, owner="t1").nbytes == 90
