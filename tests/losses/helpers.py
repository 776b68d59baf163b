"""Shared comparison of a catalog loss against a reference: values and gradients."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

DTYPES = (torch.float32, torch.float64)
REDUCTIONS = ("none", "mean", "sum")
TOLERANCE = {
    torch.float32: {"rtol": 1e-5, "atol": 1e-6},
    torch.float64: {"rtol": 1e-10, "atol": 1e-12},
}


def cast(inputs: Sequence, dtype: torch.dtype) -> list:
    return [
        x.to(dtype) if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in inputs
    ]


def assert_matches(
    got_fn: Callable[..., torch.Tensor],
    ref_fn: Callable[..., torch.Tensor],
    inputs: Sequence,
    grad_idx: Sequence[int],
    dtype: torch.dtype,
) -> None:
    """Same value, and the same gradient of a random projection of the output, as the reference."""
    tol = TOLERANCE[dtype]
    ours = [
        x.clone().requires_grad_(i in grad_idx)
        if isinstance(x, torch.Tensor) and x.is_floating_point()
        else x
        for i, x in enumerate(cast(inputs, dtype))
    ]
    theirs = [
        x.detach().clone().requires_grad_(i in grad_idx)
        if isinstance(x, torch.Tensor) and x.is_floating_point()
        else x
        for i, x in enumerate(ours)
    ]
    got = got_fn(*ours)
    expected = ref_fn(*theirs)
    assert got.dtype == dtype, f"result dtype {got.dtype}, expected {dtype}"
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, **tol)
    projection = torch.randn(
        got.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64
    ).to(dtype)
    grads_got = torch.autograd.grad(
        (got * projection).sum(), [ours[i] for i in grad_idx], allow_unused=True
    )
    grads_ref = torch.autograd.grad(
        (expected * projection).sum(), [theirs[i] for i in grad_idx], allow_unused=True
    )
    for i, g, r in zip(grad_idx, grads_got, grads_ref, strict=True):
        assert (g is None) == (r is None), f"gradient presence differs for input {i}"
        if g is not None:
            torch.testing.assert_close(
                g, r, **tol, msg=lambda m, i=i: f"gradient of input {i}: {m}"
            )
