"""The Optuna search space: names, ranges centred on the derived values and clipped to the
catalog's, and a short study that builds and calls every sampled loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import advisor
from advisor import losses
from advisor.integrations import build_loss, enqueue_recommended, search_space, suggest_loss
from advisor.integrations.space import MARGIN, dimensions

optuna = pytest.importorskip("optuna")
optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 3))
    y = x @ [1.0, 2.0, 3.0] + rng.standard_t(2, 600) * 2
    return advisor.recommend(y, features=x)


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(1)
    return advisor.recommend((rng.random(2000) < 0.05).astype(int), task="binary")


def test_names_follow_the_recommendation(regression):
    space = search_space(regression)
    assert list(space) == [c.loss for c in regression.candidates]
    for loss, (params, dims) in space.items():
        assert all(d.name == f"{loss}.{d.param}" and d.loss == loss for d in dims)
        assert params == next(c.params for c in regression.candidates if c.loss == loss)
    avoided = search_space(regression, include_avoid=True)
    assert list(avoided)[: len(space)] == list(space)
    assert {a.loss for a in regression.avoid} <= set(avoided)


def test_scale_ranges_are_a_decade_either_side_of_the_derived_value(regression):
    delta = next(c.params["delta"] for c in regression.candidates if c.loss == "HuberLoss")
    (dim,) = dimensions("HuberLoss", {"delta": delta})
    assert dim.log and dim.centre == delta
    assert math.isclose(dim.low, delta / 10) and math.isclose(dim.high, delta * 10)
    assert math.isclose(math.sqrt(dim.low * dim.high), delta)  # centred on a log scale


def test_ranges_are_clipped_to_the_catalog_range():
    (power,) = dimensions("TweedieLoss", {"power": 1.1})  # ± 0.3 would reach 0.8
    assert power.low == pytest.approx(1.0 + MARGIN) and power.high == pytest.approx(1.4)
    (alpha,) = [d for d in dimensions("FocalLoss", {"alpha": 0.9}) if d.param == "alpha"]
    assert alpha.high == 1.0 and alpha.low == pytest.approx(0.65)
    gamma = next(d for d in dimensions("FocalLoss", {"gamma": 0.5}) if d.param == "gamma")
    assert gamma.low == 0.0 and gamma.high == pytest.approx(2.5)
    beta = next(d for d in dimensions("ClassBalancedLoss", {"beta": 0.95}) if d.param == "beta")
    assert beta.scale == "log_complement"
    # 1 - beta in [0.005, 0.5]: beta itself stays in [0, 1)
    assert beta.low == pytest.approx(0.005) and beta.high == pytest.approx(0.5)
    spec = losses.get("ClassBalancedLoss").param("beta")
    for sampled in (beta.low, beta.high):
        spec.validate(beta.value(sampled, 0.95), "ClassBalancedLoss")


def test_fixed_settings_are_not_searched(binary):
    space = search_space(binary)
    for _, dims in space.values():
        names = {d.param for d in dims}
        assert not names & {"reduction", "mode", "base", "ignore_index", "samples_per_class"}
    (weight,) = space["BCEWithLogitsLoss"][1]
    assert weight.scale == "temper" and (weight.low, weight.high, weight.centre) == (0, 2, 1)
    assert dimensions("BCEWithLogitsLoss", {}) == []  # no derived weights, nothing to temper


def test_suggested_values_lie_in_the_ranges_and_validate(binary):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = search_space(binary)
    for _ in range(20):
        trial = study.ask()
        name, params = suggest_loss(trial, binary)
        for dim in space[name][1]:
            sampled = trial.params[dim.name]
            assert dim.low <= sampled <= dim.high
        losses.resolve_params(losses.get(name), params)
        study.tell(trial, 0.0)


def test_a_five_trial_study_trains_with_each_suggested_loss(regression):
    rng = np.random.default_rng(2)
    x = torch.as_tensor(rng.normal(size=(64, 3)), dtype=torch.float32)
    y = x @ torch.tensor([1.0, 2.0, 3.0]) + torch.as_tensor(
        rng.standard_t(2, 64), dtype=torch.float32
    )

    def objective(trial):
        loss_fn = build_loss(trial, regression)
        assert isinstance(loss_fn, torch.nn.Module)
        model = torch.nn.Linear(3, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        for _ in range(5):
            opt.zero_grad()
            loss_fn(model(x).squeeze(1), y).backward()
            opt.step()
        with torch.no_grad():
            return float((model(x).squeeze(1) - y).abs().mean())

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=5)
    assert len(study.trials) == 5
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert all(t.params["loss"] in search_space(regression) for t in study.trials)


def test_enqueued_trials_are_exactly_the_recommendation(binary):
    study = optuna.create_study()
    assert enqueue_recommended(study, binary) == len(search_space(binary))
    for candidate in binary.candidates:
        trial = study.ask()
        suggested = suggest_loss(trial, binary)
        assert suggested.loss == candidate.loss
        for key, value in candidate.params.items():
            if isinstance(value, str):
                assert suggested.params[key] == value
            else:
                assert suggested.params[key] == pytest.approx(value, rel=1e-12)
        study.tell(trial, 0.0)
