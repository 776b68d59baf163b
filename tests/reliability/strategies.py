"""Schema-valid, hostile requests for every RPC.

Every message here parses: the attack is in the values. Arrays lie about their size, carry
dtypes the server never heard of, negative, zero and astronomically large dimensions, NaN and
infinities, or nothing at all; names are misspelt or exotic unicode; hyperparameters are out of
range or of the wrong type; counts (folds, epochs, top_k) are absurd; candidates repeat. Roughly
half the arrays are honest so requests also get past the codec into the domain's own checks.

``Call`` pairs a request with the RPC it is for; uploads are a list of chunks.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from advisor import losses
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb

WIRE_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
BAD_DTYPES = ["complex64", "float128", "", "FLOAT32", "object", ">f4", "flöat32", "f4", "str\0"]
LOSSES = losses.names()
PARAMS = sorted({p for spec in losses.specs() for p in spec.param_names})
TASKS = ["regression", "count", "binary", "multiclass", "multilabel", "distribution", "ranking"]
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.sampled_from(["", " ", "\u202e", "😀" * 3, "\u0000", "a" * 300, "ＭＳＥＬｏｓｓ", "ǅ"])

small_dim = st.integers(0, 6)
hostile_dim = st.sampled_from([-1, -(2**63), 0, 2**31, 2**40, 2**62, 2**63 - 1, 10**15])
numbers = st.floats(allow_nan=True, allow_infinity=True, width=64)


@dataclass
class Call:
    method: str
    request: Any  # a message, or for UploadDataset a list of chunks


# ---------------------------------------------------------------------- arrays


@st.composite
def honest_numeric(draw) -> pb.Array:
    """An array whose shape, dtype and bytes agree: NaN, inf, empty and odd shapes included."""
    dtype = draw(st.sampled_from(WIRE_DTYPES))
    shape = draw(st.lists(small_dim, min_size=0, max_size=3))
    if draw(st.booleans()):
        shape = [draw(st.integers(0, 40))]
    count = math.prod(shape)
    np_dtype = np.dtype(dtype).newbyteorder("<") if dtype != "bool" else np.dtype(bool)
    if np_dtype.kind == "f":
        values = draw(st.lists(numbers, min_size=count, max_size=count))
        with np.errstate(over="ignore"):  # a float64 too large for float16 becomes inf
            data = np.array(values, dtype=np.float64).astype(np_dtype).tobytes()
    elif np_dtype.kind == "b":
        data = bytes(draw(st.lists(st.integers(0, 1), min_size=count, max_size=count)))
    else:
        info = np.iinfo(np_dtype)
        lo, hi = draw(st.sampled_from([(0, 3), (-3, 3), (int(info.min), int(info.max))]))
        lo = max(lo, int(info.min))
        values = draw(st.lists(st.integers(lo, hi), min_size=count, max_size=count))
        data = np.array(values, dtype=np_dtype).tobytes()
    return pb.Array(dtype=dtype, shape=shape, data=data)


@st.composite
def honest_strings(draw) -> pb.Array:
    n = draw(st.integers(0, 12))
    labels = draw(st.lists(odd_text, min_size=1, max_size=3))
    strings = [labels[i % len(labels)] for i in range(n)]
    return pb.Array(dtype="str", shape=[n], strings=strings)


@st.composite
def lying_array(draw) -> pb.Array:
    """Shape and bytes that disagree, in either direction, or dims nobody could allocate."""
    dtype = draw(st.sampled_from(WIRE_DTYPES))
    shape = draw(st.lists(st.one_of(small_dim, hostile_dim), min_size=0, max_size=9))
    data = draw(st.binary(max_size=64))
    strings = draw(st.lists(odd_text, max_size=3)) if draw(st.booleans()) else []
    return pb.Array(
        dtype=draw(st.sampled_from([dtype, "str"])), shape=shape, data=data, strings=strings
    )


@st.composite
def bad_dtype_array(draw) -> pb.Array:
    dtype = draw(st.sampled_from(BAD_DTYPES) | odd_text)
    n = draw(st.integers(0, 4))
    return pb.Array(dtype=dtype, shape=[n], data=b"\0" * (4 * n))


@st.composite
def matched(draw, rows: int, width: int | None = None) -> pb.Array:
    """An honest array of ``rows`` rows: what a request needs to get past the codec into the
    domain, where the hostile part is then the values (NaN, inf, labels out of range)."""
    dtype = draw(st.sampled_from(["float32", "float64", "int64", "float16", "bool", "uint8"]))
    shape = [rows] if width is None else [rows, width]
    count = math.prod(shape)
    kind = draw(st.sampled_from(["normal", "labels", "hostile"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "normal":
        values = rng.standard_normal(count)
    elif kind == "labels":
        values = rng.integers(0, draw(st.integers(1, 4)), count).astype(np.float64)
    else:
        values = np.array(draw(st.lists(numbers, min_size=count, max_size=count)), np.float64)
    np_dtype = np.dtype(dtype).newbyteorder("<") if dtype != "bool" else np.dtype(bool)
    with np.errstate(over="ignore", invalid="ignore"):
        data = values.astype(np_dtype).tobytes()
    return pb.Array(dtype=dtype, shape=shape, data=data)


@st.composite
def coherent(draw) -> Call:
    """Predictions, targets and features that agree in rows, for Evaluate, Profile or Validate."""
    rows = draw(st.integers(0, 40))
    width = draw(st.sampled_from([None, None, 1, 3]))
    preds = pb.ArrayRef(inline=draw(matched(rows, width)))
    targets = pb.ArrayRef(inline=draw(matched(rows)))
    features = pb.ArrayRef(inline=draw(matched(rows, 2)))
    method = draw(st.sampled_from(["Evaluate", "Evaluate", "Profile", "Recommend", "Validate"]))
    if method == "Evaluate":
        request = pb.EvaluateRequest(
            predictions=[preds],
            targets=targets,
            candidates=draw(candidates()),
            task=draw(st.sampled_from(["", *TASKS])),
            diagnostics=draw(st.booleans()),
        )
        if draw(st.integers(0, 3)) == 0:
            request.sample_weight.CopyFrom(pb.ArrayRef(inline=draw(matched(rows))))
    elif method == "Profile":
        request = pb.ProfileRequest(targets=targets, features=features, predictions=preds)
    elif method == "Recommend":
        request = pb.RecommendRequest(
            targets=targets, features=features, goal=draw(goals), top_k=draw(st.integers(-2, 40))
        )
    else:
        request = pb.ValidateRequest(
            features=features,
            targets=targets,
            candidates=draw(candidates()),
            folds=draw(st.integers(-1, 6)),
            epochs=draw(st.integers(-1, 2)),
            model=draw(st.sampled_from(["linear", "mlp"])),
            task=draw(st.sampled_from(["", *TASKS])),
            seed=draw(st.integers(0, 3)),
        )
    return Call(method, request)


arrays = st.one_of(
    honest_numeric(), honest_numeric(), honest_strings(), lying_array(), bad_dtype_array()
)


@st.composite
def array_ref(draw, allow_empty: bool = True) -> pb.ArrayRef:
    kind = draw(st.sampled_from(["inline"] * 6 + ["dataset"] + (["empty"] if allow_empty else [])))
    if kind == "inline":
        return pb.ArrayRef(inline=draw(arrays))
    if kind == "dataset":
        dataset_id = draw(st.sampled_from(["", "x" * 32, "../../etc/passwd"]) | odd_text)
        return pb.ArrayRef(dataset=pb.DatasetArray(dataset_id=dataset_id, name=draw(odd_text)))
    return pb.ArrayRef()


# ---------------------------------------------------------------------- options


param_value = st.one_of(
    numbers,
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    odd_text,
    st.lists(numbers, max_size=4),
    st.sampled_from(["mean", "sum", "none", "bogus"]),
)


@st.composite
def candidate(draw) -> pb.Candidate:
    name = draw(
        st.sampled_from(LOSSES) | st.sampled_from(["HuberLos", "mse", "", "Loss"]) | odd_text
    )
    out = pb.Candidate(loss=name)
    keys = draw(st.lists(st.sampled_from(PARAMS) | odd_text, max_size=3, unique=True))
    params = {k: draw(param_value) for k in keys}
    out.params.update(params)
    return out


@st.composite
def candidates(draw) -> list[pb.Candidate]:
    items = draw(st.lists(candidate(), max_size=3))
    if items and draw(st.booleans()):
        items.append(items[0])  # a duplicate
    return items


tasks = st.sampled_from(["", *TASKS, "sequence", "embedding", "Regression", "bogus"]) | odd_text
goals = (
    st.sampled_from(
        [
            "",
            "robust",
            "calibrated",
            "median",
            "quantile:0.9",
            "quantile:1.5",
            "quantile:nan",
            "quantile:",
            "quantile:0.1,0.9",
            "ranking",
            "fast",
        ]
    )
    | odd_text
)


def _int(bounds: tuple[int, int], *usual: int) -> st.SearchStrategy[int]:
    return st.sampled_from([*usual, *bounds, -1, 0]) | st.integers(*bounds)


# ---------------------------------------------------------------------- requests


@st.composite
def profile(draw) -> Call:
    request = pb.ProfileRequest(task=draw(tasks))
    for name in ("targets", "features", "predictions"):
        if name == "targets" or draw(st.booleans()):
            getattr(request, name).CopyFrom(draw(array_ref()))
    return Call("Profile", request)


@st.composite
def recommend(draw) -> Call:
    request = pb.RecommendRequest(
        task=draw(tasks), goal=draw(goals), top_k=draw(_int(INT32, 1, 3, 5, 100))
    )
    request.targets.CopyFrom(draw(array_ref()))
    if draw(st.booleans()):
        request.features.CopyFrom(draw(array_ref()))
    return Call("Recommend", request)


@st.composite
def evaluate(draw) -> Call:
    request = pb.EvaluateRequest(
        predictions=draw(st.lists(array_ref(), max_size=3)),
        candidates=draw(candidates()),
        task=draw(tasks),
        diagnostics=draw(st.booleans()),
    )
    if draw(st.booleans()):
        request.targets.CopyFrom(draw(array_ref()))
    if draw(st.integers(0, 3)) == 0:
        request.sample_weight.CopyFrom(draw(array_ref()))
    return Call("Evaluate", request)


@st.composite
def validate(draw) -> Call:
    # Epochs stay tiny or out of range: the attack is the request, not a long training.
    request = pb.ValidateRequest(
        candidates=draw(candidates()),
        task=draw(tasks),
        folds=draw(_int(INT32, 2, 3, 1000)),
        model=draw(st.sampled_from(["", "linear", "mlp", "transformer"]) | odd_text),
        epochs=draw(st.sampled_from([-1, 0, 1, 2, 100_001, 2**31 - 1])),
        budget_s=draw(st.sampled_from([0.0, -1.0, math.nan, math.inf, 0.5, 1e300])),
        seed=draw(_int(INT64, 0, 1)),
        metric=draw(st.sampled_from(["", "mae", "roc_auc", "accuracy", "bogus"]) | odd_text),
    )
    request.features.CopyFrom(draw(array_ref()))
    request.targets.CopyFrom(draw(array_ref()))
    return Call("Validate", request)


@st.composite
def list_losses(draw) -> Call:
    return Call("ListLosses", pb.ListLossesRequest(task=draw(tasks)))


@st.composite
def benchmark(draw) -> Call:
    # Unknown cases only: a valid benchmark is seconds of honest work, not an attack.
    cases = draw(
        st.lists(st.sampled_from(["nope", "regression-1", ""]) | odd_text, min_size=1, max_size=3)
    )
    return Call("Benchmark", pb.BenchmarkRequest(cases=cases, diagnostics=draw(st.booleans())))


@st.composite
def delete(draw) -> Call:
    dataset_id = draw(st.sampled_from(["", "A" * 32, "%00", "../x"]) | odd_text)
    return Call("DeleteDataset", pb.DeleteDatasetRequest(dataset_id=dataset_id))


@st.composite
def upload(draw) -> Call:
    """A header of hostile entries, then bytes that may or may not match what it declares."""
    entries = []
    declared = 0
    for _ in range(draw(st.integers(0, 3))):
        array = draw(arrays)
        name = draw(st.sampled_from(["targets", "features", "x"]) | odd_text)
        # The dictionary form's labels, on text and (wrongly) on numbers, beside or instead of
        # the strings; its codes follow in the data like a numeric array's bytes.
        labels = draw(st.lists(odd_text, max_size=3)) if draw(st.booleans()) else []
        strings = array.strings if not labels or draw(st.booleans()) else []
        entries.append(
            pb.UploadHeader.Entry(
                name=name, dtype=array.dtype, shape=array.shape, strings=strings, labels=labels
            )
        )
        coded = array.dtype == "str" and labels
        if (array.dtype in WIRE_DTYPES or coded) and all(d >= 0 for d in array.shape):
            itemsize = 4 if coded else np.dtype(array.dtype).itemsize
            size = math.prod(array.shape) * itemsize
            declared += size if size < 1 << 20 else 0
    header = pb.UploadChunk(header=pb.UploadHeader(arrays=entries))
    payload = draw(st.sampled_from(["exact", "zeros", "short", "long", "random"]))
    size = {
        "exact": declared,
        "zeros": declared,
        "short": max(0, declared - 1),
        "long": declared + 8,
    }.get(payload, draw(st.integers(0, 64)))
    data = (struct.pack("<d", 1.5) * (size // 8 + 1))[:size]
    if payload == "zeros":  # codes that all name the first label: an honest dictionary form
        data = b"\0" * size
    chunks = [header]
    step = max(draw(st.sampled_from([1, 7, 64, 4096])), len(data) // 16)
    for start in range(0, len(data), step):
        chunks.append(pb.UploadChunk(data=data[start : start + step]))
    order = draw(st.sampled_from(["normal", "data-first", "two-headers", "no-header"]))
    if order == "data-first":
        chunks = [pb.UploadChunk(data=b"\1\2"), *chunks]
    elif order == "two-headers":
        chunks = [*chunks, header]
    elif order == "no-header":
        chunks = chunks[1:]
    return Call("UploadDataset", chunks)


calls = st.one_of(
    coherent(),
    coherent(),
    coherent(),
    profile(),
    recommend(),
    evaluate(),
    evaluate(),
    validate(),
    list_losses(),
    benchmark(),
    delete(),
    upload(),
)
#: Each method's own hostile requests, for runs that must reach every method whatever the
#: draws (the soak): in ``calls`` the methods whose requests have few distinct forms come up
#: rarely, since hypothesis does not send the same request twice.
by_method = {
    "Profile": profile(),
    "Recommend": recommend(),
    "Evaluate": evaluate(),
    "Validate": validate(),
    "ListLosses": list_losses(),
    "Benchmark": benchmark(),
    "UploadDataset": upload(),
    "DeleteDataset": delete(),
}
