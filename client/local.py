"""The in-process advisor with the remote client's methods, so a pipeline switches by changing
one constructor. The compute stack is imported inside the methods, on first use.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

from advisor.reporting.assemble import Reports
from client.advisor_client import DEFAULT_SAMPLE, UploadedDataset, candidate_dicts
from client.arrays import DatasetRef, upload_items


class LocalAdvisor(Reports):
    def __init__(self, device: str = "auto", eval_mode: str | None = None) -> None:
        """``eval_mode``: 'eager', 'compiled' or 'auto' for ``evaluate`` (``advisor.evaluation.dispatch``);
        None keeps the process's. A one-shot command runs eager: it would not live to use a compilation."""
        self.device = device
        self.eval_mode = eval_mode
        self._datasets: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self._datasets.clear()

    def __enter__(self) -> LocalAdvisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _array(self, value: Any, field: str) -> Any:
        if value is None:
            return None
        if isinstance(value, DatasetRef):
            from advisor.errors import DatasetNotFoundError, InvalidInputError

            found = self._datasets.get(value.dataset_id)
            if found is None:
                raise DatasetNotFoundError("no such dataset", field=f"{field}.dataset_id")
            if value.name not in found:
                raise InvalidInputError(
                    f"dataset has no array {value.name!r}", field=f"{field}.name"
                )
            return found[value.name]
        return value

    def _features(self, value: Any) -> Any:
        """Features as the library takes them: an uploaded dataset, or a mapping with
        references among its columns, is a table of the stored arrays, as the server reads it."""
        if isinstance(value, UploadedDataset):
            value = {name: value[name] for name in value.names}
        if isinstance(value, Mapping) and any(isinstance(v, DatasetRef) for v in value.values()):
            return {str(name): self._array(v, f"features.{name}") for name, v in value.items()}
        return self._array(value, "features")

    def upload(self, data: Any = None, /, **named: Any) -> UploadedDataset:
        """Holds arrays as the remote client's ``upload`` stores them: a table's columns or
        named arrays, each converted as a table's columns are."""
        items = dict(upload_items(data, named))
        dataset_id = secrets.token_urlsafe(24)
        self._datasets[dataset_id] = items
        size = sum(int(v.nbytes) for v in items.values())
        return UploadedDataset(dataset_id, size, float("inf"), tuple(items))

    def delete(self, dataset: UploadedDataset | str) -> bool:
        dataset_id = dataset if isinstance(dataset, str) else dataset.dataset_id
        return self._datasets.pop(dataset_id, None) is not None

    def profile(
        self,
        targets: Any,
        features: Any = None,
        predictions: Any = None,
        task: str | None = None,
        categorical: list[str] | None = None,
        *,
        cancel: threading.Event | None = None,
    ):
        import advisor

        return advisor.profile(
            self._array(targets, "targets"),
            features=self._features(features),
            predictions=self._array(predictions, "predictions"),
            task=task,
            categorical=categorical,
            cancel=cancel,
        )

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
        cancel: threading.Event | None = None,
    ):
        import advisor

        return advisor.recommend(
            self._array(targets, "targets"),
            features=self._features(features),
            predictions=self._array(predictions, "predictions"),
            task=task,
            goal=goal,
            top_k=top_k,
            categorical=categorical,
            cancel=cancel,
        )

    def evaluate(
        self,
        predictions: Any,
        targets: Any,
        candidates: Any = None,
        *,
        task: str | None = None,
        sample_weight: Any = None,
        diagnostics: bool = True,
        quantile_sample: Any = DEFAULT_SAMPLE,
        cancel: threading.Event | None = None,
    ):
        import advisor
        from advisor.evaluation import dispatch
        from advisor.evaluation.stream import is_stream

        if isinstance(predictions, tuple):
            predictions = tuple(
                self._array(p, f"predictions[{i}]") for i, p in enumerate(predictions)
            )
        elif not is_stream(predictions, targets):  # batches go through as they are
            predictions = self._array(predictions, "predictions")

        with dispatch.mode(self.eval_mode or dispatch.get_mode()):
            return advisor.evaluate(
                predictions,
                self._array(targets, "targets"),
                candidate_dicts(candidates),
                task=task,
                sample_weight=self._array(sample_weight, "sample_weight"),
                device=self.device,
                diagnostics=diagnostics,
                cancel=cancel,
                **({} if quantile_sample is DEFAULT_SAMPLE else {"quantile_sample": quantile_sample}),
            )

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
    ):
        import advisor

        return advisor.validate(
            self._features(features),
            self._array(targets, "targets"),
            candidate_dicts(candidates),
            task=task,
            folds=folds,
            model=model,
            epochs=epochs,
            budget_s=budget_s,
            seed=seed,
            metric=metric,
            progress=progress,
            cancel=cancel,
            device=self.device,
            categorical=categorical,
        )

    def list_losses(self, task: str | None = None) -> list[dict[str, Any]]:
        from advisor import losses

        specs = losses.specs()
        if task:
            specs = [s for s in specs if task in [t.value for t in s.tasks]]
        return [s.describe() for s in specs]

    def benchmark(
        self,
        cases: list[str] | None = None,
        diagnostics: bool | None = False,
        *,
        quick: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> dict[str, Any]:
        """The same reply as the remote ``benchmark``: the device and one dict per row."""
        from advisor.benchmarking import throughput

        rows = throughput.run(
            list(cases) if cases else None,
            diagnostics=diagnostics,
            device=self.device,
            quick=quick,
            progress=progress,
        )
        device = rows[0].device if rows else self.device
        # an in-process run has no server cap to cut it (see AdvisorClient.benchmark)
        return {"device": device, "rows": [row.model_dump() for row in rows], "truncated": False}
