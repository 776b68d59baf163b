"""The remote advisor: the library's methods and models, computed by a LossAdvisor server.

Only grpc, numpy, pydantic and the light ``advisor.schema`` / ``advisor.errors`` modules are
imported, so a notebook or a training job can ask a GPU box for advice without torch or
scikit-learn installed locally. grpc comes through ``client.quiet_grpc``, so grpc core's own
log lines stay off the caller's stderr.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from advisor.errors import InvalidInputError
from advisor.reporting.assemble import Reports
from advisor.schema.evaluation import EvaluationReport, check_quantile_sample
from advisor.schema.profile import DataProfile
from advisor.schema.recommendation import Recommendation
from advisor.schema.validation import ValidationReport
from client import arrays
from client.arrays import DatasetRef, UploadedDataset
from client.errors import CancelledError, from_rpc_error
from client.quiet_grpc import grpc
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc

#: Arrays larger than this travel by UploadDataset instead of inline (text measured by what it
#: would weigh inline: its strings, not its codes).
STREAM_THRESHOLD = 4 * 1024 * 1024
CHUNK = 1024 * 1024
RETRIES = 4
MAX_MESSAGE = 256 * 1024 * 1024

#: ``quantile_sample`` left to the server's default: None already means exact.
DEFAULT_SAMPLE: Any = object()


def sample_field(m: Any) -> dict[str, Any]:
    """The Evaluate request's ``quantile_sample`` field: absent for the default, 0 for exact."""
    if m is DEFAULT_SAMPLE:
        return {}
    m = check_quantile_sample(m)
    return {"quantile_sample": 0 if m is None else m}


def candidate_dicts(candidates: Any) -> list[dict[str, Any]] | None:
    """Names, ``{"loss", "params"}`` mappings or objects with ``.loss``/``.params``."""
    if candidates is None:
        return None
    if isinstance(candidates, str):
        candidates = [candidates]
    out = []
    for c in candidates:
        if isinstance(c, str):
            out.append({"loss": c, "params": {}})
        elif isinstance(c, Mapping):
            out.append({"loss": c["loss"], "params": dict(c.get("params") or {})})
        else:
            out.append({"loss": c.loss, "params": dict(getattr(c, "params", {}) or {})})
    return out


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__} as a hyperparameter")


def _candidate_pbs(candidates: Any) -> list[pb.Candidate]:
    out = []
    for c in candidate_dicts(candidates) or []:
        message = pb.Candidate(loss=c["loss"])
        message.params.update(json.loads(json.dumps(c["params"], default=_jsonable)))
        out.append(message)
    return out


class _Request:
    """Converts a request's arrays; the large ones go up in one dataset, deleted afterwards."""

    def __init__(self, client: AdvisorClient) -> None:
        self.client = client
        # One dataset per ``refs`` call that streamed something (a request's targets and its
        # features table are converted apart); every one is deleted afterwards.
        self.uploaded: list[UploadedDataset] = []

    def features(self, features: Any) -> dict[str, Any]:
        """The request's features: a ``features_table`` for tables, else a ``features`` array.

        An ``UploadedDataset`` or a mapping of ``DatasetRef``s (alone or among arrays) is a
        table too, its reference columns sent as references: a table uploaded once is then
        sent by every later request without its values.
        """
        columns = arrays.table_columns(features) if features is not None else None
        if columns is None:
            return self.refs(features=features)
        refs = self.refs(**{f"features.{name}": values for name, values in columns})
        table = pb.Table(
            columns=[pb.Column(name=name, values=refs[f"features.{name}"]) for name, _ in columns]
        )
        return {"features_table": table}

    def refs(self, **values: Any) -> dict[str, pb.ArrayRef | None]:
        out: dict[str, pb.ArrayRef | None] = {}
        pending: dict[str, arrays.UploadForm] = {}
        for field, value in values.items():
            if value is None:
                out[field] = None
            elif isinstance(value, DatasetRef):
                out[field] = pb.ArrayRef(
                    dataset=pb.DatasetArray(dataset_id=value.dataset_id, name=value.name)
                )
            elif isinstance(value, UploadedDataset):
                raise InvalidInputError(
                    "is a whole uploaded dataset; name one of its arrays, as dataset[name]",
                    field=field,
                    expected=f"one of {', '.join(value.names)}",
                    got="UploadedDataset",
                )
            else:
                array = arrays.to_numpy(value, field)
                form = arrays.upload_form(array, field)
                if form.inline_nbytes > self.client.stream_threshold:
                    pending[field] = form
                else:
                    out[field] = pb.ArrayRef(inline=arrays.encode(array, field))
        if pending:
            uploaded = self.client._upload(pending)
            self.uploaded.append(uploaded)
            for field in pending:
                out[field] = pb.ArrayRef(
                    dataset=pb.DatasetArray(dataset_id=uploaded.dataset_id, name=field)
                )
        return out

    def __enter__(self) -> _Request:
        return self

    def __exit__(self, *exc: object) -> None:
        for uploaded in self.uploaded:
            # Best effort: the store's TTL reclaims it anyway.
            with contextlib.suppress(Exception):
                self.client.delete(uploaded)


class AdvisorClient(Reports):
    """Same methods and return types as :class:`client.LocalAdvisor`, over gRPC.

    ``tls``: ``None`` for plaintext, ``True`` for the system roots, a path to a PEM CA bundle,
    or ready ``grpc.ChannelCredentials``. ``timeout`` is each call's deadline in seconds.
    """

    def __init__(
        self,
        target: str,
        token: str | None = None,
        tls: bool | str | Path | grpc.ChannelCredentials | None = None,
        timeout: float | None = 300.0,
        *,
        stream_threshold: int = STREAM_THRESHOLD,
        retries: int = RETRIES,
        options: list[tuple[str, Any]] | None = None,
    ) -> None:
        opts = [
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
            *(options or []),
        ]
        if tls is None or tls is False:
            self._channel = grpc.insecure_channel(target, options=opts)
        else:
            if isinstance(tls, grpc.ChannelCredentials):
                creds = tls
            elif tls is True:
                creds = grpc.ssl_channel_credentials()
            else:
                creds = grpc.ssl_channel_credentials(Path(tls).read_bytes())
            self._channel = grpc.secure_channel(target, creds, options=opts)
        self._stub = pb_grpc.LossAdvisorStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.timeout = timeout
        self.stream_threshold = stream_threshold
        self.retries = retries

    # ------------------------------------------------------------------ plumbing

    def _call(
        self, method: Callable, make_request: Callable[[], Any], timeout: float | None = None
    ) -> Any:
        """Retry UNAVAILABLE with jittered exponential backoff; map other failures to errors."""
        delay = 0.1
        for attempt in range(self.retries + 1):
            try:
                return method(
                    make_request(), timeout=timeout or self.timeout, metadata=self._metadata
                )
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.UNAVAILABLE and attempt < self.retries:
                    time.sleep(delay * (1 + random.random()))
                    delay *= 2
                    continue
                raise from_rpc_error(err) from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> AdvisorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ datasets

    def upload(
        self,
        data: Any = None,
        /,
        *,
        timeout: float | None = None,
        **named: Any,
    ) -> UploadedDataset:
        """Store arrays on the server once; use ``result["name"]`` in later requests.

        ``data`` is a table (a DataFrame, an Arrow table, a structured array) or a mapping of
        names to arrays, stored one array per column, converted as a table's columns are
        inline; ``named`` adds arrays by keyword. ``features=result`` then sends the table as
        references. Text travels as its distinct labels in the header and int32 codes in the
        chunks, so a long text column is limited by the store, not by the message size.
        """
        forms = {
            name: arrays.upload_form(values, name)
            for name, values in arrays.upload_items(data, named)
        }
        return self._upload(forms, timeout)

    def _upload(
        self, forms: dict[str, arrays.UploadForm], timeout: float | None = None
    ) -> UploadedDataset:
        def chunks() -> Iterator[pb.UploadChunk]:
            header = pb.UploadHeader()
            for name, form in forms.items():
                entry = header.arrays.add(name=name, dtype=form.dtype, shape=form.shape)
                if form.labels is not None:
                    entry.labels.extend(form.labels)
            yield pb.UploadChunk(header=header)
            for form in forms.values():
                view = memoryview(form.payload).cast("B")
                for start in range(0, len(view), CHUNK):
                    yield pb.UploadChunk(data=bytes(view[start : start + CHUNK]))

        info = self._call(self._stub.UploadDataset, chunks, timeout)
        return UploadedDataset(info.dataset_id, info.bytes, info.ttl_s, tuple(forms))

    def delete(self, dataset: UploadedDataset | str, *, timeout: float | None = None) -> bool:
        dataset_id = dataset if isinstance(dataset, str) else dataset.dataset_id
        return self._call(
            self._stub.DeleteDataset,
            lambda: pb.DeleteDatasetRequest(dataset_id=dataset_id),
            timeout,
        ).deleted

    # ------------------------------------------------------------------ the advisor

    def profile(
        self,
        targets: Any,
        features: Any = None,
        predictions: Any = None,
        task: str | None = None,
        categorical: list[str] | None = None,
        *,
        timeout: float | None = None,
    ) -> DataProfile:
        with _Request(self) as r:
            refs = {**r.refs(targets=targets, predictions=predictions), **r.features(features)}
            req = pb.ProfileRequest(**refs, task=_text(task), categorical=categorical or [])
            reply = self._call(self._stub.Profile, lambda: req, timeout)
        return DataProfile.model_validate_json(reply.profile_json)

    def recommend(
        self,
        targets: Any,
        features: Any = None,
        predictions: Any = None,
        task: str | None = None,
        goal: str | None = None,
        top_k: int = 5,
        categorical: list[str] | None = None,
        *,
        timeout: float | None = None,
    ) -> Recommendation:
        with _Request(self) as r:
            refs = {**r.refs(targets=targets, predictions=predictions), **r.features(features)}
            req = pb.RecommendRequest(
                **refs,
                task=_text(task),
                goal=_text(goal),
                top_k=top_k,
                categorical=categorical or [],
            )
            reply = self._call(self._stub.Recommend, lambda: req, timeout)
        return Recommendation.model_validate_json(reply.recommendation_json)

    def evaluate(
        self,
        predictions: Any,
        targets: Any,
        candidates: Any = None,
        *,
        task: str | None = None,
        sample_weight: Any = None,
        diagnostics: bool = True,
        quantile_sample: int | object | None = DEFAULT_SAMPLE,
        timeout: float | None = None,
    ) -> EvaluationReport:
        """``predictions`` as a tuple of arrays feeds pair and triplet losses.

        ``quantile_sample``: rows sampled for the loss quantiles (the server's default unless
        given; None for exact order statistics), as ``advisor.evaluate`` takes it.
        """
        many = predictions if isinstance(predictions, tuple) else (predictions,)
        with _Request(self) as r:
            names = [f"predictions{i}" if i else "predictions" for i in range(len(many))]
            refs = r.refs(
                **dict(zip(names, many, strict=True)), targets=targets, sample_weight=sample_weight
            )
            req = pb.EvaluateRequest(
                predictions=[refs[n] for n in names],
                targets=refs["targets"],
                candidates=_candidate_pbs(candidates),
                task=_text(task),
                sample_weight=refs["sample_weight"],
                diagnostics=diagnostics,
                **sample_field(quantile_sample),
            )
            reply = self._call(self._stub.Evaluate, lambda: req, timeout)
        return EvaluationReport.model_validate_json(reply.report_json)

    def validate(
        self,
        features: Any,
        targets: Any,
        candidates: Any = None,
        *,
        task: str | None = None,
        folds: int = 5,
        model: str = "linear",
        epochs: int = 100,
        budget_s: float | None = None,
        seed: int = 0,
        metric: str | None = None,
        progress: Callable[[int, int, str], None] | None = None,
        cancel: threading.Event | None = None,
        categorical: list[str] | None = None,
        timeout: float | None = None,
    ) -> ValidationReport:
        """Streams progress to ``progress(step, total, message)``; setting ``cancel`` stops the
        server's training at the next progress message and raises ``CancelledError``."""
        with _Request(self) as r:
            req = pb.ValidateRequest(
                **r.refs(targets=targets),
                **r.features(features),
                candidates=_candidate_pbs(candidates),
                task=_text(task),
                folds=folds,
                model=model,
                epochs=epochs,
                budget_s=budget_s or 0.0,
                seed=seed,
                metric=_text(metric),
                categorical=categorical or [],
            )
            call = self._call(self._stub.Validate, lambda: req, timeout)
            try:
                for event in call:
                    if cancel is not None and cancel.is_set():
                        call.cancel()
                        raise CancelledError(grpc.StatusCode.CANCELLED, "cancelled by caller")
                    if event.WhichOneof("event") == "progress":
                        if progress is not None:
                            p = event.progress
                            progress(p.step, p.total, p.message)
                    else:
                        return ValidationReport.model_validate_json(event.report_json)
            except grpc.RpcError as err:
                raise from_rpc_error(err) from None
        raise CancelledError(grpc.StatusCode.CANCELLED, "the stream ended without a report")

    def list_losses(
        self, task: str | None = None, *, timeout: float | None = None
    ) -> list[dict[str, Any]]:
        reply = self._call(
            self._stub.ListLosses, lambda: pb.ListLossesRequest(task=_text(task)), timeout
        )
        return [json.loads(loss.spec_json) for loss in reply.losses]

    def benchmark(
        self,
        cases: list[str] | None = None,
        diagnostics: bool = False,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        reply = self._call(
            self._stub.Benchmark,
            lambda: pb.BenchmarkRequest(cases=cases or [], diagnostics=diagnostics),
            timeout,
        )
        # truncated: the server's --max-benchmark-s ended the run; rows are those finished
        return {"device": reply.device, "rows": json.loads(reply.rows_json), "truncated": reply.truncated}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))
