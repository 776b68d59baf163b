"""Every torch.nn loss in the catalog against its torch.nn module: values and gradients,
float32 and float64, reductions none/mean/sum, weights and edge shapes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from advisor import losses

from .helpers import DTYPES, REDUCTIONS, assert_matches

G = torch.Generator().manual_seed(1234)


def randn(*shape):
    return torch.randn(shape, generator=G, dtype=torch.float64)


def rand(*shape):
    return torch.rand(shape, generator=G, dtype=torch.float64)


def randint(high, *shape):
    return torch.randint(0, high, shape, generator=G)


def pm1(*shape):
    return torch.where(rand(*shape) > 0.5, 1.0, -1.0).double()


# name, case id, inputs, params, indices of inputs that get gradients
CASES = [
    *[
        (name, f"shape{shape}", (randn(*shape), randn(*shape)), params, (0,))
        for name, params in (
            ("L1Loss", {}),
            ("MSELoss", {}),
            ("HuberLoss", {"delta": 0.5}),
            ("HuberLoss", {"delta": 2.0}),
            ("SmoothL1Loss", {"beta": 0.5}),
            ("SmoothL1Loss", {"beta": 0.0}),
        )
        for shape in ((7,), (1,), (), (2, 3, 4))
    ],
    ("CrossEntropyLoss", "plain", (randn(8, 5), randint(5, 8)), {}, (0,)),
    ("CrossEntropyLoss", "N=1", (randn(1, 5), randint(5, 1)), {}, (0,)),
    ("CrossEntropyLoss", "no-batch", (randn(5), torch.tensor(3)), {}, (0,)),
    ("CrossEntropyLoss", "weights", (randn(8, 5), randint(5, 8)), {"weight": rand(5) + 0.1}, (0,)),
    (
        "CrossEntropyLoss",
        "ignore",
        (randn(8, 5), torch.tensor([0, 1, 1, 2, 1, 4, 3, 1])),
        {"ignore_index": 1},
        (0,),
    ),
    (
        "CrossEntropyLoss",
        "smoothing",
        (randn(8, 5), randint(5, 8)),
        {"label_smoothing": 0.15},
        (0,),
    ),
    (
        "CrossEntropyLoss",
        "weights-ignore-smoothing",
        (randn(8, 5), torch.tensor([0, 1, 1, 2, 1, 4, 3, 1])),
        {"weight": rand(5) + 0.1, "ignore_index": 1, "label_smoothing": 0.2},
        (0,),
    ),
    ("CrossEntropyLoss", "probabilities", (randn(8, 5), F.softmax(randn(8, 5), 1)), {}, (0,)),
    (
        "CrossEntropyLoss",
        "probabilities-weights-smoothing",
        (randn(8, 5), F.softmax(randn(8, 5), 1)),
        {"weight": rand(5) + 0.1, "label_smoothing": 0.1},
        (0,),
    ),
    (
        "CrossEntropyLoss",
        "spatial",
        (randn(2, 3, 4, 5), randint(3, 2, 4, 5)),
        {"weight": rand(3) + 0.1},
        (0,),
    ),
    (
        "CrossEntropyLoss",
        "spatial-3d",
        (randn(2, 3, 4, 2, 2), randint(3, 2, 4, 2, 2)),
        {"ignore_index": 0},
        (0,),
    ),
    ("NLLLoss", "plain", (F.log_softmax(randn(8, 5), 1), randint(5, 8)), {}, (0,)),
    ("NLLLoss", "no-batch", (F.log_softmax(randn(5), 0), torch.tensor(2)), {}, (0,)),
    (
        "NLLLoss",
        "weights-ignore",
        (F.log_softmax(randn(8, 5), 1), torch.tensor([0, 1, 1, 2, 1, 4, 3, 1])),
        {"weight": rand(5) + 0.1, "ignore_index": 1},
        (0,),
    ),
    ("NLLLoss", "spatial", (F.log_softmax(randn(2, 4, 3, 3), 1), randint(4, 2, 3, 3)), {}, (0,)),
    ("BCELoss", "plain", (rand(6, 3) * 0.98 + 0.01, (rand(6, 3) > 0.5).double()), {}, (0,)),
    ("BCELoss", "soft-weights", (rand(6, 3) * 0.98 + 0.01, rand(6, 3)), {"weight": rand(3)}, (0,)),
    ("BCELoss", "N=1", (rand(1) * 0.98 + 0.01, torch.ones(1, dtype=torch.float64)), {}, (0,)),
    ("BCEWithLogitsLoss", "plain", (randn(6, 3) * 3, (rand(6, 3) > 0.5).double()), {}, (0,)),
    (
        "BCEWithLogitsLoss",
        "weight-pos_weight",
        (randn(6, 3) * 3, (rand(6, 3) > 0.5).double()),
        {"weight": rand(6, 1), "pos_weight": rand(3) * 4},
        (0,),
    ),
    (
        "BCEWithLogitsLoss",
        "scalar",
        (randn(), torch.tensor(1.0, dtype=torch.float64)),
        {"weight": 0.7},
        (0,),
    ),
    (
        "PoissonNLLLoss",
        "log-input",
        (randn(10), torch.poisson(rand(10) * 4, generator=G)),
        {},
        (0,),
    ),
    (
        "PoissonNLLLoss",
        "log-input-full",
        (randn(10), torch.poisson(rand(10) * 4, generator=G)),
        {"full": True},
        (0,),
    ),
    (
        "PoissonNLLLoss",
        "rate",
        (rand(10) * 3 + 0.01, torch.poisson(rand(10) * 4, generator=G)),
        {"log_input": False},
        (0,),
    ),
    (
        "PoissonNLLLoss",
        "rate-full",
        (rand(2, 5) * 3 + 0.01, torch.poisson(rand(2, 5) * 4, generator=G)),
        {"log_input": False, "full": True, "eps": 1e-6},
        (0,),
    ),
    ("GaussianNLLLoss", "same-shape", (randn(6, 3), randn(6, 3), rand(6, 3) + 0.1), {}, (0, 2)),
    (
        "GaussianNLLLoss",
        "var-per-row",
        (randn(6, 3), randn(6, 3), rand(6, 1) + 0.1),
        {"full": True},
        (0, 2),
    ),
    (
        "GaussianNLLLoss",
        "var-dropped-dim",
        (randn(6, 3), randn(6, 3), rand(6) + 0.1),
        {"eps": 1e-3},
        (0, 2),
    ),
    (
        "KLDivLoss",
        "batchmean",
        (F.log_softmax(randn(6, 4), 1), F.softmax(randn(6, 4), 1)),
        {"reduction": "batchmean"},
        (0,),
    ),
    (
        "KLDivLoss",
        "log-target",
        (F.log_softmax(randn(6, 4), 1), F.log_softmax(randn(6, 4), 1)),
        {"log_target": True},
        (0,),
    ),
    ("HingeEmbeddingLoss", "margin", (rand(9) * 2, pm1(9)), {"margin": 0.5}, (0,)),
    ("MarginRankingLoss", "margin", (randn(9), randn(9), pm1(9)), {"margin": 0.2}, (0, 1)),
    ("SoftMarginLoss", "plain", (randn(4, 3), pm1(4, 3)), {}, (0,)),
    ("MultiMarginLoss", "p1", (randn(7, 4), randint(4, 7)), {}, (0,)),
    (
        "MultiMarginLoss",
        "p2-margin-weight",
        (randn(7, 4), randint(4, 7)),
        {"p": 2, "margin": 0.5, "weight": rand(4) + 0.1},
        (0,),
    ),
    ("MultiMarginLoss", "no-batch", (randn(4), torch.tensor(1)), {}, (0,)),
    (
        "MultiLabelMarginLoss",
        "padded",
        (randn(3, 4), torch.tensor([[3, 0, -1, 1], [1, -1, 0, 0], [0, 1, 2, 3]])),
        {},
        (0,),
    ),
    ("MultiLabelMarginLoss", "no-batch", (randn(4), torch.tensor([2, -1, 0, 0])), {}, (0,)),
    (
        "MultiLabelSoftMarginLoss",
        "weights",
        (randn(5, 3), (rand(5, 3) > 0.5).double()),
        {"weight": rand(3)},
        (0,),
    ),
    ("CosineEmbeddingLoss", "margin", (randn(6, 4), randn(6, 4), pm1(6)), {"margin": 0.3}, (0, 1)),
    ("CosineEmbeddingLoss", "no-batch", (randn(4), randn(4), torch.tensor(-1.0)), {}, (0, 1)),
    ("TripletMarginLoss", "p2", (randn(5, 3), randn(5, 3), randn(5, 3)), {}, (0, 1, 2)),
    (
        "TripletMarginLoss",
        "p1-swap",
        (randn(5, 3), randn(5, 3), randn(5, 3)),
        {"p": 1.0, "swap": True, "margin": 0.5},
        (0, 1, 2),
    ),
    ("TripletMarginLoss", "no-batch", (randn(3), randn(3), randn(3)), {}, (0, 1, 2)),
    (
        "TripletMarginWithDistanceLoss",
        "default",
        (randn(5, 3), randn(5, 3), randn(5, 3)),
        {},
        (0, 1, 2),
    ),
    (
        "TripletMarginWithDistanceLoss",
        "cosine-swap",
        (randn(5, 3), randn(5, 3), randn(5, 3)),
        {
            "distance_function": lambda x, y: 1.0 - F.cosine_similarity(x, y),
            "swap": True,
            "margin": 0.3,
        },
        (0, 1, 2),
    ),
    (
        "CTCLoss",
        "padded",
        (
            F.log_softmax(randn(12, 2, 5), 2),
            torch.tensor([[1, 2, 3], [4, 4, 0]]),
            torch.tensor([12, 10]),
            torch.tensor([3, 2]),
        ),
        {},
        (0,),
    ),
    (
        "CTCLoss",
        "concatenated-zero-infinity",
        (
            F.log_softmax(randn(6, 2, 5), 2),
            torch.tensor([1, 2, 3, 4, 1, 2, 3, 4, 1]),
            (6, 6),
            (4, 5),
        ),
        {"zero_infinity": True, "blank": 0},
        (0,),
    ),
    (
        "CTCLoss",
        "unbatched-blank-last",
        (F.log_softmax(randn(8, 5), 1), torch.tensor([0, 1, 2]), torch.tensor(8), torch.tensor(3)),
        {"blank": 4},
        (0,),
    ),
]

TORCH_LOSSES = sorted({c[0] for c in CASES})


def test_every_torch_nn_loss_is_covered():
    catalog_torch = {s.name for s in losses.specs() if s.torch_class}
    assert catalog_torch == set(TORCH_LOSSES)


def _runs():
    for name, case_id, inputs, params, grad_idx in CASES:
        reductions = [params["reduction"]] if "reduction" in params else REDUCTIONS
        for reduction in reductions:
            yield pytest.param(
                name,
                inputs,
                {**params, "reduction": reduction},
                grad_idx,
                id=f"{name}-{case_id}-{reduction}",
            )


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: str(d)[6:])
@pytest.mark.parametrize(("name", "inputs", "params", "grad_idx"), list(_runs()))
def test_matches_torch_nn(name, inputs, params, grad_idx, dtype):
    module_params = {
        k: (torch.as_tensor(v, dtype=dtype) if k in ("weight", "pos_weight") else v)
        for k, v in params.items()
    }
    module = getattr(torch.nn, name)(**module_params)
    assert_matches(
        lambda *xs: losses.compute(name, *xs, **params),
        lambda *xs: module(*xs),
        inputs,
        grad_idx,
        dtype,
    )
