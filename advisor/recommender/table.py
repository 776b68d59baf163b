"""The decision table, as data: one row per rule.

A row holds a condition on the profile's facts (clauses ANDed, each "fact op value"), the
losses it favours (positive weight) or penalises (negative), the losses it rules out
(``avoid``), how hyperparameters are derived (names from ``derive.DERIVATIONS``), and a
rationale template. Templates may only quote facts, so every number a user reads was
measured; each cites the guide rule behind it (guides 000-003 in the project's seeds, or
"past the guides" for the literature the guides do not cover). A row whose template names a
fact the profile lacks does not fire, so no rationale ever prints a placeholder.

Weights are additive. Task rows set a baseline ranking per task; data rows move losses up
or down from it; goal rows dominate because a stated goal outranks a data heuristic.
"""

from __future__ import annotations

import operator
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Clause = tuple[str, str, Any]

_OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}
_NEGATIVE_OPS = ("!=", "not in")

CLASSIFICATION = ("binary", "multiclass")
SIGMOID_TASKS = ("binary", "multilabel")
NOT_CALIBRATED: Clause = ("goal", "!=", "calibrated")
#: a stated goal about where the fit sits (a median, quantiles, robustness) outranks a reading
GOAL_NOT_LOCATION: Clause = ("goal", "not in", ("robust", "median", "quantile"))
#: strictly positive non-integer targets, significantly right-skewed (two standard errors of
#: the sample skewness, the lead that settles a reading elsewhere), and at least half as
#: skewed as a Gamma of their mean and spread (2·CV), as counts must be half a negative
#: binomial's
GAMMA_LIKE: tuple[Clause, ...] = (
    ("task", "==", "regression"),
    ("n_outputs", "==", 1),  # pooled over columns of other units, a mean and CV mean nothing
    ("reading", "!=", "proportion"),
    ("is_integer", "==", False),  # integers read as a quantity have their own readings
    ("min", ">", 0.0),
    ("skew_z", ">=", 2.0),
    ("skew_vs_gamma", ">=", 0.5),
)


@dataclass(frozen=True)
class Rule:
    id: str
    cite: str
    when: tuple[Clause, ...]
    template: str
    favour: Mapping[str, float] = field(default_factory=dict)
    avoid: tuple[str, ...] = ()
    params: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    say: Mapping[str, str] = field(
        default_factory=dict
    )  # per-loss templates, where the row's differs
    # Said instead when a task hint leaves the profile without the facts the template quotes
    # (task="multilabel" on 1-D targets, say): task rows must still rank their losses.
    fallback: str = ""

    def fields(self) -> set[str]:
        names: set[str] = set()
        for text in (self.template, self.fallback, *self.say.values()):
            names |= _names(text)
        return names

    def fires(self, facts: Mapping[str, Any]) -> bool:
        for fact, op, value in self.when:
            have = facts.get(fact)
            if have is None:
                if op in _NEGATIVE_OPS:
                    continue
                return False
            if not _OPS[op](have, value):
                return False
        return bool(self.fallback) or _complete(self.template, facts)

    def render(self, facts: Mapping[str, Any], loss: str | None = None) -> str:
        text = self.say.get(loss, self.template) if loss else self.template
        if not _complete(text, facts):
            text = self.fallback if _complete(self.fallback, facts) else ""
        return text.format(**facts)


def _names(text: str) -> set[str]:
    return {n.split(".")[0].split("[")[0] for _, n, _, _ in string.Formatter().parse(text) if n}


def _complete(text: str, facts: Mapping[str, Any]) -> bool:
    return bool(text) and all(facts.get(n) is not None for n in _names(text))


HUBER_PARAMS = {
    "HuberLoss": {"delta": "huber_delta"},
    "SmoothL1Loss": {"beta": "smoothl1_beta"},
    "AdaptiveRobustLoss": {"scale": "robust_scale", "alpha": "robust_alpha"},
}
CLASS_PARAMS = {
    "FocalLoss": {"gamma": "focal_gamma", "alpha": "focal_alpha", "mode": "focal_mode"},
    "ClassBalancedLoss": {
        "samples_per_class": "samples_per_class",
        "beta": "cb_beta",
        "base": "cb_base",
        "gamma": "focal_gamma",
    },
    "LogitAdjustedLoss": {"class_priors": "class_priors"},
}

RULES: tuple[Rule, ...] = (
    # ----- regression ---------------------------------------------------------------------
    Rule(
        "regression-base",
        "guide 002, Regression Loss",
        (("task", "==", "regression"),),
        "targets are a continuous quantity ({n_distinct} distinct values over [{min:.4g}, {max:.4g}]): "
        "regression losses compare predicted and true values directly (guide 002, Regression Loss)",
        favour={
            "MSELoss": 2.0,
            "HuberLoss": 1.5,
            "SmoothL1Loss": 1.0,
            "L1Loss": 1.0,
            "LogCoshLoss": 0.5,
            "AdaptiveRobustLoss": 0.3,
            "GaussianNLLLoss": 0.1,
        },
        params=HUBER_PARAMS,
        say={
            "HuberLoss": "Huber is quadratic for small residuals and linear for large ones, a safe default when "
            "outliers may appear (guide 000, table row Huber)",
            "SmoothL1Loss": "SmoothL1 is Huber divided by beta: the same robustness with a unit-slope tail "
            "(guide 001, Smooth L1Loss)",
            "L1Loss": "L1 fits the conditional median and caps each residual's pull (guide 000, table row L1 Loss (MAE))",
            "LogCoshLoss": "log-cosh behaves like MSE near 0 and like L1 far out, and is twice differentiable "
            "(past the guides)",
            "AdaptiveRobustLoss": "the adaptive robust loss spans L2, pseudo-Huber and Cauchy with one shape "
            "parameter (past the guides: Barron 2019)",
            "GaussianNLLLoss": "GaussianNLLLoss also predicts the variance of the {n_used} targets (past the guides)",
        },
        fallback="task is regression: regression losses compare predicted and true values directly (guide 002, Regression Loss)",
    ),
    Rule(
        "mse-well-behaved",
        "guide 000, table row L2 Loss (MSE)",
        (
            ("task", "==", "regression"),
            ("outliers_credible", "==", False),
            ("heavy_tailed", "==", False),
        ),
        "no credible outliers ({outlier_pct_mz:.1f}% of {errors_of} by modified z > 3.5, at most one "
        "borderline point) and {tails}: well-behaved errors, where MSE gives the tight fit "
        "(guide 000, table row L2 Loss (MSE))",
        favour={"MSELoss": 3.0},
    ),
    Rule(
        "huber-outliers",
        "guide 000, table row Huber",
        (("task", "==", "regression"), ("outliers_credible", "==", True)),
        "{outlier_pct_mz:.1f}% of {errors_of} are outliers by modified z > 3.5; L1/Huber reduce their pull "
        "(guide 000, table row Huber)",
        favour={
            "HuberLoss": 4.0,
            "SmoothL1Loss": 3.0,
            "L1Loss": 2.5,
            "LogCoshLoss": 1.5,
            "AdaptiveRobustLoss": 1.5,
            "MSELoss": -3.0,
        },
        params=HUBER_PARAMS,
    ),
    Rule(
        "l1-extreme-outliers",
        "guide 000, table row L1 Loss (MAE)",
        (
            ("task", "==", "regression"),
            ("outliers_credible", "==", True),
            ("outlier_severity", ">=", 10.0),
        ),
        "the outliers sit a median {outlier_severity:.1f} robust units from the median (max {max_abs_mz:.1f}): "
        "large outliers, whose pull L1 caps at a constant gradient (guide 000, table row L1 Loss (MAE))",
        favour={"L1Loss": 3.0},
    ),
    Rule(
        "mse-heavy-tails",
        "guide 000, table row L2 Loss (MSE)",
        (("task", "==", "regression"), ("heavy_tailed", "==", True)),
        "{tails}, {outlier_pct_mz:.1f}% of {errors_of} outliers by modified z > 3.5 and "
        "{outlier_pct_iqr:.1f}% outside the IQR fences: heavy tails, "
        "where squared errors let the largest residuals dominate the gradient (guide 000: MSE is 'much more "
        "sensitive to outliers')",
        favour={"MSELoss": -4.0},
        avoid=("MSELoss",),
    ),
    Rule(
        "tails-are-signal",
        "guide 000, table row Huber (its outliers are errors)",
        (
            ("task", "==", "regression"),
            ("has_residuals", "==", True),
            ("outliers_credible", "==", False),
            ("heavy_tailed", "==", False),
            ("y_outliers_credible", "==", True),
        ),
        "the targets themselves have {y_outlier_pct_mz:.1f}% outliers by modified z > 3.5 (excess kurtosis "
        "{y_kurtosis:.2f}), but {errors_of} have {outlier_pct_mz:.1f}%: the tails are signal the features "
        "explain, not noise, so nothing asks a loss to resist them (guide 000, table row Huber: its outliers "
        "are errors)",
        favour={"MSELoss": 1.0},
    ),
    Rule(
        "noise-behind-signal",
        "guide 000, table row Huber",
        (
            ("task", "==", "regression"),
            ("has_residuals", "==", True),
            ("outliers_credible", "==", True),
            ("y_outliers_credible", "==", False),
        ),
        "the targets look well-behaved ({y_outlier_pct_mz:.1f}% outliers by modified z > 3.5, excess kurtosis "
        "{y_kurtosis:.2f}), but {outlier_pct_mz:.1f}% of {errors_of} are outliers: the signal hides "
        "heavy-tailed noise, and the noise is what a loss sees (guide 000, table row Huber)",
        favour={"HuberLoss": 1.0, "L1Loss": 0.5},
        params=HUBER_PARAMS,
    ),
    Rule(
        "heteroscedastic-residuals",
        "past the guides: Nix & Weigend 1994, mean-variance estimation",
        (("task", "==", "regression"), ("heteroscedastic", "==", True)),
        "the spread of {errors_of} follows the prediction (Spearman rho {resid_scale_trend:.2f} between "
        "|residual| and prediction): GaussianNLLLoss learns a variance per row, so large-noise rows stop "
        "dominating a squared error (past the guides: Nix & Weigend 1994)",
        favour={"GaussianNLLLoss": 3.0},
    ),
    Rule(
        "l1-heteroscedastic-outliers",
        "guide 000, table row L1 Loss (MAE); past the guides: Koenker & Bassett 1978, regression quantiles",
        (("task", "==", "regression"), ("outliers_credible", "==", True), ("heteroscedastic", "==", True)),
        "{outlier_pct_mz:.1f}% of {errors_of} are outliers, and their spread follows the prediction (Spearman "
        "rho {resid_scale_trend:.2f} between |residual| and prediction): Huber's delta is one residual scale for "
        "every row, so it treats ordinary residuals as outliers where the spread is wide and squares outliers "
        "where it is narrow; L1 needs no scale and fits the conditional median whatever the spread (guide 000, "
        "table row L1 Loss (MAE); past the guides: Koenker & Bassett 1978)",
        favour={"L1Loss": 2.0, "HuberLoss": -1.0, "SmoothL1Loss": -1.0},
    ),
    Rule(
        "smoothl1-correction",
        "guide 001, Smooth L1Loss (corrected)",
        (("task", "==", "regression"), ("outliers_credible", "==", True)),
        "with {outlier_pct_mz:.1f}% outliers note that SmoothL1 is less, not more, sensitive to outliers than "
        "MSE, whatever guide 001 says; it is Huber divided by beta (guide 001, Smooth L1Loss, corrected)",
        favour={"SmoothL1Loss": 0.0},
    ),
    Rule(
        "tweedie-zero-mass",
        "past the guides: Tweedie compound Poisson-Gamma",
        (("task", "in", ("regression",)), ("min", ">=", 0.0), ("zero_pct", ">=", 10.0)),
        "{zero_pct:.1f}% of targets are exactly 0 and none is negative: Tweedie's compound Poisson-Gamma puts a "
        "point mass at 0 and a continuous positive part (past the guides: Tweedie)",
        favour={"TweedieLoss": 6.0, "MSELoss": -1.0},
        params={"TweedieLoss": {"power": "tweedie_power"}},
    ),
    Rule(
        "tweedie-skewed-positive",
        "past the guides: Tweedie near Gamma; a Gamma's skewness is 2·CV (Johnson, Kotz & Balakrishnan 1994)",
        GAMMA_LIKE,
        "strictly positive targets (from {min:.4g}) with skew {skew:.2f}, {skew_z:.1f} standard errors above 0 and "
        "{skew_vs_gamma:.2f} times the {gamma_skew:.2f} a Gamma of their mean and spread has (2 × coefficient of "
        "variation {cv:.2f}): a Tweedie power near 2 (Gamma) lets the spread grow in proportion to the mean (past "
        "the guides: Tweedie; Johnson, Kotz & Balakrishnan 1994, a Gamma's skewness is 2·CV)",
        favour={"TweedieLoss": 2.0},
        params={"TweedieLoss": {"power": "tweedie_power"}},
    ),
    Rule(
        "gamma-targets-alone",
        "past the guides: Gamma GLM (McCullagh & Nelder 1989, ch. 8)",
        (*GAMMA_LIKE, ("has_features", "==", False), GOAL_NOT_LOCATION),
        "with no features given, the targets' own shape stands in for the errors': "
        "strictly positive and skewed like a Gamma with coefficient of variation {cv:.2f}, the shape of noise whose "
        "spread grows in proportion to the mean, which the Gamma deviance (Tweedie power near 2) models and a "
        "squared error ignores (past the guides: McCullagh & Nelder 1989, ch. 8, Gamma models)",
        favour={"TweedieLoss": 4.0},
        params={"TweedieLoss": {"power": "tweedie_power"}},
    ),
    Rule(
        "proportion-bce",
        "past the guides: fractional response models (Papke & Wooldridge 1996)",
        (("task", "==", "regression"), ("reading", "==", "proportion"), GOAL_NOT_LOCATION),
        "targets are shares: {n_distinct} distinct values, every one within [0, 1] ({min:.4g} to {max:.4g}, mean "
        "{mean:.3g}, {bound_pct:.1f}% exactly at 0 or 1). BCEWithLogitsLoss takes them as soft targets: its sigmoid "
        "keeps predictions inside the unit interval and its Bernoulli variance p(1 - p) narrows towards the bounds "
        "as a share's does; this fractional logit fits the mean share consistently whatever the shares' "
        "distribution on [0, 1], bounds included (past the guides: Papke & Wooldridge 1996)",
        favour={"BCEWithLogitsLoss": 6.0},
    ),
    Rule(
        "proportion-predicted-shares",
        "guide 001, BCELoss",
        (
            ("task", "==", "regression"),
            ("reading", "==", "proportion"),
            ("pred_format", "==", "probabilities"),
            GOAL_NOT_LOCATION,
        ),
        "the predictions lie in [{pred_min:.3g}, {pred_max:.3g}]: shares already, which BCELoss takes as they are "
        "against the shares in the targets (guide 001, BCELoss)",
        favour={"BCELoss": 6.5},
    ),
    Rule(
        "logit-loss-on-predicted-shares",
        "guide 001, BCEWithLogitsLoss",
        (("task", "==", "regression"), ("reading", "==", "proportion"), ("pred_format", "==", "probabilities")),
        "the predictions in [{pred_min:.3g}, {pred_max:.3g}] are shares already; BCEWithLogitsLoss would apply a "
        "second sigmoid to them (guide 001, BCEWithLogitsLoss: 'adds a Sigmoid layer')",
        avoid=("BCEWithLogitsLoss",),
    ),
    Rule(
        "proportion-bounded-pull",
        "past the guides: the logistic loss's bounded gradient",
        (
            ("task", "==", "regression"),
            ("reading", "==", "proportion"),
            ("outliers_credible", "==", True),
            GOAL_NOT_LOCATION,
        ),
        "{outlier_pct_mz:.1f}% of {errors_of} are outliers by modified z > 3.5, but a share cannot stray past 0 or "
        "1, and BCE's gradient in the logit, sigmoid(z) - y, stays within [-1, 1]: like Huber's linear tail it caps "
        "each row's pull, while keeping the predictions inside the bounds (past the guides: the logistic loss's "
        "bounded gradient)",
        favour={"BCEWithLogitsLoss": 2.0},
    ),
    Rule(
        "feature-outliers",
        "guide 000, choosing step 'Analyze your data'",
        (("task", "==", "regression"), ("feature_outlier_pct", ">=", 5.0)),
        "{feature_outlier_pct:.1f}% of rows are outliers in feature space (IsolationForest): leverage points "
        "pull a squared-error fit (guide 000, choosing step 'Analyze your data')",
        favour={"HuberLoss": 1.0, "L1Loss": 0.5},
        params=HUBER_PARAMS,
    ),
    # ----- counts -------------------------------------------------------------------------
    Rule(
        "count-poisson",
        "guide 000, table row Poisson; guide 001, PoissonNLLLoss",
        (("task", "==", "count"),),
        "count targets with mean {mean:.3g} and {zero_pct:.1f}% zeros: a Poisson "
        "likelihood models counts (guide 000, table row Poisson; guide 001, PoissonNLLLoss)",
        favour={"PoissonNLLLoss": 5.0, "NegativeBinomialNLLLoss": 2.0, "TweedieLoss": 1.5},
        say={
            "NegativeBinomialNLLLoss": "the negative binomial generalises Poisson with a dispersion alpha; "
            "{dispersion_what} is {dispersion_index:.2f} (past the guides)",
            "TweedieLoss": "Tweedie with power in (1, 2) is a compound Poisson-Gamma for counts with many zeros "
            "({zero_pct:.1f}% here) (past the guides)",
        },
        params={
            "PoissonNLLLoss": {"log_input": "poisson_log_input"},
            "NegativeBinomialNLLLoss": {
                "dispersion": "nb_dispersion",
                "log_input": "poisson_log_input",
            },
            "TweedieLoss": {"power": "tweedie_power"},
        },
        fallback="task is count: a Poisson likelihood models counts (guide 000, table row Poisson; guide 001, PoissonNLLLoss)",
    ),
    Rule(
        "count-overdispersed",
        "past the guides: negative binomial",
        (("task", "==", "count"), ("overdispersed", "==", True)),
        "{dispersion_what} = {dispersion_index:.2f} (dispersion test p = {overdispersion_p:.2g}): Poisson forces "
        "variance = mean; the negative binomial's alpha absorbs the extra variance (past the guides: "
        "negative binomial)",
        favour={"NegativeBinomialNLLLoss": 4.0, "PoissonNLLLoss": -1.0},
        params={"NegativeBinomialNLLLoss": {"dispersion": "nb_dispersion"}},
    ),
    Rule(
        "dispersion-from-covariates",
        "past the guides: negative binomial",
        (
            ("task", "==", "count"),
            ("has_residuals", "==", True),
            ("overdispersed", "==", False),
            ("y_overdispersed", "==", True),
        ),
        "the counts' own variance/mean is {y_dispersion_index:.2f}, but {dispersion_what} is "
        "{dispersion_index:.2f}: the features explain the extra variance, and Poisson fits what is left "
        "(past the guides: negative binomial)",
        favour={"PoissonNLLLoss": 2.0},
    ),
    Rule(
        "count-zero-inflated",
        "past the guides: Tweedie for zero-inflated targets",
        (("task", "==", "count"), ("zero_inflated", "==", True)),
        "{zero_pct:.1f}% zeros where a negative binomial of the same mean and variance expects "
        "{zero_pct_expected_nb:.1f}%: excess zeros, which Tweedie's point mass at 0 absorbs (past the guides: "
        "Tweedie)",
        favour={"TweedieLoss": 5.0},
        params={"TweedieLoss": {"power": "tweedie_power"}},
    ),
    Rule(
        "count-mse",
        "guide 000, table row Poisson",
        (("task", "==", "count"), ("overdispersed", "==", True)),
        "count variance {count_variance:.3g} far exceeds the mean {count_mean:.3g}: MSE assumes one constant "
        "variance and lets the largest counts dominate (guide 000, table row Poisson)",
        avoid=("MSELoss",),
    ),
    # ----- binary -------------------------------------------------------------------------
    Rule(
        "binary-bce-logits",
        "guide 001, BCEWithLogitsLoss",
        (("task", "==", "binary"),),
        "two classes ({class_counts}): BCEWithLogitsLoss fuses the sigmoid into the loss and is more "
        "numerically stable than Sigmoid + BCELoss (guide 001, BCEWithLogitsLoss)",
        favour={
            "BCEWithLogitsLoss": 5.0,
            "CrossEntropyLoss": 1.5,
            "FocalLoss": 1.0,
            "HingeLoss": 1.0,
            "BCELoss": 1.0,
            "SoftMarginLoss": 0.5,
            "ClassBalancedLoss": 0.5,
            "LogitAdjustedLoss": 0.3,
        },
        params=CLASS_PARAMS,
        say={
            "CrossEntropyLoss": "two classes ({class_counts}) can also be two logits under softmax "
            "cross-entropy (guide 000, table row Cross-Entropy)",
            "FocalLoss": "focal loss is BCE scaled by (1 - p_t)^gamma, for when easy examples dominate "
            "(past the guides: Lin et al. 2017)",
            "HingeLoss": "hinge max(0, 1 - y·ŷ) is the SVM loss for two classes, without probabilities "
            "(guide 000, table row Hinge)",
            "BCELoss": "BCELoss is the same cross-entropy on sigmoid outputs; less stable than the fused form "
            "(guide 001, BCELoss)",
            "SoftMarginLoss": "SoftMarginLoss is a smooth hinge, log(1 + exp(-y·ŷ)) (past the guides)",
            "ClassBalancedLoss": "class-balanced loss re-weights the {class_counts} classes by effective "
            "numbers (past the guides: Cui et al. 2019)",
            "LogitAdjustedLoss": "logit adjustment adds log class priors to the logits (past the guides: "
            "Menon et al. 2021)",
        },
        fallback="task is binary: BCEWithLogitsLoss fuses the sigmoid into the loss and is more numerically stable than Sigmoid + BCELoss (guide 001, BCEWithLogitsLoss)",
    ),
    Rule(
        "binary-hinge",
        "guide 000, table row Hinge",
        (("task", "==", "binary"), ("label_style", "==", "plus_minus_one")),
        "labels are {{-1, 1}} ({class_counts}): margin-style targets that the hinge max(0, 1 - y·ŷ) uses "
        "directly, as in SVMs (guide 000, table row Hinge)",
        favour={"HingeLoss": 5.0, "SoftMarginLoss": 3.0},
    ),
    Rule(
        "binary-pos-weight",
        "guide 001, BCEWithLogitsLoss (pos_weight)",
        (("task", "==", "binary"), ("imbalance_ratio", ">=", 1.5), NOT_CALIBRATED),
        "the minority class is {minority_pct:.1f}% of rows (imbalance {imbalance_ratio:.2f}:1): pos_weight = "
        "n_neg/n_pos restores the positives' share of the gradient (guide 001, BCEWithLogitsLoss pos_weight)",
        favour={"BCEWithLogitsLoss": 0.5},
        params={"BCEWithLogitsLoss": {"pos_weight": "pos_weight"}},
    ),
    Rule(
        "binary-imbalance",
        "past the guides: focal and class-balanced losses",
        (("task", "==", "binary"), ("imbalance_ratio", ">=", 3.0), NOT_CALIBRATED),
        "imbalance {imbalance_ratio:.2f}:1 (minority {minority_pct:.1f}%): focal and class-balanced losses keep "
        "the easy majority from dominating (past the guides: Lin et al. 2017, Cui et al. 2019)",
        favour={"FocalLoss": 2.5, "ClassBalancedLoss": 2.0, "HingeLoss": -2.0},
        params=CLASS_PARAMS,
    ),
    Rule(
        "binary-severe-imbalance",
        "past the guides: focal loss",
        (("task", "==", "binary"), ("imbalance_ratio", ">=", 20.0), NOT_CALIBRATED),
        "severe imbalance {imbalance_ratio:.1f}:1: the focal term (1 - p_t)^gamma stops the many easy negatives "
        "from swamping the {minority_pct:.2f}% positives (past the guides: Lin et al. 2017)",
        favour={"FocalLoss": 3.0, "ClassBalancedLoss": 1.0},
        params=CLASS_PARAMS,
    ),
    Rule(
        "binary-probabilities",
        "guide 001, BCELoss",
        (("task", "in", SIGMOID_TASKS), ("pred_format", "==", "probabilities")),
        "predictions lie in [{pred_min:.3g}, {pred_max:.3g}]: sigmoid outputs, which BCELoss takes as they are "
        "(or drop the sigmoid and use BCEWithLogitsLoss) (guide 001, BCELoss)",
        favour={"BCELoss": 6.0},
    ),
    Rule(
        "logit-loss-on-probabilities",
        "guide 001, BCEWithLogitsLoss",
        (("task", "in", SIGMOID_TASKS), ("pred_format", "==", "probabilities")),
        "predictions in [{pred_min:.3g}, {pred_max:.3g}] are already probabilities; a loss that takes logits "
        "would apply a second sigmoid (guide 001, BCEWithLogitsLoss: 'adds a Sigmoid layer')",
        avoid=("BCEWithLogitsLoss", "FocalLoss", "ClassBalancedLoss", "MultiLabelSoftMarginLoss"),
    ),
    Rule(
        "bce-on-logits",
        "guide 001, BCELoss",
        (("task", "in", SIGMOID_TASKS), ("pred_format", "in", ("logits", "log_probabilities"))),
        "predictions range over [{pred_min:.3g}, {pred_max:.3g}]: {pred_format}, not probabilities, and BCELoss "
        "needs values in [0, 1] (guide 001, BCELoss: sigmoid first)",
        favour={"BCEWithLogitsLoss": 1.0},
        avoid=("BCELoss",),
    ),
    Rule(
        "hinge-calibrated",
        "past the guides: proper scoring rules",
        (("task", "==", "binary"), ("goal", "==", "calibrated")),
        "goal is {goal_text} probabilities: hinge losses produce margins, not probabilities (past the guides: "
        "proper scoring rules)",
        avoid=("HingeLoss", "SoftMarginLoss"),
    ),
    # ----- binary + multiclass ------------------------------------------------------------
    Rule(
        "ce-on-probabilities",
        "guide 002, Cross-Entropy Loss (corrected)",
        (("task", "in", CLASSIFICATION), ("pred_format", "==", "probabilities")),
        "predictions are sigmoid/softmax outputs in [{pred_min:.3g}, {pred_max:.3g}]; CrossEntropyLoss expects "
        "raw logits and would softmax them again; guide 002's 'works on sigmoid activation' is a mistake "
        "(guide 002, Cross-Entropy Loss)",
        avoid=("CrossEntropyLoss", "LogitAdjustedLoss", "MultiMarginLoss"),
    ),
    Rule(
        "nll-on-raw-scores",
        "guide 003, Negative Log Loss",
        (("task", "in", CLASSIFICATION), ("pred_format", "==", "logits")),
        "predictions are raw scores in [{pred_min:.3g}, {pred_max:.3g}]; NLLLoss on them returns a wrong, even "
        "negative, number without any error; apply LogSoftmax first (guide 003, Negative Log Loss)",
        avoid=("NLLLoss",),
    ),
    Rule(
        "regression-on-classes",
        "guide 002, regression vs classification loss",
        (("task", "in", CLASSIFICATION),),
        "class labels ({class_counts}) are categories, not quantities: MSE or L1 on them invents an order and a "
        "distance between classes (guide 002, regression vs classification loss)",
        avoid=("MSELoss", "L1Loss"),
    ),
    Rule(
        "classification-calibrated",
        "past the guides: proper scoring rules",
        (("task", "in", (*CLASSIFICATION, "multilabel")), ("goal", "==", "calibrated")),
        "goal is {goal_text} probabilities: plain cross-entropy is a proper scoring rule, while class "
        "re-weighting and focusing shift the predicted probabilities (past the guides: proper scoring rules)",
        favour={
            "CrossEntropyLoss": 1.0,
            "BCEWithLogitsLoss": 1.0,
            "FocalLoss": -2.0,
            "ClassBalancedLoss": -2.0,
            "LogitAdjustedLoss": -1.0,
        },
    ),
    # ----- multiclass ---------------------------------------------------------------------
    Rule(
        "multiclass-ce",
        "guide 000, table row Cross-Entropy",
        (("task", "==", "multiclass"),),
        "{n_classes} classes ({class_counts}): cross-entropy on raw logits, softmax included, is the table's "
        "choice for multi-class problems (guide 000, table row Cross-Entropy)",
        favour={
            "CrossEntropyLoss": 5.0,
            "NLLLoss": 2.0,
            "FocalLoss": 1.0,
            "MultiMarginLoss": 0.5,
            "LogitAdjustedLoss": 0.5,
            "ClassBalancedLoss": 0.5,
        },
        params=CLASS_PARAMS,
        say={
            "NLLLoss": "NLLLoss is cross-entropy split in two: LogSoftmax, then NLL (guide 002, NLL Loss)",
            "FocalLoss": "focal loss scales cross-entropy by (1 - p_t)^gamma so easy examples weigh less "
            "(past the guides: Lin et al. 2017)",
            "MultiMarginLoss": "MultiMarginLoss is the multi-class hinge, margins without probabilities "
            "(past the guides: Weston & Watkins 1999)",
            "LogitAdjustedLoss": "logit adjustment adds log class priors to the logits, for label shift "
            "(past the guides: Menon et al. 2021)",
            "ClassBalancedLoss": "class-balanced loss re-weights the {n_classes} classes by effective numbers "
            "(past the guides: Cui et al. 2019)",
        },
        fallback="task is multiclass: cross-entropy on raw logits is the table's choice for multi-class problems (guide 000, table row Cross-Entropy)",
    ),
    Rule(
        "nll-needs-log-softmax",
        "guide 003, Negative Log Loss; guide 002, NLL Loss",
        (("task", "==", "multiclass"),),
        "NLLLoss over {n_classes} classes expects log-probabilities: put LogSoftmax before it, or it silently "
        "returns a wrong value (guide 003, Negative Log Loss)",
        favour={"NLLLoss": 0.0},
    ),
    Rule(
        "multiclass-imbalance",
        "past the guides: class-balanced and logit-adjusted losses",
        (("task", "==", "multiclass"), ("imbalance_ratio", ">=", 3.0), NOT_CALIBRATED),
        "imbalance {imbalance_ratio:.2f}:1 (smallest class {minority_pct:.1f}% of rows, class entropy "
        "{norm_entropy:.2f} of the maximum): effective-number weights, logit adjustment or focusing keep the "
        "majority from dominating (past the guides: Cui et al. 2019, Menon et al. 2021)",
        favour={
            "ClassBalancedLoss": 2.5,
            "LogitAdjustedLoss": 2.5,
            "FocalLoss": 2.0,
            "CrossEntropyLoss": 0.5,
        },
        params={**CLASS_PARAMS, "CrossEntropyLoss": {"weight": "balanced_weights"}},
    ),
    Rule(
        "multiclass-severe-imbalance",
        "past the guides: class-balanced loss",
        (("task", "==", "multiclass"), ("imbalance_ratio", ">=", 20.0), NOT_CALIBRATED),
        "severe imbalance {imbalance_ratio:.1f}:1: effective numbers (beta {effective_beta:.4g}) weight the "
        "rare classes by the information they add (past the guides: Cui et al. 2019)",
        favour={"ClassBalancedLoss": 3.0, "FocalLoss": 1.0},
        params=CLASS_PARAMS,
    ),
    Rule(
        "multiclass-one-hot",
        "guide 002, Softmax",
        (("task", "==", "multiclass"), ("class_encoding", "==", "one_hot")),
        "targets are one-hot rows over {n_classes} classes: CrossEntropyLoss takes them as class probabilities, "
        "or take argmax for indices (guide 002, Softmax: one-hot labels)",
        favour={"CrossEntropyLoss": 0.5},
    ),
    Rule(
        "multiclass-log-probabilities",
        "guide 002, NLL Loss",
        (("task", "==", "multiclass"), ("pred_format", "==", "log_probabilities")),
        "predictions are log-probabilities (all <= {pred_max:.3g}, rows log-sum-exp to 0): NLLLoss is the "
        "loss that pairs with LogSoftmax (guide 002, NLL Loss)",
        favour={"NLLLoss": 6.0},
    ),
    Rule(
        "softmax-loss-on-probabilities",
        "guide 002, Softmax",
        (("task", "==", "multiclass"), ("pred_format", "==", "probabilities")),
        "predictions are softmax outputs in [{pred_min:.3g}, {pred_max:.3g}]; focal and class-balanced losses "
        "take logits and would apply a second softmax, flattening the probabilities and their gradients "
        "(guide 002, Softmax)",
        avoid=("FocalLoss", "ClassBalancedLoss"),
    ),
    Rule(
        "multiclass-probabilities",
        "guide 003, Negative Log Loss",
        (("task", "==", "multiclass"), ("pred_format", "==", "probabilities")),
        "predictions are softmax outputs in [{pred_min:.3g}, {pred_max:.3g}]: take torch.log of them and use "
        "NLLLoss, or drop the softmax and use CrossEntropyLoss (guide 003, Negative Log Loss)",
        favour={"NLLLoss": 6.0},
    ),
    Rule(
        "label-noise",
        "past the guides: label smoothing",
        (("task", "in", CLASSIFICATION), ("label_noise", "==", True)),
        "{confident_mistake_pct:.1f}% of rows are confident mistakes of {errors_of}: their class got "
        "probability below 0.1 where another got 0.8 or more, which points to wrong labels; label smoothing "
        "bounds what each such row can cost (past the guides: label smoothing, Szegedy et al. 2016)",
        favour={"CrossEntropyLoss": 1.5},
        params={"CrossEntropyLoss": {"label_smoothing": "label_smoothing"}},
    ),
    Rule(
        "multiclass-robust",
        "past the guides: label smoothing",
        (("task", "==", "multiclass"), ("goal", "==", "robust")),
        "goal is {goal_text}: label smoothing bounds the penalty on a mislabelled row (past the guides: "
        "Szegedy et al. 2016)",
        favour={"CrossEntropyLoss": 0.5},
        params={"CrossEntropyLoss": {"label_smoothing": "label_smoothing"}},
    ),
    # ----- multilabel ---------------------------------------------------------------------
    Rule(
        "multilabel-bce",
        "guide 001, BCEWithLogitsLoss",
        (("task", "==", "multilabel"),),
        "{n_labels} labels with {ml_cardinality:.2f} positives per row ({ml_density_pct:.1f}% density): one "
        "sigmoid logit per label, BCEWithLogitsLoss with a pos_weight per label (guide 001, BCEWithLogitsLoss)",
        favour={
            "BCEWithLogitsLoss": 5.0,
            "MultiLabelSoftMarginLoss": 3.5,
            "FocalLoss": 1.0,
            "DiceLoss": 0.5,
            "BCELoss": 0.5,
            "MultiLabelMarginLoss": 0.3,
        },
        params={
            "BCEWithLogitsLoss": {"pos_weight": "pos_weight"},
            "FocalLoss": {"gamma": "focal_gamma", "alpha": "focal_alpha", "mode": "focal_mode"},
        },
        say={
            "FocalLoss": "focal loss in its sigmoid form treats each of the {n_labels} labels as a binary task "
            "(past the guides: Lin et al. 2017)",
            "DiceLoss": "Dice loss scores the overlap of predicted and true label sets (past the guides: "
            "Milletari et al. 2016)",
            "BCELoss": "BCELoss is the same per-label cross-entropy on sigmoid outputs (guide 001, BCELoss)",
            "MultiLabelMarginLoss": "MultiLabelMarginLoss is a multi-label hinge on label indices (past the guides)",
        },
        fallback="task is multilabel: one sigmoid logit per label, BCEWithLogitsLoss (guide 001, BCEWithLogitsLoss)",
    ),
    Rule(
        "multilabel-soft-margin",
        "past the guides: MultiLabelSoftMarginLoss",
        (("task", "==", "multilabel"),),
        "MultiLabelSoftMarginLoss is the same per-label sigmoid cross-entropy, averaged over the {n_labels} "
        "labels (past the guides: torch.nn.MultiLabelSoftMarginLoss)",
        favour={"MultiLabelSoftMarginLoss": 0.0},
    ),
    Rule(
        "multilabel-sparse",
        "past the guides: focal and Dice losses",
        (("task", "==", "multilabel"), ("ml_density_pct", "<", 10.0), NOT_CALIBRATED),
        "only {ml_density_pct:.1f}% of label slots are positive: focal and Dice losses keep the many easy "
        "negatives from dominating (past the guides: Lin et al. 2017, Milletari et al. 2016)",
        favour={"FocalLoss": 2.0, "DiceLoss": 1.5},
        params={
            "FocalLoss": {"gamma": "focal_gamma", "alpha": "focal_alpha", "mode": "focal_mode"}
        },
    ),
    Rule(
        "multilabel-not-softmax",
        "guide 002, Sigmoid vs Softmax",
        (("task", "==", "multilabel"),),
        "rows carry {ml_cardinality:.2f} positive labels on average; softmax makes labels compete for one unit "
        "of probability, so use a sigmoid per label (guide 002, Sigmoid vs Softmax)",
        avoid=("CrossEntropyLoss", "NLLLoss"),
    ),
    # ----- distributions ------------------------------------------------------------------
    Rule(
        "distribution-kl",
        "guide 001, KLDivLoss",
        (("task", "==", "distribution"),),
        "each row is a probability distribution over {n_components} components (row sums {row_sum_min:.4f} to "
        "{row_sum_max:.4f}): KLDivLoss on log-probability inputs measures the information lost (guide 001, "
        "KLDivLoss)",
        favour={"KLDivLoss": 5.0, "CrossEntropyLoss": 3.0},
        say={
            "CrossEntropyLoss": "soft-target cross-entropy on logits fits the {n_components}-component rows "
            "too (guide 002, Cross-Entropy Loss)"
        },
        params={"KLDivLoss": {"reduction": "kl_reduction"}},
        fallback="task is distribution: KLDivLoss on log-probability inputs measures the information lost (guide 001, KLDivLoss)",
    ),
    Rule(
        "distribution-soft-ce",
        "guide 002, Cross-Entropy Loss",
        (("task", "==", "distribution"),),
        "CrossEntropyLoss also takes the {n_components}-component probability rows as soft targets, with logits "
        "as input; it differs from KL only by the targets' constant entropy (guide 002, Cross-Entropy Loss)",
        favour={"CrossEntropyLoss": 0.0},
    ),
    # ----- ranking, embedding, sequence (from the hint) ------------------------------------
    Rule(
        "ranking-margin",
        "guide 001, MarginRankingLoss",
        (("task", "==", "ranking"),),
        "task is {task} (from the hint): MarginRankingLoss learns which of two items should score higher, from "
        "y in {{-1, 1}} (guide 001, MarginRankingLoss)",
        favour={
            "MarginRankingLoss": 5.0,
            "TripletMarginLoss": 2.0,
            "TripletMarginWithDistanceLoss": 1.0,
        },
        say={
            "TripletMarginLoss": "TripletMarginLoss ranks a positive above a negative for each anchor "
            "(guide 001, TripletMarginLoss)",
            "TripletMarginWithDistanceLoss": "the triplet loss with a custom distance, for non-Euclidean "
            "similarity (past the guides)",
        },
    ),
    Rule(
        "embedding-triplet",
        "guide 001, TripletMarginLoss",
        (("task", "==", "embedding"),),
        "task is {task} (from the hint): TripletMarginLoss pulls an anchor towards a positive and away from a "
        "negative (guide 001, TripletMarginLoss)",
        favour={
            "TripletMarginLoss": 5.0,
            "CosineEmbeddingLoss": 3.0,
            "HingeEmbeddingLoss": 2.5,
            "TripletMarginWithDistanceLoss": 1.0,
        },
        say={
            "CosineEmbeddingLoss": "CosineEmbeddingLoss learns from pairs labelled similar (1) or dissimilar "
            "(-1) by cosine similarity (past the guides)",
            "HingeEmbeddingLoss": "HingeEmbeddingLoss takes pair distances with labels in {{-1, 1}} (guide 001, "
            "Hinge Embedding Loss)",
            "TripletMarginWithDistanceLoss": "the triplet loss with a custom distance function (past the guides)",
        },
    ),
    Rule(
        "embedding-pairs",
        "guide 001, Hinge Embedding Loss",
        (
            ("task", "==", "embedding"),
            ("n_distinct", "==", 2),
            ("min", "==", -1.0),
            ("max", "==", 1.0),
        ),
        "targets are {{-1, 1}} pair labels: HingeEmbeddingLoss and CosineEmbeddingLoss take a pair distance or "
        "similarity with similar/dissimilar labels (guide 001, Hinge Embedding Loss)",
        favour={"HingeEmbeddingLoss": 3.0, "CosineEmbeddingLoss": 1.0},
    ),
    Rule(
        "sequence-ctc",
        "past the guides: CTC",
        (("task", "==", "sequence"),),
        "task is {task} (from the hint): CTCLoss aligns unsegmented label sequences with per-frame outputs "
        "(past the guides: Graves et al. 2006)",
        favour={"CTCLoss": 5.0},
    ),
    # ----- goals --------------------------------------------------------------------------
    Rule(
        "goal-robust",
        "guide 000, choosing step 'Prioritize Model Goals'",
        (("task", "in", ("regression", "count")), ("goal", "==", "robust")),
        "goal is {goal_text}: Huber and L1 bound each residual's pull, and the adaptive robust loss (Barron "
        "2019) spans L1, Huber and Cauchy with one shape parameter (guide 000, choosing step 'Prioritize "
        "Model Goals')",
        favour={
            "HuberLoss": 3.0,
            "AdaptiveRobustLoss": 3.5,
            "L1Loss": 2.0,
            "SmoothL1Loss": 1.5,
            "LogCoshLoss": 1.0,
            "MSELoss": -4.0,
        },
        params=HUBER_PARAMS,
    ),
    Rule(
        "goal-median",
        "past the guides: quantile (pinball) loss; guide 000, table row L1",
        (("task", "in", ("regression", "count")), ("goal", "==", "median")),
        "goal is the {goal_text}: the 0.5 pinball loss estimates it (L1 is the same up to a factor 2) (past the "
        "guides: quantile loss; guide 000, table row L1)",
        favour={"QuantileLoss": 7.0, "L1Loss": 5.5},
        params={"QuantileLoss": {"quantiles": "quantiles"}},
    ),
    Rule(
        "goal-quantile",
        "past the guides: quantile (pinball) loss",
        (("task", "in", ("regression", "count")), ("goal", "==", "quantile")),
        "goal is {goal_text}: the pinball loss at those levels estimates conditional quantiles, while MSE "
        "estimates the mean (past the guides: Koenker & Bassett 1978)",
        favour={"QuantileLoss": 9.0},
        avoid=("MSELoss",),
        params={"QuantileLoss": {"quantiles": "quantiles"}},
    ),
    Rule(
        "goal-calibrated-regression",
        "past the guides: Gaussian NLL",
        (("task", "==", "regression"), ("goal", "==", "calibrated")),
        "goal is {goal_text}: GaussianNLLLoss predicts a variance with each mean, so the model reports how "
        "sure it is (past the guides: Nix & Weigend 1994)",
        favour={"GaussianNLLLoss": 5.0},
    ),
    Rule(
        "goal-ranking",
        "guide 001, MarginRankingLoss",
        (("goal", "==", "ranking"),),
        "goal is {goal_text}: only the order of the predictions matters, which MarginRankingLoss optimises pair "
        "by pair (guide 001, MarginRankingLoss)",
        favour={"MarginRankingLoss": 8.0},
    ),
)


def by_id() -> dict[str, Rule]:
    return {r.id: r for r in RULES}


def describe() -> list[dict[str, Any]]:
    """The table as JSON-friendly rows, for documentation and the CLI."""
    return [
        {
            "id": r.id,
            "cite": r.cite,
            "when": [list(c) for c in r.when],
            "favour": dict(r.favour),
            "avoid": list(r.avoid),
            "params": {k: dict(v) for k, v in r.params.items()},
            "template": r.template,
            "say": dict(r.say),
        }
        for r in RULES
    ]
