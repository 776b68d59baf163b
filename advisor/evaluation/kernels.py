"""Fused family kernels: K candidates of one input convention in one pass over a chunk of rows.

Each kernel is a pure tensor function, the same code eager and under ``torch.compile``.
Hyperparameters arrive as tensors (``P``: one row per candidate; class weights ``W`` and logit
offsets ``OFF``: one row per candidate), so new values reuse the compiled graph. Only the
*structure* is static: which formula each slot runs (``kinds``), which multiclass slots have
their own logit offsets, and whether gradients are wanted. Flags that switch the formula
(``log_input``) are part of a kind's name for the same reason.

Every kernel takes ``T``, the (K,) top-share thresholds of ``diagnostics`` (read only with
``out="stats"``), and a static ``out``: "values" (the sums alone), "stats" (with each
candidate's diagnostics state over the chunk, ``diagnostics.column_stats``, computed in the
same pass: no per-sample row is written) or "rows" (with the per-sample losses and gradient
magnitudes, (K, n), one contiguous row per candidate: the quantile sample, and reduction
'none'). It returns ``(sums, denoms, state, losses, grads, saturated)``: per-candidate
float64 sums of the per-sample losses and of their mean's denominator (None where that is
the element count), the (K, len(diagnostics.FIELDS)) state or None, the rows or None, and
for the multiclass kernel the count of saturated rows when anything beyond values is asked
(None elsewhere). Elementwise gradients are autograd's of each candidate's summed losses with
respect to the predictions (``torch.func.grad`` when compiled, ``torch.autograd.grad`` when
run eagerly: ``_loss_and_grad``); multiclass gradient norms come from their closed form.
"""

from __future__ import annotations

import math

import torch

from advisor.cancel import check as check_cancel
from advisor.evaluation.diagnostics import column_stats
from advisor.losses.regression import log_cosh_of_abs

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
        return log_cosh_of_abs(r.abs())
    if kind == "quantile":  # the catalog's form: at diff = 0 its gradient is -q, where a maximum's splits
        q, diff = p[0], y - x
        return diff * torch.where(diff < 0, q - 1.0, q)
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


#: |v| below which ``_expm1`` sums the Taylor series, and the series' length per dtype: the
#: first omitted term, 0.35^n / n!, is below the dtype's rounding of expm1(v) there.
EXPM1_SERIES_BELOW = 0.35
EXPM1_SERIES_TERMS = {torch.float64: 15, torch.float32: 8}


def _expm1(v: torch.Tensor) -> torch.Tensor:
    """exp(v) - 1 to a few ulps near 0 as well, with one exp and a short polynomial.

    Inductor's vectorised CPU code lowers ``torch.expm1`` to exp(v) - 1 (pytorch/pytorch#189803),
    which is 0 for |v| below float32's epsilon and percents off well above it. Away from 0 that
    form is exact to rounding (exp(v) - 1 is at least 0.29 in magnitude), so only |v| <
    ``EXPM1_SERIES_BELOW`` takes the Taylor series, in Horner form: multiply-adds, cheaper than
    Kahan's correction (a second logarithm and a division).
    """
    terms = EXPM1_SERIES_TERMS.get(v.dtype, 8)
    series = torch.full_like(v, 1.0 / math.factorial(terms))
    for k in range(terms - 1, 0, -1):
        series = series * v + 1.0 / math.factorial(k)
    return torch.where(v.abs() < EXPM1_SERIES_BELOW, series * v, torch.exp(v) - 1.0)


def _adaptive(r: torch.Tensor, alpha: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Barron's loss with two transcendental calls per element whatever ``alpha`` is.

    alpha is a tensor, so every branch is evaluated for every element; writing the general
    case as (b / alpha) * expm1(alpha / 2 * log1p(z2 / b)) lets the Cauchy limit (alpha = 0,
    where b = 2 and the loss is that same log1p) and the Welsch limit (|alpha| = inf, expm1 of
    -z2 / 2) share the log1p and the expm1 instead of adding a pow, an exp and a second log1p.
    """
    z = r * (1.0 / scale)  # scalars inverted once: a multiply per element, not a division
    z2 = z * z
    quadratic, zero, welsch = alpha == 2.0, alpha == 0.0, torch.isinf(alpha)
    one = torch.ones_like(alpha)
    b = torch.where(quadratic | welsch, one, (alpha - 2.0).abs())
    safe_alpha = torch.where(quadratic | zero | welsch, one, alpha)
    u = _log1p(z2 * (1.0 / b))
    e = _expm1(torch.where(welsch, -0.5 * z2, (0.5 * safe_alpha) * u))
    out = torch.where(welsch, -one, b / safe_alpha) * e
    out = torch.where(zero, u, out)
    return torch.where(quadratic, 0.5 * z2, out)


def _loss_and_grad(column, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample losses ``column(x)`` and the magnitude of their summed loss's gradient in x.

    Under ``torch.compile`` the gradient is ``torch.func.grad``, which traces into the graph;
    run eagerly it is ``torch.autograd.grad`` on the same function: the same derivative,
    without functorch's per-call transform levels, and without the import of torch._dynamo
    that functorch's grad pays on its first call (seconds, in a process that never compiles).
    """
    if torch.compiler.is_compiling():

        def total(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            col = column(z)
            return col.sum(), col

        g, col = torch.func.grad(total, has_aux=True)(x)
        return col, g.abs()
    with torch.enable_grad():
        leaf = x.detach().requires_grad_(True)
        col = column(leaf)
        (g,) = torch.autograd.grad(col.sum(), leaf)
    return col.detach(), g.abs()


def _elementwise(term, kinds, x, y, P, extra, s, T, out):
    """Shared driver of the elementwise families; ``x``, ``y`` and ``s`` are already element-aligned.

    Candidates are separate columns, never a stacked (n, K) tensor reduced over n: inductor fuses
    sibling reductions over the same rows into one vectorised pass, whereas a trailing K axis
    makes it write strided columns and reduce them serially.
    """
    K = len(kinds)
    sw = None if s is None else s.reshape(*s.shape, *([1] * (x.dim() - s.dim())))

    def column(k: int, z: torch.Tensor) -> torch.Tensor:
        col = term(kinds[k], z, y, P[k], *(e[k] for e in extra))
        return col if sw is None else col * sw

    if out == "values":
        return _outputs(out, torch.stack([column(k, x).sum(dtype=torch.float64) for k in range(K)]), None, [], [], [])
    sums, states, losses, grads = [], [], [], []
    for k in range(K):
        if not torch.compiler.is_compiling():  # eager: stop between slots once cancelled
            check_cancel()
        col, g = _loss_and_grad(lambda z, k=k: column(k, z), x)
        sums.append(col.sum(dtype=torch.float64))
        if out == "stats":
            states.append(column_stats(col, g, T[k]))
        else:
            losses.append(col.reshape(-1))
            grads.append(g.reshape(-1))
    return _outputs(out, torch.stack(sums), None, states, losses, grads)


def _outputs(out, sums, denoms, states, losses, grads, saturated=None):
    """A kernel's return tuple for ``out`` (see the module), from its per-slot lists."""
    if out == "values":
        return sums, denoms, None, None, None, None
    if out == "stats":
        return sums, denoms, torch.stack(states), None, None, saturated
    return sums, denoms, None, torch.stack(losses), torch.stack(grads), saturated


def regression_kernel(x, y, P, T, s=None, *, kinds, out="values"):
    """x, y: (n, R) rows of R elements; s: (n,) sample weights or None; P: (K, 3)."""
    return _elementwise(_regression_term, kinds, x, y, P, (), s, T, out)


# ---------------------------------------------------------------- binary: elementwise logits or probabilities


def _softplus_neg(z):
    """log(1 + exp(-z)) without overflow, whose gradient is -sigmoid(-z) at z = 0 as well.

    The usual log1p(exp(-|z|)) + relu(-z) has the right values but not the right derivative
    at exactly 0: autograd takes 0 for the derivative of |z| and of relu there, so the
    gradient comes out 0 instead of -1/2, and a logit of exactly 0 (an untrained model's)
    would report a BCE gradient of 1 or 0 where torch's is 1/2. relu(-z) written as
    |z| / 2 - z / 2 gives the missing -1/2 and the same sums: both halves are exact (but for
    subnormals, which the log1p term swamps), and halving before subtracting keeps float16
    from overflowing where |z| - z would.
    """
    a = z.abs()
    return torch.log1p(torch.exp(-a)) + (0.5 * a - 0.5 * z)


def _binary_term(kind: str, x, y, p, w, pw):
    if kind == "bce_logits":
        log_weight = (pw - 1.0) * y + 1.0
        return w * ((1.0 - y) * x + log_weight * _softplus_neg(x))
    if kind == "soft_margin":
        return _softplus_neg(y * x)
    if kind == "hinge":
        signed = torch.where(y > 0, torch.ones_like(y), -torch.ones_like(y))
        return torch.clamp(p[0] - signed * x, min=0.0)
    if kind == "focal":
        gamma, alpha, has_alpha = p[0], p[1], p[2]
        ce = (1.0 - y) * x + _softplus_neg(x)
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


def binary_kernel(x, y, P, W, PW, T, s=None, *, kinds, out="values"):
    """x, y: (n, R); W, PW: (K, R) element weights and pos_weights (ones when unset); s: (n,) or None."""
    return _elementwise(_binary_term, kinds, x, y, P, (W, PW), s, T, out)


# ---------------------------------------------------------------- multiclass: rows of C scores and an index


#: A logit-adjusted slot shares the plain slots' exponentials when its offsets span at most this
#: much: every class that matters then has exp(x_c - max x) · exp(o_c - max o) >= exp(-span),
#: far above float32's underflow, so the shared sum is as accurate as a logsumexp of its own.
SHARED_OFFSET_SPAN = 40.0


def _base(z):
    """d = max z - z >= 0 and e = exp(-d) of the rows of ``z``, with sum_c e_c per row."""
    d = z.amax(1, keepdim=True) - z
    e = torch.exp(-d)
    return d, e, e.sum(1)


def _slot_terms(d, e, se, tm, W, off, shifted, smooth, weighted, diag):
    """Per slot, the (n,) row terms of the slots that read one softmax base.

    ``d``, ``e``, ``se`` come from ``_base`` of z0; slot k reads z0 + off[k] (zero unless
    ``shifted[k]``). With M_k = max off[k] and S_k = exp(off[k] - M_k), logsumexp(z0 + off[k])
    - max z0 - M_k is L_k = log(sum_c e_c S_kc), which is log(se) for an unshifted slot: only
    logit-adjusted slots add a sum over the classes, and no slot an exponential per class.
    The weighted sum of -log p_c, sum_c w_c (lse - z_c), is L_k sum(w) + sum_c w_c d_c +
    sum_c w_c (M_k - off_c), non-negative terms, so large logits do not cancel; only
    label-smoothed slots need it (``smooth[k]``, static: the slot's loss has label smoothing,
    whatever its value), so the others get None and cost no sum. Slots without class
    weights (``weighted[k]`` False, static for the same reason: the parameter is absent,
    whatever a given one holds) have w = 1, so their weighted sums are sums every such slot
    shares: sum_c d_c for the smoothing term, Q for Rw.

    Every quantity is a sum over the row or per-row arithmetic on one slot's (n,) column, so
    inductor fuses all of them into one vectorised pass that reads each row once. (Stacking
    the slots into (n, K) or (K, n) tensors, or taking the weighted sums as one matrix
    product, measured slower: inductor then vectorises across the K slots, and the
    product's materialised inputs cost a write and a read of the whole chunk.)

    Returns ``(nll, sm, rest)``, lists over the slots; rest[k] is None without ``diag``, else
    (Rw, R, Q) = (sum_{c != t} p_c w_c, sum_{c != t} p_c^2, sum_{c != t} p_c) from the
    exponentials with the target's entry masked out, so that none cancels when p_t is close to 1: Q is
    1 - p_t to full relative precision even where p_t rounds to 1 (``tm``: the target, any
    valid class on ignored rows, whose gradients are zero).
    """
    K = W.shape[0]
    top = off.amax(1)
    S = torch.exp(off - top.unsqueeze(1))
    sw = W.sum(1)
    const = sw * top - (W * off).sum(1)
    dt = d.gather(1, tm.unsqueeze(1)).squeeze(1)
    ES = [(e * S[k]).sum(1) if shifted[k] else se for k in range(K)]
    L = [torch.log(v) for v in ES]
    nll = [L[k] + dt + (top[k] - off[k][tm]) if shifted[k] else L[k] + dt for k in range(K)]
    plain_d = d.sum(1) if any(smooth[k] and not weighted[k] for k in range(K)) else None
    sm = [
        L[k] * sw[k] + ((d * W[k]).sum(1) if weighted[k] else plain_d) + const[k] if smooth[k] else None
        for k in range(K)
    ]
    if not diag:
        return nll, sm, [None] * K
    target = torch.arange(e.shape[1], device=e.device) == tm.unsqueeze(1)
    em = torch.where(target, torch.zeros_like(e), e)
    em2 = em * em
    plain_rs, plain_q = em2.sum(1), em.sum(1)
    rest = []
    for k in range(K):
        rs = (em2 * (S[k] * S[k])).sum(1) if shifted[k] else plain_rs
        q = (em * S[k]).sum(1) if shifted[k] else plain_q
        rw = (em * (S[k] * W[k])).sum(1) if weighted[k] else q
        rest.append((rw / ES[k], rs / (ES[k] * ES[k]), q / ES[k]))
    return nll, sm, rest


def _softmax_terms(x, tm, W, OFF, offsets, smooth, weighted, diag):
    """(nll, sm, rest, log sum exp(x - max x)) for logits, per slot; see ``_slot_terms``.

    Slots with ``offsets[k] == 1`` (offsets too wide to share) get a base of their own, x +
    OFF[k]; the others share the base x. The last output is what the saturation diagnostic
    reads (None when no slot shares x and no diagnostics are asked for).
    """
    K = len(offsets)
    nll: list = [None] * K
    sm: list = [None] * K
    rest: list = [None] * K
    lse_x = None
    shared = [k for k, o in enumerate(offsets) if o != 1]
    if shared or diag:
        d, e, se = _base(x)
        lse_x = torch.log(se)
        if shared:
            flags = [offsets[k] == 2 for k in shared]
            out = _slot_terms(
                d, e, se, tm, W[shared], OFF[shared], flags, [smooth[k] for k in shared], [weighted[k] for k in shared], diag
            )
            for j, k in enumerate(shared):
                nll[k], sm[k], rest[k] = out[0][j], out[1][j], out[2][j]
    for k in (k for k, o in enumerate(offsets) if o == 1):
        d, e, se = _base(x + OFF[k])
        out = _slot_terms(d, e, se, tm, W[k : k + 1], torch.zeros_like(OFF[k : k + 1]), [False], [smooth[k]], [weighted[k]], diag)
        nll[k], sm[k], rest[k] = out[0][0], out[1][0], out[2][0]
    return nll, sm, rest, lse_x


def _mc_combine(kind, nll, sm, w_t, validf, eps, gamma, C):
    """CE, focal and logit-adjusted CE as one formula, with the terms ``kind`` (static) can have.

    loss = w_t (1 - eps) (1 - p_t)^gamma nll + eps / C * sum_c w_c (-log p_c), zero where ignored;
    the mean divides by the summed w_t of the counted rows, as torch's weighted CE does. Only
    focal slots have the (1 - p_t)^gamma factor and only cross-entropy slots label smoothing
    (``sm`` None otherwise), so the others skip a pow per row and the smoothing sum.
    """
    loss = w_t * nll
    if kind == "focal":
        base = torch.clamp(1.0 - torch.exp(-nll), min=torch.finfo(nll.dtype).tiny)
        loss = torch.pow(base, gamma) * loss
    if sm is not None:
        loss = (1.0 - eps) * loss + torch.where(eps > 0, eps / C * sm * validf, torch.zeros_like(sm))
    return loss


def _grad_norm(w, dtype, w_raw, a, b, rest):
    """L2 norm over the row of d loss / d z, from sums over the row that ``_slot_terms`` has.

    d loss / d z_c = a u_c + b v_c with u_c = p_c - [c = t], v_c = p_c sum(w) - w_c, p the
    softmax of z (for log-probabilities z: p = 0, ``rest`` None); ``a`` carries the focal
    factor and its derivative, ``b`` the label smoothing. With R = sum_{c != t} p_c^2,
    Rw = sum_{c != t} p_c w_c and q = 1 - p_t = sum_{c != t} p_c: sum u^2 = q^2 + R,
    sum u v = sum(w) (R - p_t q) - Rw + w_t q, sum v^2 = sum(w)^2 (p_t^2 + R)
    - 2 sum(w) (p_t w_t + Rw) + sum w^2. Written with the off-target sums, a confident
    prediction's small gradient is not lost in cancellation (q is not 1 - p_t rounded, which
    is 0 once p_t rounds to 1); the combination runs in float64.
    """
    f64 = torch.float64
    s_w = w.sum().to(f64)
    s_ww = (w.to(f64) ** 2).sum()
    wt, a, b = w_raw.to(f64), a.to(f64), b.to(f64)
    if rest is None:
        pt = torch.zeros_like(a)
        q = torch.ones_like(a)
        R = Rw = torch.zeros_like(a)
    else:
        Rw, R, q = (r.to(f64) for r in rest)
        pt = 1.0 - q
    uu = q * q + R
    uv = s_w * (R - pt * q) - Rw + wt * q
    vv = s_w * s_w * (pt * pt + R) - 2.0 * s_w * (pt * wt + Rw) + s_ww
    norm2 = a * a * uu + 2.0 * a * b * uv + b * b * vv
    return torch.sqrt(torch.clamp(norm2, min=0.0)).to(dtype)


def multiclass_kernel(x, t, P, W, OFF, T, s=None, *, kinds, offsets, weighted, log_probs=False, out="values"):
    """x: (n, C) logits (log-probabilities with ``log_probs``); t: (n,) int64; P: (K, 3) = eps, gamma, ignore_index.

    One pass over the classes gives the shared exponentials and the sums each slot needs
    (``_slot_terms``); the rest is per-row arithmetic on each slot's own (n,) column, so
    inductor fuses the slots' sums over rows into one vectorised pass. ``kinds[k]`` (static) is the slot's loss: "ce", "nll", "focal" or
    "logit_adjusted". ``offsets[k]`` (static) is 0 for a slot without logit offsets, 2 for one
    whose offsets (logit-adjusted CE) span at most ``SHARED_OFFSET_SPAN`` and so share the
    plain exponentials, 1 for one with wider offsets and a softmax of its own. ``weighted[k]``
    (static) says whether the slot has class weights, rows of ``W`` that are all ones
    otherwise (``_slot_terms`` then skips its weighted sums). With ``log_probs`` every slot
    is NLLLoss's: no logit offsets, no label smoothing. Beyond values
    (``out``: see the module), the per-row gradient norms are computed, and the last output
    counts the rows whose softmax puts all the mass on one class to within machine epsilon
    (the saturation diagnostic, computed on ``x``).
    """
    K = len(offsets)
    C = x.shape[-1]
    diag = out != "values"
    tiny = torch.finfo(x.dtype).tiny
    tm = t.clamp(0, C - 1)  # the target on every counted row; ignored rows read a valid class
    smooth = [kind == "ce" for kind in kinds]
    if log_probs:
        nll, sm, rest, lse_x = [-x.gather(1, tm.unsqueeze(1)).squeeze(1)] * K, [None] * K, [None] * K, None
    else:
        nll, sm, rest, lse_x = _softmax_terms(x, tm, W, OFF, offsets, smooth, weighted, diag)
    tf = t.to(P.dtype)
    sums, denoms, states, losses, grads = [], [], [], [], []
    for k in range(K):
        eps, gamma = P[k, 0], P[k, 1]
        validf = (tf != P[k, 2]).to(x.dtype)
        w_raw = W[k][tm]
        w_t = w_raw * validf
        denoms.append((w_t if s is None else w_t * s).sum(dtype=torch.float64))
        loss = _mc_combine(kinds[k], nll[k], sm[k], w_t, validf, eps, gamma, C)
        loss = loss if s is None else loss * s
        sums.append(loss.sum(dtype=torch.float64))
        if not diag:
            continue
        if kinds[k] == "focal":
            p_t = torch.exp(-nll[k])
            one_minus = 1.0 - p_t if rest[k] is None else rest[k][2]  # the latter exact near p_t = 1
            base = torch.clamp(one_minus, min=tiny)
            dfocal = torch.where(one_minus >= tiny, gamma * torch.pow(base, gamma - 1.0), torch.zeros_like(base))
            a = w_t * (torch.pow(base, gamma) + nll[k] * p_t * dfocal)
        else:
            a = w_t * (1.0 - eps) if smooth[k] else w_t
        b = torch.where(eps > 0, eps / C * validf, torch.zeros_like(a)) if smooth[k] else torch.zeros_like(a)
        if s is not None:
            a, b = a * s, b * s
        g = _grad_norm(W[k], x.dtype, w_raw, a, b, rest[k])
        if out == "stats":
            states.append(column_stats(loss, g, T[k]))
        else:
            losses.append(loss)
            grads.append(g)
    saturated = None if lse_x is None or not diag else (-lse_x >= math.log1p(-torch.finfo(x.dtype).eps)).sum()
    return _outputs(out, torch.stack(sums), torch.stack(denoms), states, losses, grads, saturated)


KERNELS = {
    "regression": regression_kernel,
    "binary": binary_kernel,
    "multiclass": multiclass_kernel,
}
