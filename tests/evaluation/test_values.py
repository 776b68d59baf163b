"""``value`` equals torch.nn (or the catalog function) for every fused family, eager path."""

from __future__ import annotations

import pytest
import torch

import advisor
from advisor.evaluation import defaults
from advisor.evaluation.inputs import normalize
from advisor.losses import compute
from tests.evaluation.data import binary_data, count_data, multiclass_data, regression_data

DTYPES = [(torch.float32, 1e-5, 0.0), (torch.float64, 1e-10, 1e-12)]

REGRESSION = [
    "L1Loss",
    "MSELoss",
    {"loss": "HuberLoss", "params": {"delta": 0.3}},
    {"loss": "SmoothL1Loss", "params": {"beta": 0.4}},
    {"loss": "SmoothL1Loss", "params": {"beta": 0.0}},
    "LogCoshLoss",
    {"loss": "QuantileLoss", "params": {"quantiles": [0.8]}},
    {"loss": "AdaptiveRobustLoss", "params": {"alpha": 0.5, "scale": 0.7}},
    {"loss": "AdaptiveRobustLoss", "params": {"alpha": 2.0}},
    {"loss": "AdaptiveRobustLoss", "params": {"alpha": 0.0}},
    {"loss": "AdaptiveRobustLoss", "params": {"alpha": float("-inf")}},
    {"loss": "MSELoss", "params": {"reduction": "sum"}},
    {"loss": "L1Loss", "params": {"reduction": "none"}},
]
COUNTS = [
    "PoissonNLLLoss",
    {"loss": "PoissonNLLLoss", "params": {"full": True}},
    {"loss": "PoissonNLLLoss", "params": {"log_input": False}},
    {"loss": "TweedieLoss", "params": {"power": 1.3}},
    {"loss": "NegativeBinomialNLLLoss", "params": {"dispersion": 0.5}},
    {"loss": "NegativeBinomialNLLLoss", "params": {"log_input": False, "reduction": "sum"}},
]


def _reference(cand, *inputs):
    name = cand if isinstance(cand, str) else cand["loss"]
    params = {} if isinstance(cand, str) else cand["params"]
    return compute(name, *inputs, **params)


def _assert_matches(report, cands, inputs, rtol, atol):
    for cand, res in zip(cands, report.results, strict=True):
        assert not res.skipped, res.reason
        assert res.path.startswith("fused"), f"{res.loss} did not fuse"
        ref = _reference(cand, *inputs)
        if res.values is None:
            assert ref.dim() == 0
            torch.testing.assert_close(torch.tensor(res.value, dtype=torch.float64), ref.double(), rtol=rtol, atol=atol)
        else:
            torch.testing.assert_close(torch.tensor(res.values, dtype=torch.float64), ref.double().reshape(-1), rtol=rtol, atol=max(atol, 1e-6 if ref.dtype == torch.float32 else 0))


def test_torch_nn_itself_is_the_reference():
    x, y = regression_data()
    report = advisor.evaluate(x, y, [{"loss": "HuberLoss", "params": {"delta": 0.3}}], diagnostics=False)
    assert report.results[0].value == pytest.approx(float(torch.nn.HuberLoss(delta=0.3)(x, y)), rel=1e-6)


@pytest.mark.parametrize(("dtype", "rtol", "atol"), DTYPES)
def test_regression_family(dtype, rtol, atol):
    x, y = regression_data(dtype=dtype)
    _assert_matches(advisor.evaluate(x, y, REGRESSION, diagnostics=False), REGRESSION, (x, y), rtol, atol)


@pytest.mark.parametrize(("dtype", "rtol", "atol"), DTYPES)
def test_count_family(dtype, rtol, atol):
    x, y = count_data(dtype=dtype)
    _assert_matches(advisor.evaluate(x, y, COUNTS, diagnostics=False), COUNTS, (x, y), rtol, atol)


def test_regression_two_dimensional_targets():
    x, y = regression_data(120)
    x, y = x.reshape(40, 3), y.reshape(40, 3)
    cands = ["MSELoss", {"loss": "HuberLoss", "params": {"delta": 0.5, "reduction": "none"}}]
    _assert_matches(advisor.evaluate(x, y, cands, diagnostics=False), cands, (x, y), 1e-5, 0.0)


def _multiclass_cands(c: int, dtype):
    g = torch.Generator().manual_seed(9)
    w = torch.rand(c, generator=g, dtype=torch.float64).add(0.2).to(dtype)
    return [
        "CrossEntropyLoss",
        {"loss": "CrossEntropyLoss", "params": {"weight": w}},
        {"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.15}},
        {"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1, "weight": w, "ignore_index": 1}},
        {"loss": "CrossEntropyLoss", "params": {"reduction": "sum", "ignore_index": 0}},
        {"loss": "CrossEntropyLoss", "params": {"reduction": "none", "weight": w}},
        {"loss": "FocalLoss", "params": {"gamma": 2.0}},
        {"loss": "FocalLoss", "params": {"gamma": 0.5, "alpha": w, "ignore_index": 2}},
        "LogitAdjustedLoss",
        {"loss": "LogitAdjustedLoss", "params": {"tau": 0.5, "class_priors": w}},
    ]


@pytest.mark.parametrize(("dtype", "rtol", "atol"), DTYPES)
def test_multiclass_family(dtype, rtol, atol):
    x, y = multiclass_data(dtype=dtype)
    cands = _multiclass_cands(x.shape[1], dtype)
    _assert_matches(advisor.evaluate(x, y, cands, diagnostics=False), cands, (x, y), rtol, atol)


def test_multiclass_spatial_and_unbatched():
    x, y = multiclass_data(24, 4)
    xs = x.reshape(6, 4, 4).permute(0, 2, 1).reshape(6, 4, 2, 2)  # (N, C, d1, d2)
    ys = y.reshape(6, 2, 2)
    cands = [{"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1}}, {"loss": "CrossEntropyLoss", "params": {"reduction": "none"}}]
    _assert_matches(advisor.evaluate(xs, ys, cands, diagnostics=False), cands, (xs, ys), 1e-5, 0.0)
    _assert_matches(advisor.evaluate(x[0], y[0], cands, diagnostics=False), cands, (x[0], y[0]), 1e-5, 0.0)


@pytest.mark.parametrize(("dtype", "rtol", "atol"), DTYPES)
def test_nll_family(dtype, rtol, atol):
    x, y = multiclass_data(dtype=dtype)
    lp = torch.log_softmax(x, 1)
    w = torch.linspace(0.5, 2.0, x.shape[1], dtype=dtype)
    cands = ["NLLLoss", {"loss": "NLLLoss", "params": {"weight": w, "ignore_index": 3}}, {"loss": "NLLLoss", "params": {"reduction": "sum"}}]
    _assert_matches(advisor.evaluate(lp, y, cands, diagnostics=False), cands, (lp, y), rtol, atol)


@pytest.mark.parametrize(("dtype", "rtol", "atol"), DTYPES)
def test_binary_family(dtype, rtol, atol):
    x, y = binary_data(dtype=dtype)
    pw = torch.tensor([1.0, 3.0, 0.5], dtype=dtype)
    w = torch.tensor([[0.2, 1.0, 2.0]], dtype=dtype)
    cands = [
        "BCEWithLogitsLoss",
        {"loss": "BCEWithLogitsLoss", "params": {"pos_weight": pw, "weight": w}},
        {"loss": "BCEWithLogitsLoss", "params": {"reduction": "none", "pos_weight": pw}},
        {"loss": "FocalLoss", "params": {"gamma": 2.0}},
        {"loss": "FocalLoss", "params": {"gamma": 1.0, "alpha": torch.tensor(0.25, dtype=dtype), "reduction": "sum"}},
        {"loss": "HingeLoss", "params": {"margin": 0.5}},
    ]
    _assert_matches(advisor.evaluate(x, y, cands, diagnostics=False), cands, (x, y), rtol, atol)
    pm = y * 2 - 1
    margin = ["SoftMarginLoss", "HingeLoss"]
    _assert_matches(advisor.evaluate(x, pm, margin, diagnostics=False), margin, (x, pm), rtol, atol)
    p = torch.sigmoid(x)
    probs = ["BCELoss", {"loss": "BCELoss", "params": {"weight": w}}]
    _assert_matches(advisor.evaluate(p, y, probs, diagnostics=False), probs, (p, y), rtol, atol)


def test_sample_weight_is_a_weighted_mean():
    x, y = regression_data(64)
    s = torch.rand(64, generator=torch.Generator().manual_seed(5))
    r = advisor.evaluate(x, y, ["MSELoss", "LogCoshLoss"], sample_weight=s, diagnostics=False)
    expected = float(((x - y) ** 2 * s).sum() / s.sum())
    assert r.results[0].value == pytest.approx(expected, rel=1e-5)


def test_reference_path_losses_are_computed_not_skipped():
    g = torch.Generator().manual_seed(4)
    a, p, n = (torch.randn(16, 8, generator=g) for _ in range(3))

    def cosine(u, v):
        return 1.0 - torch.nn.functional.cosine_similarity(u, v)

    cands = ["TripletMarginLoss", {"loss": "TripletMarginWithDistanceLoss", "params": {"distance_function": cosine}}]
    r = advisor.evaluate((a, p, n), None, cands)
    assert r.results[0].value == pytest.approx(float(torch.nn.TripletMarginLoss()(a, p, n)), rel=1e-6)
    assert r.results[1].value == pytest.approx(float(torch.nn.TripletMarginWithDistanceLoss(distance_function=cosine)(a, p, n)), rel=1e-6)
    assert all(res.path == "reference" and res.diagnostics.grad_mean is not None for res in r.results)

    t, nb, c, s = 12, 3, 5, 4
    log_probs = torch.randn(t, nb, c, generator=g).log_softmax(2)
    targets = torch.randint(1, c, (nb, s), generator=g)
    il, tl = torch.full((nb,), t), torch.tensor([4, 3, 2])
    r = advisor.evaluate(log_probs, (targets, il, tl), ["CTCLoss"])
    assert r.results[0].value == pytest.approx(float(torch.nn.CTCLoss()(log_probs, targets, il, tl)), rel=1e-6)
    assert r.results[0].diagnostics.n_samples == nb

    x, _ = multiclass_data(20, 4)
    soft = torch.softmax(torch.randn(20, 4, generator=g), 1)
    r = advisor.evaluate(x, soft, [{"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1}}])
    assert r.results[0].path == "reference"
    assert r.results[0].value == pytest.approx(float(torch.nn.CrossEntropyLoss(label_smoothing=0.1)(x, soft)), rel=1e-6)


def test_results_follow_candidate_order_and_are_deterministic():
    x, y = regression_data()
    cands = ["MSELoss", "L1Loss", {"loss": "HuberLoss", "params": {"delta": 2.0}}, "MSELoss"]
    a = advisor.evaluate(x, y, cands)
    b = advisor.evaluate(x, y, cands)
    assert [r.loss for r in a.results] == ["MSELoss", "L1Loss", "HuberLoss", "MSELoss"]
    assert a.model_dump() == b.model_dump()


def test_default_candidates_are_the_recommendation():
    """The recommendation in its order, less the candidates these inputs can only skip."""
    for x, y in (regression_data(), multiclass_data()):
        rec = advisor.recommend(y.numpy(), predictions=x.numpy(), top_k=defaults.TOP_K)
        results = advisor.evaluate(x, y, diagnostics=False).results
        named = [{"loss": c.loss, "params": dict(c.params)} for c in rec.candidates]
        each = advisor.evaluate(x, y, named, diagnostics=False).results
        assert [(r.loss, r.params) for r in results] == [(r.loss, r.params) for r in each if not r.skipped]
        assert results and not any(r.skipped for r in results)
        # Only a loss that needs more arrays than were given (GaussianNLLLoss's variance) is left out.
        assert all(r.reason and "prediction array" in r.reason for r in each if r.skipped)


def test_default_candidates_without_a_recommendation_are_the_compatible_losses():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(50, generator=g), torch.randn(50, generator=g)
    target = torch.where(torch.rand(50, generator=g) < 0.5, -1.0, 1.0)
    names = [r.loss for r in advisor.evaluate((a, b), target, diagnostics=False).results]
    assert "MarginRankingLoss" in names and "MSELoss" not in names
    xc, yc = multiclass_data()
    inp = normalize(xc, yc, device="cpu")
    names = defaults.compatible_names(inp)
    assert "CrossEntropyLoss" in names and "MSELoss" not in names
    assert "MultiMarginLoss" in names  # no fused kernel, still evaluated through the catalog


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("scale", [1e-5, 1e-3, 1.0])
def test_small_residuals_keep_relative_accuracy(mode, scale):
    """Fused float32 values against float64 truth when predictions are close to the targets.

    The compiled CPU kernels must not inherit inductor's exp(v) - 1 for expm1, nor log cosh's
    closed form near zero: both keep only absolute accuracy, which at residuals of 1e-3 is
    percents of the loss.
    """
    from advisor.evaluation import dispatch

    g = torch.Generator().manual_seed(0)
    y = torch.randn(5000, generator=g)
    x = y + scale * torch.randn(5000, generator=g)
    cands = ["LogCoshLoss", "MSELoss"] + [
        {"loss": "AdaptiveRobustLoss", "params": {"alpha": a, "scale": 1.0}} for a in (1.0, -2.0, 0.0, float("-inf"), 4.0)
    ]
    with dispatch.mode(mode):
        report = advisor.evaluate(x, y, cands, diagnostics=False)
    for cand, res in zip(cands, report.results, strict=True):
        name, params = (cand, {}) if isinstance(cand, str) else (cand["loss"], cand["params"])
        truth = float(compute(name, x.double(), y.double(), **params))
        assert res.path == f"fused-{mode}"
        assert res.value == pytest.approx(truth, rel=1e-5), cand


@pytest.mark.parametrize("diagnostics", [True, False])
@pytest.mark.parametrize("family", ["regression", "multiclass"])
def test_bfloat16_inputs_evaluate_to_torch_nn_on_their_float32_values(family, diagnostics):
    """bfloat16 has no numpy dtype: the defaults' profile and the diagnostics' selections must
    not need one. Each element's loss rounds to bfloat16 but the sum is float64, so the value
    is within bfloat16's unit roundoff (2^-8) of torch.nn on the same numbers in float32."""
    if family == "regression":
        x, y = regression_data(3000)
        names = ["MSELoss", "L1Loss", {"loss": "HuberLoss", "params": {"delta": 0.5}}]
    else:
        x, y = multiclass_data(3000, 5)
        names = ["CrossEntropyLoss", {"loss": "CrossEntropyLoss", "params": {"label_smoothing": 0.1}}]
    x = x.bfloat16()
    y = y.bfloat16() if y.is_floating_point() else y
    assert advisor.evaluate(x, y, diagnostics=diagnostics).results  # the defaults
    for r in advisor.evaluate(x, y, names, diagnostics=diagnostics).results:
        want = compute(r.loss, x.float(), y.float() if y.is_floating_point() else y, **r.params)
        assert r.value == pytest.approx(float(want), rel=2.0**-8), r.loss
        if diagnostics:
            assert r.diagnostics.loss_quantiles is not None and r.diagnostics.grad_mean is not None
