"""``advisor.evaluate`` on PyTorch's own loss test inputs (torch's ``module_db``).

The catalog alone is checked on them in ``tests/losses``; here the same inputs go through the
fused engine: its input normalisation (scalars, no-batch-dim, spatial and probability targets,
ignore_index, weights), its kernels and its diagnostics. Values must equal the torch module's
within the issue's tolerances; diagnostics must equal what autograd gives for the module's
reduction='none' losses. Eager only (the autouse fixture): the compiled kernels run the same
code and are checked apart in ``test_compiled``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import advisor
from advisor import losses
from advisor.errors import NonFiniteError
from advisor.evaluation.inputs import TARGET_INPUTS

common_modules = pytest.importorskip("torch.testing._internal.common_modules")

CATALOG = set(losses.names())
CASES = [
    pytest.param(info, dtype, id=f"{info.module_cls.__name__}-{str(dtype)[6:]}")
    for info in common_modules.module_db
    if info.module_cls.__name__ in CATALOG
    for dtype in (torch.float32, torch.float64)
]
#: (relative, absolute) tolerance of values and diagnostics per dtype.
TOL = {torch.float32: (1e-5, 1e-6), torch.float64: (1e-10, 1e-12)}


def _samples(info, dtype):
    torch.manual_seed(0)
    samples = info.module_inputs_func(info, device="cpu", dtype=dtype, requires_grad=False, training=True)
    assert samples, info.module_cls.__name__
    return samples


def _split(name: str, args: tuple) -> tuple[tuple, tuple]:
    """torch's positional inputs as ``evaluate``'s (predictions, targets), by the catalog's input roles."""
    spec = losses.get(name)
    assert len(spec.inputs) == len(args), f"{name} takes {len(spec.inputs)} inputs, torch gave {len(args)}"
    preds = tuple(a for i, a in zip(spec.inputs, args, strict=True) if i.name not in TARGET_INPUTS)
    targs = tuple(a for i, a in zip(spec.inputs, args, strict=True) if i.name in TARGET_INPUTS)
    return preds if len(preds) > 1 else preds[0], targs if len(targs) > 1 else targs[0]


def _has_nan(args) -> bool:
    return any(isinstance(t, torch.Tensor) and t.is_floating_point() and bool(torch.isnan(t).any()) for t in args)


def _per_sample(info, kwargs, args) -> tuple[torch.Tensor, torch.Tensor]:
    """The module's reduction='none' losses and each sample's gradient magnitude: the L2 norm
    over all its prediction entries (a row of logits, both vectors of a pair, mean and variance)."""
    name = info.module_cls.__name__
    spec = losses.get(name)
    args = list(args)
    first = next(a for i, a in zip(spec.inputs, args, strict=True) if i.name not in TARGET_INPUTS)
    leaves = []
    for j, inp in enumerate(spec.inputs):
        if inp.name not in TARGET_INPUTS:
            a = args[j].detach()
            if a.shape != first.shape and a.shape == first.shape[:-1]:
                a = a.unsqueeze(-1)  # GaussianNLLLoss's one variance per row
            # a broadcast entry (one variance for all rows) differentiated per sample, not summed over them
            args[j] = a.expand(first.shape).clone().requires_grad_(True) if a.dim() == first.dim() else a.clone().requires_grad_(True)
            leaves.append(args[j])
    none = info.module_cls(**{**kwargs, "reduction": "none"})(*args)
    squares = torch.zeros(none.shape, dtype=torch.float64)
    for g in torch.autograd.grad(none.sum(), leaves):
        g2 = g.double() ** 2
        if none.dim() == 0:
            g2 = g2.sum()
        elif name == "CTCLoss":
            g2 = g2.sum(dim=(0, 2))  # (T, N, C) log-probabilities, one sample per batch column
        elif g2.dim() > none.dim():
            g2 = g2.sum(dim=1)  # the class (or feature) dimension
        squares = squares + g2
    return none.detach().reshape(-1).double(), squares.sqrt().reshape(-1)


@pytest.mark.parametrize(("info", "dtype"), CASES)
def test_values_match_torch_on_its_own_inputs(info, dtype):
    name = info.module_cls.__name__
    rel, abs_ = TOL[dtype]
    for sample in _samples(info, dtype):
        kwargs = dict(sample.constructor_input.kwargs)
        args = sample.forward_input.args
        x, y = _split(name, args)
        cand = [{"loss": name, "params": kwargs}]
        if _has_nan(args):
            with pytest.raises(NonFiniteError):
                advisor.evaluate(x, y, cand, diagnostics=False)
            continue
        expected = info.module_cls(**kwargs)(*args).double()
        res = advisor.evaluate(x, y, cand, diagnostics=False).results[0]
        assert not res.skipped, f"{name} {sample.desc}: {res.reason}"
        got = torch.tensor(res.value if res.value is not None else res.values, dtype=torch.float64)
        torch.testing.assert_close(
            got, expected.reshape(got.shape), rtol=rel, atol=abs_, equal_nan=True,
            msg=lambda m, s=sample: f"{name} {s.desc}: {m}",
        )


@pytest.mark.parametrize(("info", "dtype"), CASES)
def test_diagnostics_match_autograd_on_torch_inputs(info, dtype):
    name = info.module_cls.__name__
    rel = 1e-4 if dtype == torch.float32 else 1e-9  # reductions of a few thousand terms in other orders
    checked = 0
    for sample in _samples(info, dtype):
        kwargs = dict(sample.constructor_input.kwargs)
        args = sample.forward_input.args
        if _has_nan(args):
            continue
        x, y = _split(name, args)
        losses_ref, grads_ref = _per_sample(info, kwargs, args)
        finite = torch.isfinite(losses_ref)
        if not bool(finite.all()) or not bool(torch.isfinite(grads_ref).all()):
            continue  # torch's random KLDiv targets can be negative: no finite statistics to compare
        d = advisor.evaluate(x, y, [{"loss": name, "params": kwargs}]).results[0].diagnostics
        want = {
            "n_samples": losses_ref.numel(),
            "p50": float(np.quantile(losses_ref.numpy(), 0.5, method="lower")),
            "max": float(losses_ref.max()),
            "grad_mean": float(grads_ref.mean()),
            "grad_max": float(grads_ref.max()),
            "zero_grad_fraction": float((grads_ref == 0).double().mean()),
        }
        got = {
            "n_samples": d.n_samples,
            "p50": d.loss_quantiles.p50,
            "max": d.loss_quantiles.max,
            "grad_mean": d.grad_mean,
            "grad_max": d.grad_max,
            "zero_grad_fraction": d.zero_grad_fraction,
        }
        for key, value in want.items():
            assert math.isclose(got[key], value, rel_tol=rel, abs_tol=1e-6), f"{name} {sample.desc} {key}: {got[key]} != {value}"
        assert d.nonfinite_losses == 0 and d.nonfinite_grads == 0, f"{name} {sample.desc}"
        checked += 1
    assert checked, f"{name}: no sample of torch's was compared"
