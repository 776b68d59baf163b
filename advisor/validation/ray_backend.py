"""``validate(..., backend="ray")``: the candidate grid fanned out as Ray tasks.

Each task trains a contiguous group of candidates, all folds, as one stacked model on one
device: the local backend's loop restricted by ``members`` (see ``trainer``), which still
draws the whole grid's initial weights and row orders. Why groups of candidates and not of
folds: a candidate's F fold models are one tensor, so splitting folds would change the matrix
shapes and with them the rounding, while splitting candidates changes nothing a candidate
computes. Results therefore equal the local backend's bit for bit, provided each task uses
the driver's intra-op thread count (``threads``, default ``torch.get_num_threads()``) and the
same kind of device: a matrix product's reduction split depends on both.

Tasks run without the driver's attention unless ``progress``, ``budget_s`` or ``cancel`` is
given; then a small coordinator actor hands out epochs, so that on a stop every group ends
at the same epoch and the report stays one consistent partial run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from advisor.cancel import is_set
from advisor.errors import ParameterError
from advisor.validation.data import Prepared
from advisor.validation.heads import head_for
from advisor.validation.trainer import Progress, Trained, on_device, train

POLL_S = 0.1


@dataclass(frozen=True)
class RayBackend:
    """How the grid is split: ``groups`` tasks (default: as many as the cluster can run at
    once, at most one per candidate), each with ``threads`` torch threads (default: the
    driver's, which keeps results identical to ``backend="local"``)."""

    threads: int | None = None
    groups: int | None = None

    def __post_init__(self) -> None:
        for name in ("threads", "groups"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ParameterError(
                    "must be a positive integer or None", field=name, expected=">= 1", got=value
                )

    def device(self, requested: str) -> torch.device:
        """Where tasks train: a GPU per task when asked for, or when "auto" finds GPUs."""
        ray = _ray()
        if requested == "auto":
            gpus = ray.cluster_resources().get("GPU", 0)
            return torch.device("cuda" if gpus > 0 else "cpu")
        # Ray makes the GPU it grants visible as the task's only one.
        return torch.device("cuda" if requested.startswith("cuda") else requested)

    def train(
        self,
        data: Prepared,
        candidates: list[tuple[str, dict[str, Any], dict[str, Any]]],
        *,
        device: torch.device,
        progress: Progress | None,
        cancel: Any,
        budget_s: float | None,
        epochs: int,
        **options: Any,
    ) -> Trained:
        """``candidates``: (name, params as given, params resolved) per trainable candidate."""
        ray = _ray()
        threads = self.threads or torch.get_num_threads()
        gpu = device.type == "cuda"
        groups = _split(len(candidates), self.groups or _capacity(ray, threads, gpu))
        coordinator = None
        if progress is not None or cancel is not None or budget_s is not None:
            coordinator = _coordinator_class(ray).remote(len(groups), budget_s)
        task = ray.remote(_train_group).options(
            num_cpus=min(threads, _largest_node_cpus(ray)), num_gpus=1 if gpu else 0
        )
        data_ref = ray.put(data)
        common = {
            "candidates": candidates,
            "coordinator": coordinator,
            "threads": threads,
            "device": str(device),
            "options": {**options, "epochs": epochs},
        }
        pending = [
            task.remote(data_ref, {**common, "members": members, "group": g})
            for g, members in enumerate(groups)
        ]
        refs = list(pending)
        reported = 0
        while pending:
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL_S)
            if coordinator is None:
                continue
            done = ray.get(coordinator.completed.remote())
            if progress is not None:
                for epoch in range(reported + 1, done + 1):
                    progress(epoch, epochs, f"epoch {epoch}/{epochs}")
                reported = max(reported, done)
            if is_set(cancel):
                coordinator.cancel.remote()
        merged = _merge(ray.get(refs), device)
        if progress is not None:  # the last epochs' reports may still be on their way
            for epoch in range(reported + 1, merged.epochs_completed + 1):
                progress(epoch, epochs, f"epoch {epoch}/{epochs}")
        return merged


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("backend='ray' needs Ray: pip install 'loss-advisor[ray]'") from None
    if not ray.is_initialized():
        ray.init(include_dashboard=False)
    return ray


def _capacity(ray: Any, threads: int, gpu: bool) -> int:
    resources = ray.cluster_resources()
    if gpu:
        return max(1, int(resources.get("GPU", 0)))
    return max(1, int(resources.get("CPU", 1) // threads))


def _largest_node_cpus(ray: Any) -> float:
    """A task asking for more CPUs than any node has would wait forever; oversubscribe instead."""
    nodes = [n.get("Resources", {}).get("CPU", 0) for n in ray.nodes() if n.get("Alive")]
    return max([*nodes, 1])


def _split(k: int, groups: int) -> list[list[int]]:
    """Contiguous, near-equal groups of candidate indices, never an empty one."""
    groups = max(1, min(k, groups))
    size, extra = divmod(k, groups)
    out, start = [], 0
    for g in range(groups):
        end = start + size + (1 if g < extra else 0)
        out.append(list(range(start, end)))
        start = end
    return out


def _train_group(data: Prepared, job: dict[str, Any]) -> Trained:
    """One Ray task: the stacked model of ``job["members"]``, initialised as the whole grid's.

    ``job`` holds the trainable ``candidates`` (name, params given, params resolved), this
    task's ``members`` and ``group`` index, the ``coordinator`` (or None), ``threads``,
    ``device`` and the trainer's ``options``.
    """
    import ray

    torch.set_num_threads(job["threads"])
    dev = torch.device(job["device"])
    candidates, coordinator, group = job["candidates"], job["coordinator"], job["group"]
    heads = [head_for(name, given, data.task, data.n_outputs) for name, given, _ in candidates]
    params = [on_device(resolved, dev) for _, _, resolved in candidates]
    stop = progress = None
    if coordinator is not None:

        def stop(epoch: int) -> str | None:
            return ray.get(coordinator.begin.remote(group, epoch))

        def progress(epoch: int, total: int, message: str) -> None:
            coordinator.finished.remote(group, epoch)

    trained = train(
        data,
        heads,
        params,
        device=dev,
        members=job["members"],
        stop=stop,
        progress=progress,
        budget_s=None,
        cancel=None,
        **job["options"],
    )
    trained.outputs = [o.cpu() for o in trained.outputs]
    trained.probe = None  # the driver reads outputs only; weights would be dead freight
    return trained


def _merge(parts: list[Trained], device: torch.device) -> Trained:
    """Groups are contiguous and in order, so concatenating them restores candidate order."""
    # Predictions are read where the local backend reads them, when the driver has that device.
    here = device if device.type == "cpu" or torch.cuda.is_available() else torch.device("cpu")
    return Trained(
        outputs=[o.to(here) for p in parts for o in p.outputs],
        train_curves=[c for p in parts for c in p.train_curves],
        validation_curves=[c for p in parts for c in p.validation_curves],
        validation_spreads=[c for p in parts for c in p.validation_spreads],
        epochs_completed=parts[0].epochs_completed,
        stop_reason=parts[0].stop_reason,
    )


def _coordinator_class(ray: Any) -> Any:
    @ray.remote(num_cpus=0)
    class Coordinator:
        """Decides, once for all groups, the epoch at which training stops."""

        def __init__(self, groups: int, budget_s: float | None) -> None:
            self.started = time.perf_counter()
            self.budget_s = budget_s
            self.reason: str | None = None
            self.stop_at: int | None = None
            self.begun = [0] * groups
            self.done = [0] * groups

        def cancel(self) -> None:
            self.reason = self.reason or "cancelled"

        def begin(self, group: int, epoch: int) -> str | None:
            """None to train ``epoch``; else why to stop. Once stopping, every group catches up
            to the furthest epoch any group already began, so all end at the same epoch."""
            over = self.budget_s is not None and time.perf_counter() - self.started > self.budget_s
            if self.reason is None and over:
                self.reason = "budget"
            if self.reason is not None and self.stop_at is None:
                self.stop_at = max(self.begun)
            if self.stop_at is not None and epoch >= self.stop_at:
                return self.reason
            self.begun[group] = epoch + 1
            return None

        def finished(self, group: int, epoch: int) -> None:
            self.done[group] = epoch

        def completed(self) -> int:
            """Epochs every group has finished."""
            return min(self.done)

    return Coordinator
