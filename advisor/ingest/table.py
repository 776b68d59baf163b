"""Any table a caller holds, as a pandas DataFrame with string column names.

Pipelines hold pandas DataFrames, Arrow tables, dicts of columns, numpy structured arrays or
plain matrices. Features are read through this one function so a column means the same
thing whichever container brought it: a matrix's columns are named ``x0, x1, ...``, a dict's
columns keep their keys, and every shape problem is a typed error naming the field.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from advisor.errors import DTypeError, EmptyInputError, ShapeMismatchError
from advisor.ingest.targets import as_array


def as_frame(x: Any, field: str = "features", n_rows: int | None = None) -> Any:
    """``x`` as a DataFrame; ``n_rows`` is the row count it must have (the targets')."""
    import pandas as pd

    if isinstance(x, pd.DataFrame):
        frame = x
    elif isinstance(x, pd.Series):
        frame = x.to_frame(name=x.name if x.name is not None else "x0")
    elif hasattr(x, "to_pandas") and hasattr(x, "column_names"):  # pyarrow Table, RecordBatch
        frame = x.to_pandas()
    elif isinstance(x, dict):
        frame = _from_dict(x, field)
    elif isinstance(x, np.ndarray) and x.dtype.names:  # structured array
        frame = pd.DataFrame({name: x[name] for name in x.dtype.names})
    else:
        frame = _from_matrix(as_array(x, field), field)
    frame = frame.rename(columns=str)
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise ShapeMismatchError(
            f"has two columns named {duplicated[0]!r}",
            field=field,
            expected="distinct column names",
            got=duplicated[0],
        )
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise EmptyInputError(
            f"has {frame.shape[0]} rows and {frame.shape[1]} columns",
            field=field,
            expected="at least one row and one column",
            got=list(frame.shape),
        )
    if n_rows is not None and frame.shape[0] != n_rows:
        raise ShapeMismatchError(
            f"has {frame.shape[0]} rows but targets have {n_rows}",
            field=field,
            expected=n_rows,
            got=frame.shape[0],
        )
    return frame


def _from_dict(columns: dict[Any, Any], field: str) -> Any:
    import pandas as pd

    arrays = {}
    for name, values in columns.items():
        array = as_array(values, f"{field}.{name}")
        if array.ndim != 1:
            raise ShapeMismatchError(
                f"column {name!r} is {array.ndim}-D; a table's columns are 1-D",
                field=f"{field}.{name}",
                expected="1-D",
                got=list(array.shape),
            )
        arrays[str(name)] = array
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        first = next(iter(lengths))
        other = next(n for n, k in lengths.items() if k != lengths[first])
        raise ShapeMismatchError(
            f"column {other!r} has {lengths[other]} rows but {first!r} has {lengths[first]}",
            field=f"{field}.{other}",
            expected=lengths[first],
            got=lengths[other],
        )
    return pd.DataFrame(arrays)


def _from_matrix(array: np.ndarray, field: str) -> Any:
    import pandas as pd

    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ShapeMismatchError(
            f"must be 1-D or 2-D (rows x columns), got {array.ndim}-D",
            field=field,
            expected="1-D or 2-D",
            got=list(array.shape),
        )
    if array.dtype.kind not in "biufOUSMm":
        raise DTypeError(
            f"has dtype {array.dtype}, which is neither numeric nor text",
            field=field,
            expected="numbers, booleans, text or datetimes",
            got=str(array.dtype),
        )
    # one block that views the matrix: no copy of a million rows
    return pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])], copy=False)
