"""Likelihood-based losses: counts, heteroscedastic regression, distributions."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from advisor.errors import ShapeMismatchError
from advisor.losses import checks
from advisor.losses.registry import register
from advisor.losses.regression import reduce, same_shape
from advisor.losses.spec import InputSpec, LossSpec, ParamSpec, reduction_param
from advisor.vocabulary import Family, Task

# Shared by the rate-parameterised count losses: log(rate + eps) when log_input=False.
LOG_EPS = ParamSpec(
    "eps", "float", 1e-8, low=0.0, low_open=True, high=1.0, doc="guards log(0) when log_input=False"
)


def check_poisson(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    # Negative targets are a data mistake that torch still computes a value for; evaluate's
    # lints report them. A negative rate, by contrast, makes the value undefined.
    same_shape(tensors, params)
    if not params["log_input"]:
        checks.require_interval(
            tensors["input"], 0.0, None, "input", " (log_input=False means the rate itself)"
        )


register(
    LossSpec(
        name="PoissonNLLLoss",
        families=(Family.REGRESSION,),
        tasks=(Task.COUNT,),
        inputs=(
            InputSpec("input", doc="log-rate (or rate with log_input=False)"),
            InputSpec("target", doc="counts"),
        ),
        params=(
            reduction_param(),
            ParamSpec(
                "log_input", "bool", True, doc="input is log(rate): exp(input) - target·input"
            ),
            ParamSpec(
                "full", "bool", False, doc="add the Stirling term so the value is the full NLL"
            ),
            LOG_EPS,
        ),
        reference="torch.nn.PoissonNLLLoss",
        torch_class="PoissonNLLLoss",
        fn=lambda input, target, reduction, log_input, full, eps: F.poisson_nll_loss(
            input, target, log_input=log_input, full=full, eps=eps, reduction=reduction
        ),
        check=check_poisson,
        summary="Poisson negative log-likelihood: variance equals the mean, the natural loss for counts.",
    )
)


def check_gaussian(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    same_shape(tensors, params)
    var = tensors["var"]
    checks.require_interval(var, 0.0, None, "var", " (a variance cannot be negative)")
    input = tensors["input"]
    ok = (
        var.shape == input.shape
        or var.shape == input.shape[:-1]
        or (var.dim() == input.dim() and var.shape[:-1] == input.shape[:-1] and var.shape[-1] == 1)
        or var.numel() == 1
    )
    if not ok:
        ok = checks.broadcasts_to(var.shape, input.shape)
    if not ok:
        raise ShapeMismatchError(
            f"shape {tuple(var.shape)} does not fit input shape {tuple(input.shape)}; expected the input's shape, "
            "its shape without the last dimension, or a last dimension of 1",
            field="var",
            expected=tuple(input.shape),
            got=tuple(var.shape),
        )


register(
    LossSpec(
        name="GaussianNLLLoss",
        families=(Family.REGRESSION,),
        tasks=(Task.REGRESSION,),
        inputs=(
            InputSpec("input", doc="predicted mean"),
            InputSpec("target"),
            InputSpec("var", doc="predicted variance"),
        ),
        params=(
            reduction_param(),
            ParamSpec("full", "bool", False, doc="add the constant 0.5·log(2π)"),
            ParamSpec(
                "eps",
                "float",
                1e-6,
                low=0.0,
                low_open=True,
                high=1.0,
                doc="variance clamp for stability",
            ),
        ),
        reference="torch.nn.GaussianNLLLoss",
        torch_class="GaussianNLLLoss",
        fn=lambda input, target, var, reduction, full, eps: F.gaussian_nll_loss(
            input, target, var, full=full, eps=eps, reduction=reduction
        ),
        check=check_gaussian,
        summary="Gaussian NLL with a predicted variance: the model learns where it is uncertain (heteroscedastic noise).",
    )
)


def kl_div(
    input: torch.Tensor, target: torch.Tensor, reduction: str, log_target: bool
) -> torch.Tensor:
    return F.kl_div(input, target, reduction=reduction, log_target=log_target)


def check_kl(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    # Targets that are not probabilities are linted by evaluate, not refused: torch defines
    # a value for them and its own tests pass such targets.
    same_shape(tensors, params)


register(
    LossSpec(
        name="KLDivLoss",
        families=(Family.DISTRIBUTIONS,),
        tasks=(Task.DISTRIBUTION,),
        inputs=(
            InputSpec("input", allow_inf=True, doc="log-probabilities"),
            InputSpec(
                "target", allow_inf=True, doc="probabilities (log-probabilities with log_target)"
            ),
        ),
        params=(
            ParamSpec(
                "reduction",
                "choice",
                "mean",
                choices=("none", "mean", "sum", "batchmean"),
                doc="batchmean is the mathematically correct KL; mean divides by every element",
            ),
            ParamSpec("log_target", "bool", False, doc="target given as log-probabilities"),
        ),
        reference="torch.nn.KLDivLoss",
        torch_class="KLDivLoss",
        fn=kl_div,
        check=check_kl,
        summary="KL(target ‖ prediction) for distribution targets (distillation, soft labels); use reduction='batchmean'.",
    )
)


def tweedie_deviance(
    input: torch.Tensor, target: torch.Tensor, reduction: str, power: float
) -> torch.Tensor:
    """Unit deviance with a log link: the scikit-learn ``mean_tweedie_deviance`` convention.

    The NLL used by gradient-boosting libraries, -y·mu^(1-p)/(1-p) + mu^(2-p)/(2-p), differs from
    half of this deviance only by a term in y alone, so the two share minimisers and gradients.
    """
    # The three terms cancel where mu is close to y; float32 would lose most digits there, so
    # the deviance is formed in float64 and cast back (the fused kernels keep their own path).
    out_dtype = input.dtype
    input, target = input.double(), target.double()
    p = power
    mu_1p = torch.exp((1.0 - p) * input)  # mu^(1-p)
    mu_2p = torch.exp((2.0 - p) * input)  # mu^(2-p)
    y_term = torch.pow(target.clamp(min=0.0), 2.0 - p) / ((1.0 - p) * (2.0 - p))
    dev = 2.0 * (y_term - target * mu_1p / (1.0 - p) + mu_2p / (2.0 - p))
    return reduce(dev, reduction).to(out_dtype)


def check_nonneg_target(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    same_shape(tensors, params)
    checks.require_interval(
        tensors["target"], 0.0, None, "target", " (Tweedie and count losses need y >= 0)"
    )


register(
    LossSpec(
        name="TweedieLoss",
        families=(Family.REGRESSION,),
        tasks=(Task.REGRESSION, Task.COUNT),
        inputs=(
            InputSpec("input", doc="log of the predicted mean (log link)"),
            InputSpec("target", doc="non-negative values, zeros allowed"),
        ),
        params=(
            reduction_param(),
            ParamSpec(
                "power",
                "float",
                1.5,
                low=1.0,
                high=2.0,
                low_open=True,
                high_open=True,
                doc="1 is Poisson, 2 is Gamma; between, compound Poisson-Gamma",
            ),
        ),
        reference="sklearn.metrics.mean_tweedie_deviance (deviance, not NLL)",
        fn=tweedie_deviance,
        check=check_nonneg_target,
        summary="Tweedie deviance for zero-inflated, positive, right-skewed targets such as claims or rainfall.",
    )
)


def negative_binomial_nll(
    input: torch.Tensor,
    target: torch.Tensor,
    reduction: str,
    dispersion: float,
    log_input: bool,
    eps: float,
) -> torch.Tensor:
    """NB2: mean mu, variance mu + dispersion·mu²; full NLL including the log-gamma terms."""
    r = 1.0 / dispersion
    log_mu = input if log_input else torch.log(input + eps)
    log_r_plus_mu = torch.logaddexp(log_mu, torch.full_like(log_mu, math.log(r)))
    log_lik = (
        torch.lgamma(target + r)
        - math.lgamma(r)
        - torch.lgamma(target + 1.0)
        + r * (math.log(r) - log_r_plus_mu)
        + target * (log_mu - log_r_plus_mu)
    )
    return reduce(-log_lik, reduction)


def check_negbin(tensors: dict[str, torch.Tensor], params: dict[str, Any]) -> None:
    check_nonneg_target(tensors, params)
    if not params["log_input"]:
        checks.require_interval(
            tensors["input"], 0.0, None, "input", " (log_input=False means the mean itself)"
        )


register(
    LossSpec(
        name="NegativeBinomialNLLLoss",
        families=(Family.REGRESSION,),
        tasks=(Task.COUNT,),
        inputs=(
            InputSpec("input", doc="log of the predicted mean"),
            InputSpec("target", doc="counts"),
        ),
        params=(
            reduction_param(),
            ParamSpec(
                "dispersion",
                "float",
                1.0,
                low=0.0,
                low_open=True,
                high=1e4,
                doc="alpha in var = mu + alpha·mu²",
            ),
            ParamSpec("log_input", "bool", True, doc="input is log(mean)"),
            LOG_EPS,
        ),
        reference="scipy.stats.nbinom.logpmf",
        fn=negative_binomial_nll,
        check=check_negbin,
        summary="Negative binomial NLL: counts whose variance grows faster than the mean (overdispersion).",
    )
)
