"""Request-level problems raise typed errors naming the field; misfit candidates are skipped."""

from __future__ import annotations

import pytest
import torch

import advisor
from advisor.errors import (
    EmptyInputError,
    InvalidInputError,
    NonFiniteError,
    ParameterError,
    ShapeMismatchError,
    UnknownLossError,
)
from tests.evaluation.data import multiclass_data, regression_data


def test_shape_mismatch():
    x, y = regression_data(10)
    with pytest.raises(ShapeMismatchError) as err:
        advisor.evaluate(x, y[:7], ["MSELoss"])
    assert err.value.field == "targets"


def test_empty_input():
    with pytest.raises(EmptyInputError) as err:
        advisor.evaluate(torch.empty(0), torch.empty(0), ["MSELoss"])
    assert err.value.field == "predictions"


def test_nan_targets_are_missing_rows_left_out_and_counted():
    x, y = regression_data(10)
    y[3] = float("nan")
    report = advisor.evaluate(x, y, ["MSELoss"])
    keep = torch.arange(10) != 3
    assert report.n_excluded == 1 and report.n_samples == 9
    expected = torch.nn.functional.mse_loss(x[keep], y[keep]).item()
    assert report.results[0].value == pytest.approx(expected, rel=1e-6)
    y[:] = float("nan")
    with pytest.raises(NonFiniteError) as err:
        advisor.evaluate(x, y, ["MSELoss"])
    assert err.value.field == "targets"


def test_unknown_loss_names_position_and_suggests():
    x, y = regression_data(10)
    with pytest.raises(UnknownLossError) as err:
        advisor.evaluate(x, y, ["MSELoss", "huber"])
    assert err.value.field == "candidates[1].loss"
    assert "HuberLoss" in err.value.suggestions


def test_out_of_range_hyperparameter():
    x, y = regression_data(10)
    with pytest.raises(ParameterError) as err:
        advisor.evaluate(x, y, [{"loss": "HuberLoss", "params": {"delta": -1.0}}])
    assert err.value.field == "candidates[0].params.delta"


def test_bad_candidate_shape():
    x, y = regression_data(10)
    with pytest.raises(InvalidInputError):
        advisor.evaluate(x, y, [{"params": {}}])


def test_cross_entropy_on_continuous_targets_is_skipped_others_compute():
    x, y = regression_data(10)
    r = advisor.evaluate(x, y, ["CrossEntropyLoss", "MSELoss"])
    assert r.results[0].skipped and r.results[0].value is None and r.results[0].reason
    assert not r.results[1].skipped and r.results[1].value == pytest.approx(float(torch.nn.MSELoss()(x, y)))


def test_misfit_weight_is_a_skip_not_an_error():
    x, y = multiclass_data(20, 4)
    r = advisor.evaluate(x, y, [{"loss": "CrossEntropyLoss", "params": {"weight": torch.ones(3)}}, "CrossEntropyLoss"])
    assert r.results[0].skipped and "weight" in r.results[0].reason
    assert not r.results[1].skipped


def test_numpy_and_lists_are_accepted():
    import numpy as np

    r = advisor.evaluate(np.array([0.0, 2.0]), [0.0, 0.0], ["L1Loss", {"loss": "HuberLoss", "params": {"delta": 0.5}}])
    assert [res.value for res in r.results] == pytest.approx([1.0, 0.4375])


def test_report_says_values_are_not_comparable():
    x, y = regression_data(10)
    r = advisor.evaluate(x, y, ["MSELoss"])
    assert "not comparable" in r.note


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("diagnostics", [True, False])
def test_scalar_predictions_and_targets_are_evaluated_or_skipped_by_name(dtype, diagnostics):
    """0-dim inputs, which torch.nn's elementwise losses accept: the defaults evaluate, and each
    loss either computes (equal to torch.nn where it has the loss) or is skipped naming the field."""
    x, y = torch.tensor(0.25, dtype=dtype), torch.tensor(1.0, dtype=dtype)
    assert advisor.evaluate(x, y, diagnostics=diagnostics).results  # the defaults: those that fit
    names = ["MultiLabelSoftMarginLoss", "MSELoss", "L1Loss", "BCEWithLogitsLoss", "KLDivLoss", "DiceLoss"]
    by_name = {r.loss: r for r in advisor.evaluate(x, y, names, diagnostics=diagnostics).results}
    soft_margin = by_name["MultiLabelSoftMarginLoss"]
    assert soft_margin.skipped and soft_margin.reason.startswith("input: is a scalar")
    for name in ("MSELoss", "L1Loss", "BCEWithLogitsLoss", "KLDivLoss"):
        assert not by_name[name].skipped, by_name[name].reason
        want = getattr(torch.nn, name)()(x.double(), y.double())
        assert by_name[name].value == pytest.approx(float(want), rel=1e-3), name
    dice = by_name["DiceLoss"]
    p = torch.sigmoid(x.double())
    assert dice.value == pytest.approx(float(1 - (2 * p * y + 1) / (p + y + 1)), rel=1e-3)
    if diagnostics:
        assert by_name["KLDivLoss"].diagnostics.saturation is not None


def test_a_loss_that_torch_refuses_is_skipped_and_the_others_compute(monkeypatch):
    """Inputs that a loss's checks let through but torch rejects: a skip with torch's reason, not a crash."""
    from advisor.evaluation import engine

    real = engine.run_reference

    def refusing(cand, *args, **kw):
        if cand.name == "KLDivLoss":
            raise RuntimeError("a shape torch does not take")
        return real(cand, *args, **kw)

    monkeypatch.setattr(engine, "run_reference", refusing)
    x, y = torch.log_softmax(torch.randn(6, 3), 1), torch.softmax(torch.randn(6, 3), 1)
    kl, mse = advisor.evaluate(x, y, ["KLDivLoss", "MSELoss"]).results
    assert kl.skipped and kl.reason == "predictions: the loss cannot be computed on these inputs (RuntimeError: a shape torch does not take)"
    assert not mse.skipped and mse.value == pytest.approx(float(torch.nn.MSELoss()(x, y)))


def test_one_d_logits_with_binary_targets_are_not_read_as_one_sample():
    """torch reads a (N,) input with (N,) targets as one sample of N classes: CrossEntropyLoss
    would report a number (2341.4 on such data) with no warning. It is skipped with the true
    reason, with float and with integer targets, and the defaults do not propose it."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5000, generator=g)
    y = (torch.rand(5000, generator=g) < 0.3).float()
    for targets in (y, y.long()):
        res = advisor.evaluate(x, targets, ["CrossEntropyLoss"]).results[0]
        assert res.skipped and "binary logits" in res.reason and "BCEWithLogitsLoss" in res.reason
        assert "one-hot" not in res.reason
    defaults = advisor.evaluate(x, y).results
    assert defaults and not any(r.skipped for r in defaults)
    assert "CrossEntropyLoss" not in [r.loss for r in defaults]
    assert "BCEWithLogitsLoss" in [r.loss for r in defaults]


def test_one_sample_of_class_probabilities_is_still_torchs_reading():
    """A (C,) input with a (C,) distribution is one sample's soft label, as torch has it."""
    x = torch.randn(6)
    p = torch.softmax(torch.randn(6), 0)
    res = advisor.evaluate(x, p, ["CrossEntropyLoss"]).results[0]
    assert not res.skipped
    assert res.value == pytest.approx(float(torch.nn.CrossEntropyLoss()(x, p)), rel=1e-5)


def test_a_cancelled_evaluation_stops_at_the_next_kernel_call():
    """``cancel`` is checked before every kernel call: set after the first, nothing more runs."""
    from advisor.errors import CancelledError
    from advisor.evaluation import dispatch

    x, y = torch.randn(10_000), torch.randn(10_000)
    checks = []

    def cancel() -> bool:
        checks.append(1)
        return len(checks) > 1

    with pytest.raises(CancelledError) as err:
        advisor.evaluate(x, y, ["MSELoss", "L1Loss"], cancel=cancel)
    assert err.value.field == "cancel" and len(checks) == 2
    calls = dispatch.stats["eager_calls"] + dispatch.stats["compiled_calls"]
    assert advisor.evaluate(x, y, ["MSELoss"], cancel=lambda: False).results[0].value > 0
    assert dispatch.stats["eager_calls"] + dispatch.stats["compiled_calls"] > calls
