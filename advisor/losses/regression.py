"""Losses over real-valued predictions and targets of the same shape."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from advisor.errors import ShapeMismatchError
from advisor.losses import checks
from advisor.losses.registry import register
from advisor.losses.spec import InputSpec, LossSpec, ParamSpec, reduction_param
from advisor.vocabulary import Family, Task

PAIR = (InputSpec("input", doc="predictions"), InputSpec("target", doc="true values"))
REGRESSION = (Family.REGRESSION,)
REG_TASKS = (Task.REGRESSION,)


def same_shape(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    checks.require_same_shape(tensors["input"], tensors["target"], "input", "target")


def reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """The torch.nn convention: 'none' keeps elements, 'mean' averages them, 'sum' adds them."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


register(
    LossSpec(
        name="L1Loss",
        families=REGRESSION,
        tasks=REG_TASKS,
        inputs=PAIR,
        params=(reduction_param(),),
        reference="torch.nn.L1Loss",
        torch_class="L1Loss",
        fn=lambda input, target, reduction: F.l1_loss(input, target, reduction=reduction),
        check=same_shape,
        summary="Mean absolute error; fits the conditional median, so large outliers pull less than under MSE.",
    )
)

register(
    LossSpec(
        name="MSELoss",
        families=REGRESSION,
        tasks=REG_TASKS,
        inputs=PAIR,
        params=(reduction_param(),),
        reference="torch.nn.MSELoss",
        torch_class="MSELoss",
        fn=lambda input, target, reduction: F.mse_loss(input, target, reduction=reduction),
        check=same_shape,
        summary="Mean squared error; fits the conditional mean, efficient under Gaussian noise, pulled hard by outliers.",
    )
)

register(
    LossSpec(
        name="HuberLoss",
        families=REGRESSION,
        tasks=REG_TASKS,
        inputs=PAIR,
        params=(
            reduction_param(),
            ParamSpec(
                "delta",
                "float",
                1.0,
                low=0.0,
                low_open=True,
                doc="residual size where quadratic turns linear",
            ),
        ),
        reference="torch.nn.HuberLoss",
        torch_class="HuberLoss",
        fn=lambda input, target, reduction, delta: F.huber_loss(
            input, target, reduction=reduction, delta=delta
        ),
        check=same_shape,
        summary="Quadratic for small residuals, linear beyond delta: MSE's efficiency with bounded outlier pull.",
    )
)

register(
    LossSpec(
        name="SmoothL1Loss",
        families=REGRESSION,
        tasks=REG_TASKS,
        inputs=PAIR,
        params=(
            reduction_param(),
            ParamSpec(
                "beta",
                "float",
                1.0,
                low=0.0,
                doc="residual size where quadratic turns linear; 0 gives L1",
            ),
        ),
        reference="torch.nn.SmoothL1Loss",
        torch_class="SmoothL1Loss",
        fn=lambda input, target, reduction, beta: F.smooth_l1_loss(
            input, target, reduction=reduction, beta=beta
        ),
        check=same_shape,
        summary="Huber divided by beta; less sensitive to outliers than MSE (not more, as one guide claims).",
    )
)


#: |x| below which log cosh x comes from its Taylor series, per dtype: there the series' first
#: omitted term (691/467775 x^12) is below the dtype's rounding, and above it the closed form's
#: absolute error (a few ulps of log 2) is small relative to log cosh x.
LOG_COSH_SERIES_BELOW = {torch.float64: 0.02, torch.float32: 0.3}


def log_cosh_of_abs(a: torch.Tensor) -> torch.Tensor:
    """log(cosh(a)) for a = |x| >= 0, to a few ulps relative, without overflow.

    Far from zero, |x| + log(1 + exp(-2|x|)) - log 2 never overflows but subtracts log 2 from
    a number close to it, so near zero, where log cosh x is about x^2 / 2, it keeps only
    absolute accuracy (float32 residuals of 1e-3 would be off by percents); there the Taylor
    series x^2/2 - x^4/12 + x^6/45 - 17 x^8/2520 + 31 x^10/14175 is exact to rounding. Plain
    tensor code, so the fused kernels compile it too.
    """
    s = a * a
    series = s * (0.5 + s * (-1.0 / 12.0 + s * (1.0 / 45.0 + s * (-17.0 / 2520.0 + s * (31.0 / 14175.0)))))
    # log(1 + t), t = exp(-2|x|) <= exp(-2 · threshold): 1 + t rounds by less than the result's
    # own tolerance beyond the series' range, and log is cheaper than log1p in compiled code
    closed = a + torch.log(1.0 + torch.exp(-2.0 * a)) - math.log(2.0)
    return torch.where(a < LOG_COSH_SERIES_BELOW.get(a.dtype, 0.3), series, closed)


def log_cosh(input: torch.Tensor, target: torch.Tensor, reduction: str) -> torch.Tensor:
    return reduce(log_cosh_of_abs((input - target).abs()), reduction)


register(
    LossSpec(
        name="LogCoshLoss",
        families=REGRESSION,
        tasks=REG_TASKS,
        inputs=PAIR,
        params=(reduction_param(),),
        reference="numpy log(cosh(input - target)) in float64",
        fn=log_cosh,
        check=same_shape,
        summary="Smooth everywhere: about x²/2 near zero and |x| - log 2 far out, a twice-differentiable Huber.",
    )
)


def quantile_loss(
    input: torch.Tensor, target: torch.Tensor, reduction: str, quantiles: list[float]
) -> torch.Tensor:
    q = torch.as_tensor(quantiles, dtype=input.dtype, device=input.device)
    if len(quantiles) > 1:
        diff = target.unsqueeze(-1) - input
    else:
        diff = target - input
        q = q.squeeze(0)
    # the slope on each side of 0 picked by a where, then one product: the same values as
    # max(q·diff, (q - 1)·diff) with half the arithmetic and a cheaper backward
    return reduce(diff * torch.where(diff < 0, q - 1.0, q), reduction)


def check_quantile(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    input, target = tensors["input"], tensors["target"]
    n_q = len(params["quantiles"])
    if n_q == 1:
        checks.require_same_shape(input, target, "input", "target")
    elif input.shape != (*target.shape, n_q):
        expected = (*target.shape, n_q)
        raise ShapeMismatchError(
            f"shape {tuple(input.shape)} does not fit {n_q} quantiles; expected {expected} (target shape + one column per quantile)",
            field="input",
            expected=expected,
            got=tuple(input.shape),
        )


register(
    LossSpec(
        name="QuantileLoss",
        families=REGRESSION,
        tasks=REG_TASKS,
        inputs=PAIR,
        params=(
            reduction_param(),
            ParamSpec(
                "quantiles",
                "floats",
                [0.5],
                low=0.0,
                high=1.0,
                low_open=True,
                high_open=True,
                doc="quantile levels; with several, input has one trailing column per level",
            ),
        ),
        reference="sklearn.metrics.mean_pinball_loss",
        fn=quantile_loss,
        check=check_quantile,
        summary="Pinball loss: fits the q-th conditional quantile (q=0.5 is half the L1 loss); several levels at once give intervals.",
    )
)


def adaptive_robust(
    input: torch.Tensor, target: torch.Tensor, reduction: str, alpha: float, scale: float
) -> torch.Tensor:
    z2 = ((input - target) / scale) ** 2
    if alpha == 2.0:
        loss = 0.5 * z2
    elif alpha == 0.0:
        loss = torch.log1p(0.5 * z2)
    elif math.isinf(alpha):
        loss = -torch.expm1(-0.5 * z2)
    else:
        # (z2/b + 1)^(alpha/2) - 1 would cancel for small residuals; expm1 of the log does not
        b = abs(alpha - 2.0)
        loss = (b / alpha) * torch.expm1((alpha / 2.0) * torch.log1p(z2 / b))
    return reduce(loss, reduction)


register(
    LossSpec(
        name="AdaptiveRobustLoss",
        families=REGRESSION,
        tasks=REG_TASKS,
        inputs=PAIR,
        params=(
            reduction_param(),
            ParamSpec(
                "alpha",
                "float",
                1.0,
                low=float("-inf"),
                high=10.0,
                doc="shape: 2 is L2/2, 1 pseudo-Huber, 0 Cauchy, -2 Geman-McClure, -inf Welsch",
            ),
            ParamSpec(
                "scale",
                "float",
                1.0,
                low=0.0,
                low_open=True,
                doc="residual size of the quadratic bowl",
            ),
        ),
        reference="limits: alpha=2 -> L2/2, alpha=1 -> pseudo-Huber, alpha=0 -> Cauchy",
        citation="Barron, A General and Adaptive Robust Loss Function, CVPR 2019",
        fn=adaptive_robust,
        check=same_shape,
        summary="One family spanning L2, pseudo-Huber, Cauchy and Welsch; lower alpha discounts outliers more.",
    )
)
