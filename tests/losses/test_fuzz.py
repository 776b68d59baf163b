"""Property: whatever arrays and hyperparameters come in, ``compute`` returns a tensor or
raises an ``advisor.errors`` exception naming a field; never a raw torch or Python error."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from advisor import losses
from advisor.errors import AdvisorError

# A longer run: FUZZ_EXAMPLES=5000 pytest tests/losses/test_fuzz.py
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "400"))
DTYPES = st.sampled_from([np.float32, np.float64, np.int64, np.bool_])
ELEMENTS = {
    np.float32: st.floats(-5, 5, width=32),
    np.float64: st.one_of(
        st.floats(-5, 5), st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0])
    ),
    np.int64: st.integers(-2, 6),
    np.bool_: st.booleans(),
}


@st.composite
def array(draw, shape=None):
    dtype = draw(DTYPES)
    shape = (
        shape
        if shape is not None
        else draw(array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    )
    return draw(arrays(dtype, shape, elements=ELEMENTS[dtype]))


@st.composite
def param_value(draw, p):
    if p.kind == "choice":
        return draw(st.one_of(st.sampled_from(p.choices), st.text(max_size=3)))
    if p.kind == "bool":
        return draw(st.one_of(st.booleans(), st.integers(0, 2)))
    if p.kind in ("float", "int"):
        return draw(st.one_of(st.floats(-3, 3), st.integers(-3, 3), st.just(float("nan"))))
    if p.kind == "floats":
        return draw(st.lists(st.floats(-0.5, 1.5), max_size=3))
    if p.kind == "tensor":
        return draw(st.one_of(st.none(), st.lists(st.floats(-1, 3), max_size=5)))
    return None


@st.composite
def call(draw):
    spec = draw(st.sampled_from(losses.specs()))
    shape = draw(st.one_of(st.none(), array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
    inputs = [draw(array(shape if draw(st.booleans()) else None)) for _ in spec.inputs]
    params = {}
    for p in spec.params:
        if draw(st.integers(0, 3)) == 0:
            params[p.name] = draw(param_value(p))
    return spec.name, inputs, params


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call())
def test_compute_returns_or_raises_typed(case):
    name, inputs, params = case
    try:
        out = losses.compute(name, *inputs, **params)
    except AdvisorError as exc:
        assert exc.field
        assert str(exc).startswith(exc.field)
        return
    assert out.dtype.is_floating_point
