"""Generates the Python stubs of ``proto/lossadvisor/v1/advisor.proto`` into this package.

protoc writes absolute imports (``from lossadvisor.v1 import advisor_pb2``), which would need
a top-level ``lossadvisor`` package; they are rewritten to live under ``client.rpc`` so that
nothing is named ``proto`` or ``lossadvisor`` at the top level. ``--check`` regenerates into
a temporary folder and fails when the committed stubs differ (stale stubs fail CI).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROTO_ROOT = ROOT / "proto"
PROTOS = sorted(PROTO_ROOT.rglob("*.proto"))
PACKAGE_DIR = Path("lossadvisor") / "v1"
GENERATED = ("advisor_pb2.py", "advisor_pb2.pyi", "advisor_pb2_grpc.py")


def generate(out: Path) -> None:
    import grpc_tools

    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={out}",
            f"--pyi_out={out}",
            f"--grpc_python_out={out}",
            *[str(p) for p in PROTOS],
        ],
        check=True,
    )
    for name in GENERATED:
        path = out / PACKAGE_DIR / name
        text = path.read_text()
        text = text.replace("from lossadvisor.v1 import", "from client.rpc.lossadvisor.v1 import")
        path.write_text(text)
    for folder in (out / "lossadvisor", out / PACKAGE_DIR):
        (folder / "__init__.py").write_text(
            '"""Generated from proto/ by client/rpc/generate.py; do not edit."""\n'
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed stubs are stale"
    )
    args = parser.parse_args(argv)
    if not args.check:
        shutil.rmtree(HERE / "lossadvisor", ignore_errors=True)
        generate(HERE)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        stale = [
            name
            for name in (*GENERATED, "__init__.py")
            if not (HERE / PACKAGE_DIR / name).exists()
            or not filecmp.cmp(
                Path(tmp) / PACKAGE_DIR / name, HERE / PACKAGE_DIR / name, shallow=False
            )
        ]
    if stale:
        print(f"stale generated stubs: {', '.join(stale)}; run `make proto`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
