"""Fused family kernels: K candidates of one input convention in one pass over a chunk of rows.

Each kernel is a pure tensor function, the same code eager and under ``torch.compile``.
Hyperparameters arrive as tensors (``P``: one row per candidate; class weights ``W`` and logit
offsets ``OFF``: one row per candidate), so new values reuse the compiled graph. Only the
*structure* is static: which formula each slot runs (``kinds``), which multiclass slots have
their own logit offsets, and whether gradients are wanted. Flags that switch the formula
(``log_input``) are part of a kind's name for the same reason.

Every kernel returns ``(sums, denoms, losses, grads, saturated)``: per-candidate float64 sums
of the per-sample losses and of their mean's denominator (None where that is the element
count); with ``diag`` also the per-sample losses (K, n) and gradient magnitudes (K, n), one
contiguous row per candidate, and for the multiclass kernel the count of saturated rows (None
elsewhere). Elementwise gradients come from ``torch.func.grad`` of each candidate's summed
losses with respect to the predictions; multiclass gradient norms from their closed form.
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
        # log(1 + t) for t = exp(-2|r|) in (0, 1]: 1 + t loses only what is below the result's
        # own rounding (the - log 2 already limits it to absolute accuracy), and log is
        # cheaper than log1p
        a = r.abs()
        return a + torch.log(1.0 + torch.exp(-2.0 * a)) - LOG2
    if kind == "quantile":
        q, diff = p[0], y - x
        return torch.maximum(q * diff, (q - 1.0) * diff)
    if kind == "adaptive":
        return _adaptive(r, p[0], p[1])
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


def _log1p(v: torch.Tensor) -> torch.Tensor:
    """log(1 + v) for v >= 0, to a few ulps, with one log and one division (cheaper than log1p).

    Goldberg's correction: with u = 1 + v rounded, log(u) * v / (u - 1) cancels the rounding of
    u, and v itself where u rounds to 1.
    """
    u = 1.0 + v
    d = u - 1.0
    return torch.where(d == 0, v, torch.log(u) * (v / torch.where(d == 0, torch.ones_like(d), d)))


def _adaptive(r: torch.Tensor, alpha: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Barron's loss with two transcendental calls per element whatever ``alpha`` is.

    alpha is a tensor, so every branch is evaluated for every element; writing the general
    case as (b / alpha) * expm1(alpha / 2 * log1p(z2 / b)) lets the Cauchy limit (alpha = 0,
    where b = 2 and the loss is that same log1p) and the Welsch limit (|alpha| = inf, expm1 of
    -z2 / 2) share the log1p and the expm1 instead of adding a pow, an exp and a second log1p.
    """
    z2 = (r / scale) ** 2
    quadratic, zero, welsch = alpha == 2.0, alpha == 0.0, torch.isinf(alpha)
    one = torch.ones_like(alpha)
    b = torch.where(quadratic | welsch, one, (alpha - 2.0).abs())
    safe_alpha = torch.where(quadratic | zero | welsch, one, alpha)
    u = _log1p(z2 / b)
    e = torch.expm1(torch.where(welsch, -0.5 * z2, (0.5 * safe_alpha) * u))
    out = torch.where(welsch, -one, b / safe_alpha) * e
    out = torch.where(zero, u, out)
    return torch.where(quadratic, 0.5 * z2, out)


REGRESSION_KINDS = (
    "l1", "mse", "huber", "smoothl1", "logcosh", "quantile", "adaptive",
    "poisson_log", "poisson_rate", "tweedie", "negbin_log", "negbin_rate",
)


def _elementwise(term, kinds, x, y, P, extra, s, diag):
    """Shared driver of the elementwise families; ``x``, ``y`` and ``s`` are already element-aligned.

    Candidates are separate columns, never a stacked (n, K) tensor reduced over n: inductor fuses
    sibling reductions over the same rows into one vectorised pass, whereas a trailing K axis
    makes it write strided columns and reduce them serially. Per-sample outputs are laid out
    (K, n), one contiguous row per candidate, which is also what the diagnostics read.
    """
    K = len(kinds)
    sw = None if s is None else s.reshape(*s.shape, *([1] * (x.dim() - s.dim())))

    def column(k: int, z: torch.Tensor) -> torch.Tensor:
        col = term(kinds[k], z, y, P[k], *(e[k] for e in extra))
        return col if sw is None else col * sw

    if not diag:
        return torch.stack([column(k, x).sum(dtype=torch.float64) for k in range(K)]), None, None, None, None
    losses, grads = [], []
    for k in range(K):

        def total(z: torch.Tensor, k: int = k) -> tuple[torch.Tensor, torch.Tensor]:
            col = column(k, z)
            return col.sum(), col

        g, col = torch.func.grad(total, has_aux=True)(x)
        losses.append(col.reshape(-1))
        grads.append(g.abs().reshape(-1))
    sums = torch.stack([c.sum(dtype=torch.float64) for c in losses])
    return sums, None, torch.stack(losses), torch.stack(grads), None


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


def _mc_combine(nll, sm, w_t, validf, eps, gamma, C):
    """CE, focal and logit-adjusted CE as one formula.

    loss = w_t (1 - eps) (1 - p_t)^gamma nll + eps / C * sum_c w_c (-log p_c), zero where ignored;
    the mean divides by the summed w_t of the counted rows, as torch's weighted CE does.
    """
    p_t = torch.exp(-nll)
    base = torch.clamp(1.0 - p_t, min=torch.finfo(nll.dtype).tiny)
    focal = torch.pow(base, gamma)
    smooth = torch.where(eps > 0, eps / C * sm * validf, torch.zeros_like(sm))
    return (1.0 - eps) * focal * w_t * nll + smooth


def _softmax_stats(z, log_probs):
    """Row max and logsumexp of ``z`` (None for log-probabilities, whose logsumexp is 0)."""
    if log_probs:
        return None
    m = z.amax(1, keepdim=True)
    return m, m + torch.log(torch.exp(z - m).sum(1, keepdim=True))


def _row_terms(z, t, w, stats):
    """(-log p_t, -sum_c w_c log p_c) per row of ``z`` without materialising the log-softmax.

    With m the row max and lse its logsumexp, -log p_c = lse - z_c; the weighted sum is written
    as (lse - m) sum(w) + sum_c w_c (m - z_c), two non-negative terms, so large logits do not
    cancel. Every term is a reduction over the row, which inductor fuses into one pass.
    """
    if stats is None:
        return -z.gather(1, t.unsqueeze(1)).squeeze(1), -(z * w).sum(1)
    m, lse = stats
    nll = (lse - z.gather(1, t.unsqueeze(1))).squeeze(1)
    sm = ((lse - m) * w.sum() + ((m - z) * w).sum(1, keepdim=True)).squeeze(1)
    return nll, sm


def _softmax_sq(z, stats):
    """Per row, sum_c p_c^2 of the softmax p of z, accumulated in float64 (0 for log-probabilities)."""
    if stats is None:
        return torch.zeros(z.shape[0], dtype=torch.float64, device=z.device)
    p = torch.exp(z - stats[1]).to(torch.float64)
    return (p * p).sum(1)


def _grad_norm(z, stats, w, p_t, w_t, a, b, sq):
    """L2 norm over the row of d loss / d z, from sums over the row shared between slots.

    d loss / d z_c = a u_c + b v_c with u_c = p_c - [c = t], v_c = p_c sum(w) - w_c, p the
    softmax of z (for log-probabilities z: p = 0); ``a`` carries the focal factor and its
    derivative, ``b`` the label smoothing. Expanding the square leaves three sums over the row:
    sum p^2 (``sq``, the same for every slot reading z), sum p w and sum w^2, so a slot adds one
    multiply-add per entry instead of its own exponentials. sum u^2 is (1 - p_t)^2 plus
    sum p^2 - p_t^2 in float64, so a confident prediction's small gradient is not lost in
    cancellation; the float64 combination keeps the expansion as accurate as the direct sum.
    """
    f64 = torch.float64
    s_w = w.sum().to(f64)
    if stats is None:
        pw = torch.zeros_like(sq)
        pt = torch.zeros_like(sq)
    else:
        pw = (torch.exp(z - stats[1]) * w).sum(1).to(f64)
        pt = p_t.to(f64)
    wt, a, b = w_t.to(f64), a.to(f64), b.to(f64)
    uu = (1.0 - pt) ** 2 + (sq - pt * pt)
    uv = s_w * sq - pw - s_w * pt + wt
    vv = s_w * s_w * sq - 2.0 * s_w * pw + (w.to(f64) ** 2).sum()
    norm2 = a * a * uu + 2.0 * a * b * uv + b * b * vv
    return torch.sqrt(torch.clamp(norm2, min=0.0)).to(z.dtype)


def multiclass_kernel(x, t, P, W, OFF, s=None, *, offsets, log_probs=False, diag=False):
    """x: (n, C) logits (log-probabilities with ``log_probs``); t: (n,) int64; P: (K, 3) = eps, gamma, ignore_index.

    Every slot without a logit offset shares one row max, logsumexp and (with ``diag``) sum of
    squared probabilities; ``offsets[k]`` (static) gives slot k its own (logit-adjusted CE).
    With ``diag`` the per-sample losses and gradient norms are (K, n), and the last output
    counts the rows whose softmax puts all the mass on one class to within machine epsilon (the
    saturation diagnostic, computed on ``x``).
    """
    K = len(offsets)
    C = x.shape[-1]
    tiny = torch.finfo(x.dtype).tiny
    eps, gamma, ii = P[:, 0], P[:, 1], P[:, 2]
    valid = t.unsqueeze(1).to(P.dtype) != ii.unsqueeze(0)
    ts = torch.where(valid, t.unsqueeze(1), torch.zeros_like(t).unsqueeze(1))
    validf = valid.to(x.dtype)
    w_t = W[torch.arange(K, device=x.device).unsqueeze(0), ts] * validf
    w_s = w_t * s.unsqueeze(1) if s is not None else w_t
    denoms = torch.stack([w_s[:, k].sum(dtype=torch.float64) for k in range(K)])
    plain = None if all(offsets) and not diag else _softmax_stats(x, log_probs)
    plain_sq = _softmax_sq(x, plain) if diag and not all(offsets) else None
    losses, grads = [], []
    for k in range(K):
        z = x + OFF[k] if offsets[k] else x
        stats = _softmax_stats(z, log_probs) if offsets[k] else plain
        nll, sm = _row_terms(z, ts[:, k], W[k], stats)
        col = _mc_combine(nll, sm, w_t[:, k], validf[:, k], eps[k], gamma[k], C)
        losses.append(col if s is None else col * s)
        if diag:
            p_t = torch.exp(-nll)
            one_minus = 1.0 - p_t
            base = torch.clamp(one_minus, min=tiny)
            dfocal = torch.where(one_minus >= tiny, gamma[k] * torch.pow(base, gamma[k] - 1.0), torch.zeros_like(base))
            a = w_t[:, k] * (1.0 - eps[k]) * (torch.pow(base, gamma[k]) + nll * p_t * dfocal)
            b = torch.where(eps[k] > 0, eps[k] / C * validf[:, k], torch.zeros_like(a))
            if s is not None:
                a, b = a * s, b * s
            sq = _softmax_sq(z, stats) if offsets[k] else plain_sq
            grads.append(_grad_norm(z, stats, W[k], p_t, W[k][ts[:, k]], a, b, sq))
    sums = torch.stack([c.sum(dtype=torch.float64) for c in losses])
    if not diag:
        return sums, denoms, None, None, None
    saturated = None
    if plain is not None:
        m, lse = plain
        saturated = ((m - lse) >= math.log1p(-torch.finfo(x.dtype).eps)).sum()
    return sums, denoms, torch.stack(losses), torch.stack(grads), saturated


KERNELS = {
    "regression": regression_kernel,
    "binary": binary_kernel,
    "multiclass": multiclass_kernel,
}
