"""Count-data facts: is Poisson enough, or do overdispersion or excess zeros call for more?

Poisson forces variance = mean. The dispersion index var/mean with its chi-square test says
whether a negative binomial is needed; comparing the observed zero share with what a
negative binomial of the same mean and variance would produce says whether zeros come
from a separate process (zero inflation), which is where Tweedie's point mass at 0 helps.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sstats

OVERDISPERSION_ALPHA = 0.01  # significance of the dispersion test
OVERDISPERSION_EFFECT = (
    1.2  # and a variance at least 20% above the mean, so huge n alone does not flag it
)
ZERO_EXCESS = 0.05  # zero share above the NB expectation by 5 points


def count_stats(values: np.ndarray) -> dict[str, float | bool]:
    """Fields of ``CountStats``; ``values`` are non-negative integers (any shape)."""
    x = values.ravel()
    n = x.size
    mean = float(x.mean())
    var = float(x.var(ddof=1)) if n > 1 else 0.0
    zeros = float((x == 0).mean())
    di = var / mean if mean > 0 else 0.0
    p = float(sstats.chi2.sf((n - 1) * di, n - 1)) if mean > 0 and n > 1 else 1.0
    alpha = max((var - mean) / mean**2, 0.0) if mean > 0 else 0.0
    p0_poisson = math.exp(-mean)
    p0_nb = (1.0 + alpha * mean) ** (-1.0 / alpha) if alpha > 1e-12 else p0_poisson
    excess = zeros - p0_nb
    return {
        "mean": mean,
        "variance": var,
        "share_zeros": zeros,
        "dispersion_index": di,
        "overdispersion_p_value": p,
        "overdispersed": bool(p < OVERDISPERSION_ALPHA and di > OVERDISPERSION_EFFECT),
        "nb_alpha": alpha,
        "expected_zero_share_poisson": p0_poisson,
        "expected_zero_share_nb": p0_nb,
        "excess_zero_share": excess,
        "zero_inflated": bool(excess > ZERO_EXCESS),
    }


def applies(values: np.ndarray) -> bool:
    """Count statistics only mean something for non-negative integers that are not all zero.

    Values beyond 2**53 are no longer exact integers in float64 (and their squares overflow),
    so they are not treated as counts.
    """
    return bool(
        values.size
        and values.min() >= 0
        and 0 < values.max() < 2.0**53
        and np.all(np.mod(values, 1.0) == 0)
    )
