"""Property tests: finite inputs of any accepted shape profile cleanly; the rest fail typed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import advisor
from advisor import losses
from advisor.errors import EmptyInputError, InvalidInputError, NonFiniteError, ShapeMismatchError
from advisor.schema.profile import DataProfile
from advisor.vocabulary import Task

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
shapes_1d = hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=60)
shapes_2d = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12)
numeric = st.one_of(
    hnp.arrays(np.float64, st.one_of(shapes_1d, shapes_2d), elements=finite),
    hnp.arrays(np.int64, st.one_of(shapes_1d, shapes_2d), elements=st.integers(-50, 50)),
    hnp.arrays(np.int64, shapes_1d, elements=st.integers(0, 1)),
    hnp.arrays(np.float64, shapes_2d, elements=st.sampled_from([0.0, 1.0])),
)


def _check(p: DataProfile) -> None:
    t = p.targets
    assert t.n_used + t.n_missing == t.n
    assert 0.0 <= p.task.confidence <= 1.0
    assert t.n_distinct >= 2
    if t.outlier_share_mz is not None:
        assert 0.0 <= t.outlier_share_mz <= 1.0
    if p.classes is not None:
        assert sum(p.classes.counts) > 0
        assert p.classes.imbalance_ratio >= 1.0
    DataProfile.model_validate_json(p.model_dump_json())


@SETTINGS
@given(numeric)
def test_finite_numeric_targets_profile_or_fail_typed(y):
    try:
        p = advisor.profile(y)
    except InvalidInputError as e:
        assert e.field == "targets"
        assert (
            len(np.unique(y)) < 2 or y.ndim == 2
        )  # constant data, or a degenerate indicator matrix
        return
    _check(p)


@SETTINGS
@given(numeric)
def test_recommendations_on_any_accepted_target_validate(y):
    try:
        rec = advisor.recommend(y)
    except InvalidInputError:
        return
    assert rec.candidates
    for c in rec.candidates:
        losses.resolve_params(losses.get(c.loss), c.params)


@SETTINGS
@given(hnp.arrays(np.float64, shapes_1d, elements=finite), st.data())
def test_missing_values_are_counted_exactly(y, data):
    mask = data.draw(hnp.arrays(np.bool_, y.shape))
    y = y.copy()
    y[mask] = np.nan
    try:
        p = advisor.profile(y)
    except InvalidInputError:
        return
    assert p.targets.n_missing == int(mask.sum())


@SETTINGS
@given(
    hnp.arrays(np.float64, shapes_1d, elements=finite),
    st.sampled_from([np.inf, -np.inf]),
    st.data(),
)
def test_infinities_are_rejected(y, bad, data):
    y = y.copy()
    y[data.draw(st.integers(0, y.size - 1))] = bad
    try:
        advisor.profile(y)
    except NonFiniteError as e:
        assert e.field == "targets"
    else:
        raise AssertionError("an infinite target was accepted")


@SETTINGS
@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=3, max_dims=4, max_side=4), elements=finite)
)
def test_three_or_more_dimensions_are_rejected(y):
    try:
        advisor.profile(y)
    except ShapeMismatchError as e:
        assert e.field == "targets"
    else:
        raise AssertionError("a 3-D target was accepted")


@SETTINGS
@given(st.lists(st.sampled_from(["cat", "dog", "bird", "fish"]), min_size=1, max_size=40))
def test_string_labels(y):
    try:
        p = advisor.profile(y)
    except InvalidInputError:
        assert len(set(y)) == 1
        return
    assert p.task.task.value in ("binary", "multiclass")
    assert sum(p.classes.counts) == len(y)


@SETTINGS
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(10, 40), st.integers(1, 5)), elements=finite),
)
def test_features_of_any_finite_content(x):
    y = np.arange(x.shape[0], dtype=float)
    if all(np.unique(column).size == 1 for column in x.T):
        with pytest.raises(EmptyInputError, match="no usable column"):
            advisor.profile(y, features=x)
        return
    f = advisor.profile(y, features=x).features
    assert f.n_rows == x.shape[0]
    assert f.outlier_share is None or 0.0 <= f.outlier_share <= 1.0


@SETTINGS
@given(
    numeric,
    st.sampled_from([t.value for t in Task]),
    st.sampled_from([None, "robust", "calibrated", "median", "quantile:0.9", "ranking"]),
)
@example(
    np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), "multiclass", None
)  # a one-hot class never present: focal alpha was NaN
def test_any_task_hint_and_goal_still_ranks_valid_losses(y, task, goal):
    try:
        rec = advisor.recommend(y, task=task, goal=goal)
    except InvalidInputError as e:
        assert e.field == "targets"
        return
    assert rec.profile.task.task.value == task
    assert rec.candidates
    for c in rec.candidates:
        losses.resolve_params(losses.get(c.loss), c.params)
        assert all(r for r in c.rationale)


@SETTINGS
@given(
    hnp.arrays(
        np.float64,
        st.one_of(shapes_1d, shapes_2d),
        elements=st.floats(allow_nan=False, allow_infinity=False),
    )
)
@example(np.array([-1.7e308, 1.7e308, 0.0, 0.0]))
@example(np.array([1.0, 1.2e103, 0.0]))
def test_extreme_magnitudes_never_crash_and_stay_json(y):
    try:
        rec = advisor.recommend(y)
    except InvalidInputError as e:
        assert e.field == "targets"
        return
    assert type(rec).model_validate_json(rec.model_dump_json()) == rec
