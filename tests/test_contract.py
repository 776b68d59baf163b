"""The wire contract compiles and declares every RPC the service promises."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto" / "lossadvisor" / "v1" / "advisor.proto"
RPCS = {
    "Profile", "Recommend", "Evaluate", "Validate", "ListLosses", "Benchmark", "UploadDataset", "DeleteDataset",
}  # fmt: skip


def test_contract_compiles_and_declares_every_rpc(tmp_path):
    grpc_tools = pytest.importorskip("grpc_tools")
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{ROOT / 'proto'}",
            f"-I{include}",
            f"--python_out={tmp_path}",
            str(PROTO),
        ],
        check=True,
    )
    generated = tmp_path / "lossadvisor" / "v1" / "advisor_pb2.py"
    spec = importlib.util.spec_from_file_location("advisor_pb2_under_test", generated)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    service = module.DESCRIPTOR.services_by_name["LossAdvisor"]
    assert {m.name for m in service.methods} == RPCS
    assert module.DESCRIPTOR.package == "lossadvisor.v1"
    validate = service.methods_by_name["Validate"]
    upload = service.methods_by_name["UploadDataset"]
    assert validate.server_streaming and not validate.client_streaming
    assert upload.client_streaming and not upload.server_streaming
    array = module.DESCRIPTOR.message_types_by_name["Array"]
    assert array.fields_by_name["data"].type == array.fields_by_name["data"].TYPE_BYTES


def test_generated_stubs_are_fresh():
    pytest.importorskip("grpc_tools")
    from client.rpc import generate

    assert generate.main(["--check"]) == 0, "run `make proto`"
