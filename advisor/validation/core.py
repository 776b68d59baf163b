"""``validate``: rules say which loss should work; held-out metrics show which one does."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from scipy import stats

from advisor import losses
from advisor.cancel import cancellable
from advisor.errors import ParameterError
from advisor.ingest.labels import plain
from advisor.recommender.core import recommend_from_profile
from advisor.schema.validation import CandidateValidation, PairedComparison, ValidationReport
from advisor.validation import metrics
from advisor.validation.data import Prepared, prepare
from advisor.validation.heads import head_for, target_misfit
from advisor.validation.trainer import Progress, on_device, train
from advisor.vocabulary import Task

MODELS = {"linear": 0, "mlp": 32}
MAX_EPOCHS = 100_000


def validate(
    features: Any,
    targets: Any,
    candidates: list[Any] | None = None,
    *,
    task: str | Task | None = None,
    folds: int = 5,
    model: str = "linear",
    epochs: int = 100,
    budget_s: float | None = None,
    seed: int = 0,
    metric: str | None = None,
    progress: Progress | None = None,
    cancel: Any = None,
    batch_size: int | None = None,
    lr: float | None = None,
    device: str = "auto",
    backend: str | Any = "local",
    categorical: list[str] | None = None,
) -> ValidationReport:
    """Train a probe per candidate and fold, all at once, and rank candidates by held-out metric.

    ``candidates`` are names or ``{"loss": name, "params": {...}}``; without them the
    recommender's top five are validated. ``cancel`` is a ``threading.Event`` or a callable;
    with it or ``budget_s`` the run may stop early and the report says it is partial. Set
    before training starts (while the data are profiled and prepared, ``advisor.cancel``),
    it raises ``advisor.errors.CancelledError``: there is nothing to report yet.

    ``backend="local"`` trains in this process; ``"ray"`` (or a configured
    ``advisor.validation.ray_backend.RayBackend``) fans candidate groups out as Ray tasks on
    the cluster this process joined, starting a local Ray instance if it joined none. Both
    give the same report under the same seed (see ``ray_backend`` for the conditions).

    ``features`` is any table ``advisor.profile`` reads (text categories, missing cells,
    datetimes); each fold's probes see it prepared from that fold's training rows only
    (``report.preparation`` says how). Rows whose target is missing are left out and counted.
    """
    started = time.perf_counter()
    _check_options(model, epochs, budget_s, batch_size, lr)
    runner = _backend(backend)
    import advisor

    profile = advisor.profile(
        targets,
        features=features,
        task=_task(task) if task is not None else None,
        categorical=categorical,
        cancel=cancel,
    )
    task_enum = profile.task.task
    recommendation = recommend_from_profile(profile, top_k=5)
    if candidates is None:
        candidates = [{"loss": c.loss, "params": c.params} for c in recommendation.candidates]
    parsed = _parse_candidates(candidates)
    primary, greater = (
        metrics.primary_metric(task_enum, metric)
        if task_enum in metrics.METRICS
        else (metric or "", False)
    )
    with cancellable(cancel):  # reading and encoding a million rows per fold takes seconds
        data = prepare(features, targets, task_enum, folds, seed, categorical=categorical)
    dev = (
        runner.device(device)
        if runner is not None
        else torch.device(
            "cuda"
            if device == "auto" and torch.cuda.is_available()
            else ("cpu" if device == "auto" else device)
        )
    )

    heads = [head_for(name, params, task_enum, data.n_outputs) for name, params, _ in parsed]
    misfits = [target_misfit(name, params, task_enum, data.y_metric) for name, params, _ in parsed]
    heads = [None if why else h for h, why in zip(heads, misfits, strict=True)]
    active = [i for i, h in enumerate(heads) if h is not None]
    n = data.x.shape[1]  # (F, n, d)
    trained = None
    if active:
        options = {
            "folds": folds,
            "hidden": MODELS[model],
            "epochs": epochs,
            "batch_size": batch_size or min(n, max(256, math.ceil(n / 16))),
            "lr": lr or (0.05 if model == "linear" else 0.01),
            "seed": seed,
            "device": dev,
            "budget_s": budget_s,
            "cancel": cancel,
            "progress": progress,
        }
        if runner is None:
            trained = train(
                data,
                [heads[i] for i in active],
                [on_device(parsed[i][2], dev) for i in active],
                **options,
            )
        else:
            trained = runner.train(data, [parsed[i] for i in active], **options)
    labels = _labels(parsed)
    results: list[CandidateValidation] = []
    notes: list[str] = []
    if data.n_excluded:
        notes.append(f"{data.n_excluded} rows with a missing target were left out of every fold")
    for i, (name, params, _) in enumerate(parsed):
        if heads[i] is None:
            reason = misfits[i] or f"{name} does not train a row-wise probe for a {task_enum.value} task"
            results.append(
                CandidateValidation(
                    loss=name, label=labels[i], params=params, skipped=True, reason=reason
                )
            )
            continue
        j = active.index(i)
        fold_metrics = _fold_metrics(data, heads[i], trained.outputs[j], folds, notes, labels[i])
        results.append(
            CandidateValidation(
                loss=name,
                label=labels[i],
                params=params,
                fold_metrics=fold_metrics,
                mean={m: _nanmean([fm[m] for fm in fold_metrics]) for m in fold_metrics[0]},
                std={m: _nanstd([fm[m] for fm in fold_metrics]) for m in fold_metrics[0]},
                train_curve=trained.train_curves[j],
                validation_curve=trained.validation_curves[j],
                validation_curve_std=trained.validation_spreads[j],
            )
        )
    ranking = _rank(results, primary, greater)
    results = _with_paired(results, ranking, primary, greater)
    recommended = recommendation.best.loss if recommendation.candidates else None
    agrees, why = _agreement(results, ranking, recommended, primary)
    completed = trained.epochs_completed if trained else 0
    stop = trained.stop_reason if trained else "completed"
    return ValidationReport(
        task=task_enum.value,
        metric=primary,
        greater_is_better=greater,
        model=model,
        folds=folds,
        seed=seed,
        epochs_requested=epochs,
        epochs_completed=completed,
        partial=stop != "completed",
        stop_reason=stop,
        elapsed_s=time.perf_counter() - started,
        device=str(dev),
        results=results,
        ranking=ranking,
        recommended=recommended,
        agrees_with_recommendation=agrees,
        disagreement=why,
        notes=notes,
        preparation=data.preparation,
        n_excluded=data.n_excluded,
        classes=[plain(c) for c in data.classes] if data.classes else None,
    )


def _check_options(
    model: str, epochs: int, budget_s: float | None, batch_size: int | None, lr: float | None
) -> None:
    if model not in MODELS:
        raise ParameterError(
            f"unknown probe {model!r}", field="model", expected=list(MODELS), got=model
        )
    if not isinstance(epochs, int) or isinstance(epochs, bool) or not 1 <= epochs <= MAX_EPOCHS:
        raise ParameterError(
            f"must be an integer in [1, {MAX_EPOCHS}]",
            field="epochs",
            expected=f"[1, {MAX_EPOCHS}]",
            got=epochs,
        )
    if budget_s is not None and not (isinstance(budget_s, (int, float)) and budget_s > 0):
        raise ParameterError(
            "must be a positive number of seconds", field="budget_s", expected="> 0", got=budget_s
        )
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ParameterError(
            "must be a positive integer", field="batch_size", expected=">= 1", got=batch_size
        )
    if lr is not None and not (isinstance(lr, (int, float)) and 0 < lr <= 10):
        raise ParameterError("must lie in (0, 10]", field="lr", expected="(0, 10]", got=lr)


def _backend(backend: str | Any) -> Any:
    """None for in-process training; otherwise an object with ``device`` and ``train``."""
    if backend == "local":
        return None
    if backend == "ray":
        from advisor.validation.ray_backend import RayBackend

        return RayBackend()
    if hasattr(backend, "train") and hasattr(backend, "device"):
        return backend
    raise ParameterError(
        f"unknown backend {backend!r}", field="backend", expected=["local", "ray"], got=backend
    )


def _task(task: str | Task) -> Task:
    try:
        return Task(task)
    except ValueError:
        raise ParameterError(
            f"unknown task {task!r}", field="task", expected=[t.value for t in Task], got=task
        ) from None


def _parse_candidates(candidates: list[Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, params as given, params resolved against the catalog) per candidate."""
    if not candidates:
        raise ParameterError("is empty", field="candidates", expected="at least one loss", got=[])
    parsed = []
    for i, c in enumerate(candidates):
        if isinstance(c, str):
            name, params = c, {}
        elif isinstance(c, dict) and "loss" in c:
            name, params = c["loss"], dict(c.get("params") or {})
        else:
            raise ParameterError(
                "must be a loss name or {'loss': name, 'params': {...}}",
                field=f"candidates[{i}]",
                got=repr(c)[:60],
            )
        try:
            spec = losses.get(name)
            resolved = losses.resolve_params(spec, params)
        except (ParameterError, LookupError) as exc:
            exc.field = f"candidates[{i}].{exc.field}"
            raise
        parsed.append((name, params, resolved))
    return parsed


def _labels(parsed: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> list[str]:
    names = [name for name, _, _ in parsed]
    labels = []
    for i, (name, params, _) in enumerate(parsed):
        label = (
            name
            if names.count(name) == 1
            else f"{name}({', '.join(f'{k}={v}' for k, v in params.items())})"
        )
        labels.append(label if label not in labels else f"{label}#{i}")
    return labels


def _fold_metrics(
    data: Prepared, head: Any, outputs: torch.Tensor, folds: int, notes: list[str], label: str
) -> list[dict[str, float]]:
    out = []
    fold = data.fold.numpy()
    for f in range(folds):
        rows = np.flatnonzero(fold == f)
        pred = (
            head.predict(outputs[f, torch.as_tensor(rows, device=outputs.device)])
            .cpu()
            .double()
            .numpy()
        )
        if not np.isfinite(pred).all():
            notes.append(
                f"{label}: non-finite predictions on fold {f}; its metrics are NaN (the probe diverged)"
            )
            out.append(dict.fromkeys(metrics.METRICS[data.task], float("nan")))
            continue
        out.append(metrics.score(data.task, data.y_metric[rows], pred))
    return out


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _nanstd(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0


def _rank(results: list[CandidateValidation], metric: str, greater: bool) -> list[str]:
    done = [r for r in results if not r.skipped]

    def key(r: CandidateValidation) -> tuple[bool, float]:
        value = r.mean.get(metric, float("nan"))
        return (not math.isfinite(value), -value if greater else value)

    return [r.label for r in sorted(done, key=key)]


def _with_paired(
    results: list[CandidateValidation], ranking: list[str], metric: str, greater: bool
) -> list[CandidateValidation]:
    if not ranking:
        return results
    best = next(r for r in results if r.label == ranking[0])
    best_scores = np.array([fm[metric] for fm in best.fold_metrics])
    out = []
    for r in results:
        if r.skipped:
            out.append(r)
            continue
        scores = np.array([fm[metric] for fm in r.fold_metrics])
        diff = scores - best_scores
        p = None
        if len(diff) > 1 and np.isfinite(diff).all():
            p = (
                1.0
                if np.allclose(diff, 0.0)
                else float(stats.ttest_rel(scores, best_scores).pvalue)
            )
        better_or_equal = int(np.sum(diff >= 0 if greater else diff <= 0))
        paired = PairedComparison(
            against=best.label,
            mean_difference=float(np.nanmean(diff)),
            std_difference=float(np.nanstd(diff, ddof=1)) if len(diff) > 1 else 0.0,
            p_value=p,
            folds_better_or_equal=better_or_equal,
            within_noise=p is None or p >= 0.05,
        )
        out.append(r.model_copy(update={"paired": paired}))
    return out


def _agreement(
    results: list[CandidateValidation], ranking: list[str], recommended: str | None, metric: str
) -> tuple[bool | None, list[str]]:
    if recommended is None or not ranking:
        return None, []
    best = next(r for r in results if r.label == ranking[0])
    if best.loss == recommended:
        return True, []
    why = []
    rec = next((r for r in results if r.loss == recommended and not r.skipped), None)
    if rec is None:
        why.append(f"{recommended} was not among the validated candidates")
        return False, why
    if rec.paired is not None and rec.paired.within_noise:
        p = "n/a" if rec.paired.p_value is None else f"{rec.paired.p_value:.2g}"
        why.append(
            f"{recommended} trails {best.label} by {abs(rec.paired.mean_difference):.3g} {metric}, within fold noise "
            f"(paired t-test p = {p}): the data does not separate them"
        )
    else:
        why.append(
            f"{best.label} beats {recommended} on held-out {metric} consistently across folds"
        )
    why.append(
        "the recommendation reads the target distribution; validation also sees how a small probe model fits the "
        "features, and the metric chosen may favour a different loss than the rule's goal"
    )
    return False, why
