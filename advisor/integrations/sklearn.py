"""scikit-learn estimators that fit a small probe with a catalog loss, and a CV helper.

``advisor.validate`` trains every candidate on every fold at once and is the fast path. These
estimators exist for what it does not do: sit at the end of a ``Pipeline`` after the user's
own preprocessing, take any splitter, scorer or ``GridSearchCV`` over ``loss``. They fit the
same probe as ``validate`` (same heads, initialisation, optimiser and defaults), one model at
a time::

    cross_val_score(make_pipeline(StandardScaler(), LossProbeRegressor("HuberLoss")), X, y)
    cross_val_loss_scores(X, y, advisor.recommend(y, features=X), cv=5)

Features are standardised inside ``fit`` as ``validate`` does; regression outputs start at
the target's median and scale, classifiers' at zero logits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.model_selection import cross_val_score
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from advisor import losses
from advisor.errors import ParameterError
from advisor.validation.core import MODELS
from advisor.validation.data import prepare
from advisor.validation.heads import head_for, target_misfit
from advisor.validation.trainer import _affine, _to_loss_inputs, on_device, train
from advisor.vocabulary import Task

__all__ = ["LossProbeClassifier", "LossProbeRegressor", "cross_val_loss_scores"]


class _LossProbe(BaseEstimator):
    """Shared fit/predict; subclasses say which tasks they fit and how they answer."""

    def __init__(
        self,
        loss: str = "MSELoss",
        params: dict[str, Any] | None = None,
        probe: str = "linear",
        epochs: int = 100,
        lr: float | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        self.loss = loss
        self.params = params
        self.probe = probe
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.seed = seed
        self.device = device

    _numeric_y = False

    def _task(self, y: np.ndarray) -> Task:
        raise NotImplementedError

    def _fit(self, X: Any, y: Any) -> _LossProbe:
        if self.probe not in MODELS:
            raise ParameterError(
                f"unknown probe {self.probe!r}",
                field="probe",
                expected=list(MODELS),
                got=self.probe,
            )
        x, y = _validate(self, X, y, dtype=np.float64, y_numeric=self._numeric_y)
        if x.shape[0] < 2:
            raise ValueError(f"n_samples={x.shape[0]}: a probe needs at least 2 samples")
        task = self._task(y)
        # validate()'s preparation checks the inputs and encodes the targets, with no row held
        # out and every column kept: scikit-learn's conventions leave column choice to the caller.
        data = prepare(x, y, task, 1, self.seed, hold_out=False, screen=False)
        given = dict(self.params or {})
        resolved = losses.resolve_params(losses.get(self.loss), given)
        head = head_for(self.loss, given, task, data.n_outputs)
        misfit = target_misfit(self.loss, given, task, data.y_metric)
        if head is None or misfit:
            raise ParameterError(
                misfit or f"{self.loss} does not train a row-wise probe for a {task.value} task",
                field="loss",
                got=self.loss,
            )
        dev = torch.device(self.device)
        n = x.shape[0]
        trained = train(
            data,
            [head],
            [on_device(resolved, dev)],
            folds=1,
            hidden=MODELS[self.probe],
            epochs=self.epochs,
            batch_size=self.batch_size or min(n, max(256, math.ceil(n / 16))),
            lr=self.lr or (0.05 if self.probe == "linear" else 0.01),
            seed=self.seed,
            device=dev,
            budget_s=None,
            cancel=None,
            progress=None,
        )
        self.mean_, self.scale_ = data.standardised[0]
        # What predict needs, frozen at fit time (set_params may change loss/params later).
        # The head itself holds closures that do not pickle, so predict rebuilds it.
        self.fitted_ = (self.loss, given, task, data.n_outputs)
        # Predictions in float64: float32 products round differently with the number of rows,
        # and scikit-learn rightly expects predict(X[:10]) == predict(X)[:10].
        self.probe_ = trained.probe.double().eval()
        self.affine_ = tuple(t.double() for t in _affine(head, data, dev))
        if data.classes:
            self.classes_ = np.asarray(data.classes)
        self.train_curve_ = trained.train_curves[0]
        return self

    def _predict_raw(self, X: Any) -> np.ndarray:
        """What the task's metrics read: values, P(class 1), or class probability rows."""
        check_is_fitted(self, "probe_")
        x = _validate(self, X, reset=False, dtype=np.float64)
        loss, given, task, n_outputs = self.fitted_
        head = head_for(loss, given, task, n_outputs)
        xs = torch.as_tensor((x - self.mean_) / self.scale_, dtype=torch.float64)
        dev = self.affine_[0].device
        with torch.no_grad():
            raw = self.probe_(xs.to(dev)[None])[0][0][:, : head.width]  # candidate 0, fold 0
            out = head.predict(_to_loss_inputs(raw, self.affine_))
        return out.cpu().double().numpy()


def _validate(estimator: BaseEstimator, *args: Any, **kwargs: Any) -> Any:
    """scikit-learn's own input checks (NaN, sparse, shapes, n_features_in_), so the
    estimators fail the way scikit-learn users expect; the function is new in 1.6."""
    try:
        from sklearn.utils.validation import validate_data
    except ImportError:  # scikit-learn < 1.6
        return estimator._validate_data(*args, **kwargs)
    return validate_data(estimator, *args, **kwargs)


class LossProbeRegressor(RegressorMixin, _LossProbe):
    """A linear or small-MLP regressor trained with a catalog loss (``task``: regression or
    count; count losses such as PoissonNLLLoss predict through their log link)."""

    def __init__(
        self,
        loss: str = "MSELoss",
        params: dict[str, Any] | None = None,
        probe: str = "linear",
        epochs: int = 100,
        lr: float | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        device: str = "cpu",
        task: str = "regression",
    ) -> None:
        super().__init__(loss, params, probe, epochs, lr, batch_size, seed, device)
        self.task = task

    _numeric_y = True

    def _task(self, y: np.ndarray) -> Task:
        if self.task not in ("regression", "count"):
            raise ParameterError(
                "must be 'regression' or 'count'",
                field="task",
                expected=["regression", "count"],
                got=self.task,
            )
        return Task(self.task)

    def fit(self, X: Any, y: Any) -> LossProbeRegressor:
        return self._fit(X, y)

    def predict(self, X: Any) -> np.ndarray:
        return self._predict_raw(X)


class LossProbeClassifier(ClassifierMixin, _LossProbe):
    """A linear or small-MLP classifier trained with a catalog loss; binary when ``y`` holds
    two classes, multiclass otherwise."""

    def __init__(
        self,
        loss: str = "CrossEntropyLoss",
        params: dict[str, Any] | None = None,
        probe: str = "linear",
        epochs: int = 100,
        lr: float | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(loss, params, probe, epochs, lr, batch_size, seed, device)

    def _task(self, y: np.ndarray) -> Task:
        check_classification_targets(y)
        n = len(np.unique(y))
        if n < 2:
            raise ValueError(f"y holds {n} class; a classifier needs at least 2 classes")
        return Task.BINARY if n == 2 else Task.MULTICLASS

    def fit(self, X: Any, y: Any) -> LossProbeClassifier:
        return self._fit(X, y)

    def predict_proba(self, X: Any) -> np.ndarray:
        p = self._predict_raw(X)
        return np.column_stack([1.0 - p, p]) if p.ndim == 1 else p

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)  # first: it raises NotFittedError before fit
        return self.classes_[proba.argmax(axis=1)]


def cross_val_loss_scores(
    X: Any,
    y: Any,
    candidates: Any,
    *,
    cv: Any = 5,
    scoring: Any = None,
    estimator: BaseEstimator | None = None,
    **probe_options: Any,
) -> dict[str, np.ndarray]:
    """Per candidate, its fold scores from ``sklearn.model_selection.cross_val_score``.

    ``candidates``: a ``Recommendation``, or loss names / ``{"loss": ..., "params": ...}``.
    ``estimator``: a ``LossProbeRegressor``/``LossProbeClassifier``, or a ``Pipeline`` ending
    in one (its last step gets each candidate); by default a regressor for numeric ``y`` with
    many distinct values and a classifier otherwise. ``probe_options`` (``epochs``,
    ``probe``...) go to the default estimator. Scores follow scikit-learn's convention:
    greater is better (R² or accuracy unless ``scoring`` says otherwise).
    """
    base = estimator if estimator is not None else _default_estimator(y, probe_options)
    scores: dict[str, np.ndarray] = {}
    for label, loss, params in _labelled(candidates):
        model = clone(base)
        target = model.steps[-1][1] if hasattr(model, "steps") else model
        target.set_params(loss=loss, params=params or None)
        scores[label] = cross_val_score(model, X, y, cv=cv, scoring=scoring)
    return scores


def _default_estimator(y: Any, options: dict[str, Any]) -> BaseEstimator:
    values = np.asarray(y)
    numeric = values.dtype.kind in "fiu"
    many = len(np.unique(values)) > max(20, int(0.05 * len(values)))
    return LossProbeRegressor(**options) if numeric and many else LossProbeClassifier(**options)


def _labelled(candidates: Any) -> list[tuple[str, str, dict[str, Any]]]:
    if hasattr(candidates, "candidates"):  # a Recommendation
        items = [{"loss": c.loss, "params": c.params} for c in candidates.candidates]
    else:
        items = [c if isinstance(c, dict) else {"loss": c} for c in candidates]
    out: list[tuple[str, str, dict[str, Any]]] = []
    for i, item in enumerate(items):
        loss, params = item["loss"], dict(item.get("params") or {})
        label = loss if loss not in [o[1] for o in out] else f"{loss}#{i}"
        out.append((label, loss, params))
    return out
