"""Fused family kernels: K candidates of one input convention in one pass over a chunk of rows.

Each kernel is a pure tensor function, the same code eager and under ``torch.compile``.
Hyperparameters arrive as tensors (``P``: one row per candidate; class weights ``W`` and logit
offsets ``OFF``: one row per candidate), so new values reuse the compiled graph. Only the
*structure* is static: which formula each slot runs (``kinds``), which multiclass slots have
their own logit offsets, and whether gradients are wanted. Flags that switch the formula
(``log_input``) are part of a kind's name for the same reason.

Every kernel returns ``(sums, denoms, losses, grads)``: per-candidate float64 sums of the
per-sample losses and of their mean's denominator (None where that is the element count);
with ``diag`` also the per-sample losses (n, K) and gradient magnitudes (n, K). Gradients come
from ``torch.func.grad`` of the summed losses with respect to the predictions expanded to one
copy per candidate, so each column holds d loss_i / d prediction_i for its own candidate.
"""

from __future__ import annotations

import math

import torch

LOG2 = math.log(2.0)

# ---------------------------------------------------------------- regression: elementwise r = x - y


def _regression_term(kind: str, x: torch.Tensor, y: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    r = x - y
    if kind == "l1":
        return r.abs()
    if kind == "mse":
        return r * r
    if kind == "huber":
        a, d = r.abs(), p[0]
        return torch.where(a < d, 0.5 * r * r, d * (a - 0.5 * d))
    if kind == "smoothl1":
        a, b = r.abs(), p[0]
        safe_b = torch.where(b > 0, b, torch.ones_like(b))
        return torch.where(a < b, 0.5 * r * r / safe_b, a - 0.5 * b)
    if kind == "logcosh":
        a = r.abs()
        return a + torch.log1p(torch.exp(-2.0 * a)) - LOG2
    if kind == "quantile":
        q, diff = p[0], y - x
        return torch.maximum(q * diff, (q - 1.0) * diff)
    if kind == "adaptive":
        alpha, scale = p[0], p[1]
        z2 = (r / scale) ** 2
        special = (alpha == 2.0) | (alpha == 0.0) | torch.isinf(alpha)
        safe_alpha = torch.where(special, torch.ones_like(alpha), alpha)
        b = (safe_alpha - 2.0).abs()
        general = (b / safe_alpha) * (torch.pow(z2 / b + 1.0, safe_alpha / 2.0) - 1.0)
        out = torch.where(alpha == 2.0, 0.5 * z2, general)
        out = torch.where(alpha == 0.0, torch.log1p(0.5 * z2), out)
        return torch.where(torch.isinf(alpha), -torch.expm1(-0.5 * z2), out)
    if kind in ("poisson_log", "poisson_rate"):
        full, eps = p[0], p[1]
        loss = torch.exp(x) - y * x if kind == "poisson_log" else x - y * torch.log(x + eps)
        big = y > 1
        ys = torch.where(big, y, torch.full_like(y, 2.0))
        stirling = torch.where(big, ys * torch.log(ys) - ys + 0.5 * torch.log(2.0 * math.pi * ys), torch.zeros_like(y))
        return loss + full * stirling
    if kind == "tweedie":
        pw = p[0]
        y_term = torch.pow(y.clamp(min=0.0), 2.0 - pw) / ((1.0 - pw) * (2.0 - pw))
        return 2.0 * (y_term - y * torch.exp((1.0 - pw) * x) / (1.0 - pw) + torch.exp((2.0 - pw) * x) / (2.0 - pw))
    if kind in ("negbin_log", "negbin_rate"):
        dispersion, eps = p[0], p[1]
        r_ = 1.0 / dispersion
        log_mu = x if kind == "negbin_log" else torch.log(x + eps)
        log_r = torch.log(r_)
        log_r_plus_mu = torch.logaddexp(log_mu, log_r.expand_as(log_mu))
        log_lik = (
            torch.lgamma(y + r_) - torch.lgamma(r_) - torch.lgamma(y + 1.0)
            + r_ * (log_r - log_r_plus_mu) + y * (log_mu - log_r_plus_mu)
        )
        return -log_lik
    raise ValueError(f"no regression term {kind!r}")


REGRESSION_KINDS = (
    "l1", "mse", "huber", "smoothl1", "logcosh", "quantile", "adaptive",
    "poisson_log", "poisson_rate", "tweedie", "negbin_log", "negbin_rate",
)


def _columns(term, kinds, xk, y, P, *extra):
    """One column per candidate; ``xk`` has a trailing candidate axis of size K or 1."""
    cols = []
    for k, kind in enumerate(kinds):
        xc = xk[..., k] if xk.shape[-1] > 1 else xk[..., 0]
        cols.append(term(kind, xc, y, P[k], *(e[k] for e in extra)))
    return torch.stack(cols, dim=-1)


def _elementwise(term, kinds, x, y, P, extra, s, diag):
    """Shared driver of the elementwise families; ``x``, ``y`` and ``s`` are already element-aligned."""
    K = len(kinds)
    if not diag:
        L = _columns(term, kinds, x.unsqueeze(-1), y, P, *extra)
        if s is not None:
            L = L * s.reshape(*s.shape, *([1] * (L.dim() - s.dim())))
        return L.reshape(-1, K).sum(0, dtype=torch.float64), None, None, None
    xk = x.unsqueeze(-1).expand(*x.shape, K)

    def total(z):
        L = _columns(term, kinds, z, y, P, *extra)
        Lw = L if s is None else L * s.reshape(*s.shape, *([1] * (L.dim() - s.dim())))
        return Lw.sum(), Lw

    g, L = torch.func.grad(total, has_aux=True)(xk)
    Lf = L.reshape(-1, K)
    return Lf.sum(0, dtype=torch.float64), None, Lf, g.abs().reshape(-1, K)


def regression_kernel(x, y, P, s=None, *, kinds, diag=False):
    """x, y: (n, R) rows of R elements; s: (n,) sample weights or None; P: (K, 3)."""
    return _elementwise(_regression_term, kinds, x, y, P, (), s, diag)


# ---------------------------------------------------------------- binary: elementwise logits or probabilities


def _binary_term(kind: str, x, y, p, w, pw):
    if kind == "bce_logits":
        log_weight = (pw - 1.0) * y + 1.0
        return w * ((1.0 - y) * x + log_weight * (torch.log1p(torch.exp(-x.abs())) + torch.relu(-x)))
    if kind == "soft_margin":
        z = -y * x
        return torch.log1p(torch.exp(-z.abs())) + torch.relu(z)
    if kind == "hinge":
        signed = torch.where(y > 0, torch.ones_like(y), -torch.ones_like(y))
        return torch.clamp(p[0] - signed * x, min=0.0)
    if kind == "focal":
        gamma, alpha, has_alpha = p[0], p[1], p[2]
        ce = (1.0 - y) * x + torch.log1p(torch.exp(-x.abs())) + torch.relu(-x)
        p_t = torch.exp(-ce)
        base = torch.clamp(1.0 - p_t, min=torch.finfo(x.dtype).tiny)
        loss = torch.pow(base, gamma) * ce
        factor = alpha * y + (1.0 - alpha) * (1.0 - y)
        return torch.where(has_alpha > 0, factor, torch.ones_like(factor)) * loss
    if kind == "bce_probs":
        log_p = torch.clamp(torch.log(x), min=-100.0)
        log_q = torch.clamp(torch.log1p(-x), min=-100.0)
        return -w * (y * log_p + (1.0 - y) * log_q)
    raise ValueError(f"no binary term {kind!r}")


BINARY_KINDS = ("bce_logits", "soft_margin", "hinge", "focal", "bce_probs")


def binary_kernel(x, y, P, W, PW, s=None, *, kinds, diag=False):
    """x, y: (n, R); W, PW: (K, R) element weights and pos_weights (ones when unset); s: (n,) or None."""
    return _elementwise(_binary_term, kinds, x, y, P, (W, PW), s, diag)


# ---------------------------------------------------------------- multiclass: rows of C scores and an index


def _mc_combine(nll, sm, w_t, validf, P, C):
    """CE, focal and logit-adjusted CE as one formula.

    loss = w_t (1 - eps) (1 - p_t)^gamma nll + eps / C * sum_c w_c (-log p_c), zero where ignored;
    the mean divides by the summed w_t of the counted rows, as torch's weighted CE does.
    """
    eps, gamma = P[:, 0], P[:, 1]
    p_t = torch.exp(-nll)
    base = torch.clamp(1.0 - p_t, min=torch.finfo(nll.dtype).tiny)
    focal = torch.pow(base, gamma)
    smooth = torch.where(eps > 0, eps / C * sm * validf, torch.zeros_like(sm))
    return (1.0 - eps) * focal * w_t * nll + smooth


def multiclass_kernel(x, t, P, W, OFF, s=None, *, offsets, log_probs=False, diag=False):
    """x: (n, C) logits (log-probabilities with ``log_probs``); t: (n,) int64; P: (K, 3) = eps, gamma, ignore_index.

    Values share one log-softmax across every slot without a logit offset; ``offsets[k]``
    (static) gives slot k its own (logit-adjusted CE). With ``diag`` each slot gets its own
    copy of the logits so that its gradient is its own.
    """
    K = len(offsets)
    C = x.shape[-1]
    ii = P[:, 2]
    valid = t.unsqueeze(1).to(P.dtype) != ii.unsqueeze(0)
    ts = torch.where(valid, t.unsqueeze(1), torch.zeros_like(t).unsqueeze(1))
    validf = valid.to(x.dtype)
    w_t = W[torch.arange(K, device=x.device).unsqueeze(0), ts] * validf
    w_s = w_t * s.unsqueeze(1) if s is not None else w_t

    if not diag:
        lp0 = x if log_probs else torch.log_softmax(x, dim=1)
        nll0 = -lp0.gather(1, ts)
        sm0 = -(lp0 @ W.t())
        nll_cols, sm_cols = [], []
        for k, own in enumerate(offsets):
            if own:
                lpk = torch.log_softmax(x + OFF[k], dim=1)
                nll_cols.append(-lpk.gather(1, ts[:, k : k + 1]).squeeze(1))
                sm_cols.append(-(lpk * W[k]).sum(1))
            else:
                nll_cols.append(nll0[:, k])
                sm_cols.append(sm0[:, k])
        L = _mc_combine(torch.stack(nll_cols, 1), torch.stack(sm_cols, 1), w_t, validf, P, C)
        if s is not None:
            L = L * s.unsqueeze(1)
        return L.sum(0, dtype=torch.float64), w_s.sum(0, dtype=torch.float64), None, None

    xk = x.unsqueeze(1).expand(x.shape[0], K, C)

    def total(z):
        lp = z if log_probs else torch.log_softmax(z + OFF.unsqueeze(0), dim=-1)
        nll = -lp.gather(2, ts.unsqueeze(2)).squeeze(2)
        sm = -(lp * W.unsqueeze(0)).sum(-1)
        L = _mc_combine(nll, sm, w_t, validf, P, C)
        if s is not None:
            L = L * s.unsqueeze(1)
        return L.sum(), L

    g, L = torch.func.grad(total, has_aux=True)(xk)
    gm = torch.linalg.vector_norm(g, dim=-1)
    return L.sum(0, dtype=torch.float64), w_s.sum(0, dtype=torch.float64), L, gm


KERNELS = {
    "regression": regression_kernel,
    "binary": binary_kernel,
    "multiclass": multiclass_kernel,
}
