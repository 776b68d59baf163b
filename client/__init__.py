"""The light client side: the command line, the remote client and the in-process twin.

Nothing here imports torch or scikit-learn at import time; ``LocalAdvisor`` imports the compute
stack only when one of its methods runs.

Modules: ``cli`` (the ``loss-advisor`` command), ``advisor_client`` (``AdvisorClient``, over
gRPC), ``local`` (``LocalAdvisor``, in-process, the same methods), ``arrays`` (arrays and
tables to the wire), ``errors`` (gRPC statuses to typed errors), ``loss_options`` (the
``NAME:k=v`` candidate syntax), ``quiet_grpc`` (grpc imported without its core log lines) and
``rpc`` (the generated stubs). Both clients' ``report`` comes from ``advisor.reporting``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AdvisorClient", "DatasetRef", "LocalAdvisor", "UploadedDataset"]


def __getattr__(name: str) -> Any:
    # Lazy so that `client.cli` (which the console script imports) does not pay for grpc.
    if name == "AdvisorClient":
        from client.advisor_client import AdvisorClient

        return AdvisorClient
    if name in ("DatasetRef", "UploadedDataset"):
        from client import arrays

        return getattr(arrays, name)
    if name == "LocalAdvisor":
        from client.local import LocalAdvisor

        return LocalAdvisor
    raise AttributeError(f"module 'client' has no attribute {name!r}")
