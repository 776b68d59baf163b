"""Every catalog loss against PyTorch's own module test inputs (torch's ``module_db``).

These are the shapes and options torch tests its losses with: scalars, no-batch-dim inputs,
spatial inputs, weights, ignore_index, label smoothing, integer-list lengths. Where torch's
inputs hold NaN in a target (its KLDivLoss inputs take the log of negative numbers), the
catalog must refuse with ``NonFiniteError`` instead of returning NaN.
"""

from __future__ import annotations

import pytest
import torch

from advisor import losses
from advisor.errors import NonFiniteError

common_modules = pytest.importorskip("torch.testing._internal.common_modules")

CATALOG = set(losses.names())
CASES = []
for info in common_modules.module_db:
    name = info.module_cls.__name__
    if name in CATALOG:
        for dtype in (torch.float32, torch.float64):
            CASES.append(pytest.param(info, dtype, id=f"{name}-{str(dtype)[6:]}"))


def _has_nan_target(args: tuple) -> bool:
    return any(
        isinstance(a, torch.Tensor) and a.is_floating_point() and bool(torch.isnan(a).any())
        for a in args[1:]
    )


@pytest.mark.parametrize(("info", "dtype"), CASES)
def test_matches_torch_on_its_own_inputs(info, dtype):
    name = info.module_cls.__name__
    samples = info.module_inputs_func(
        info, device="cpu", dtype=dtype, requires_grad=False, training=True
    )
    assert samples, name
    for sample in samples:
        ctor_args = sample.constructor_input.args
        ctor_kwargs = dict(sample.constructor_input.kwargs)
        args = sample.forward_input.args
        assert not ctor_args, f"{name} takes keyword hyperparameters only"
        module = info.module_cls(**ctor_kwargs)
        if _has_nan_target(args):
            with pytest.raises(NonFiniteError):
                losses.compute(name, *args, **ctor_kwargs)
            continue
        expected = module(*args, **sample.forward_input.kwargs)
        got = losses.compute(name, *args, **ctor_kwargs, **sample.forward_input.kwargs)
        tol = (
            {"rtol": 1e-5, "atol": 1e-6}
            if dtype == torch.float32
            else {"rtol": 1e-10, "atol": 1e-12}
        )
        torch.testing.assert_close(
            got, expected, equal_nan=True, **tol, msg=lambda m, s=sample: f"{name} {s.desc}: {m}"
        )


common_nn = pytest.importorskip("torch.testing._internal.common_nn")
CRITERION_CASES = [
    pytest.param(t, id=t["fullname"])
    for t in common_nn.criterion_tests
    if t["fullname"].split("_")[0] in CATALOG
]


def _make(test: dict, kind: str, dtype: torch.dtype):
    fn = test.get(f"{kind}_fn")
    value = fn() if fn is not None else torch.randn(test[f"{kind}_size"], dtype=dtype)
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("test", CRITERION_CASES)
def test_matches_torch_on_its_no_batch_dim_criteria(test):
    torch.manual_seed(0)
    module = test["constructor"]()
    name = type(module).__name__
    dtype = test.get("default_dtype", torch.float32)
    args = (*_make(test, "input", dtype), *_make(test, "target", dtype))
    kwargs = {"reduction": module.reduction}
    for key in ("margin", "delta", "beta", "log_input", "full", "eps", "log_target"):
        if hasattr(module, key) and key in losses.get(name).param_names:
            kwargs[key] = getattr(module, key)
    expected = module(*args)
    got = losses.compute(name, *args, **kwargs)
    torch.testing.assert_close(got, expected.to(got.dtype), rtol=1e-6, atol=1e-7)
