from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Array(_message.Message):
    __slots__ = ("dtype", "shape", "data", "strings")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    STRINGS_FIELD_NUMBER: _ClassVar[int]
    dtype: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    strings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, dtype: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ..., strings: _Optional[_Iterable[str]] = ...) -> None: ...

class ArrayRef(_message.Message):
    __slots__ = ("inline", "dataset")
    INLINE_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    inline: Array
    dataset: DatasetArray
    def __init__(self, inline: _Optional[_Union[Array, _Mapping]] = ..., dataset: _Optional[_Union[DatasetArray, _Mapping]] = ...) -> None: ...

class Table(_message.Message):
    __slots__ = ("columns",)
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[Column]
    def __init__(self, columns: _Optional[_Iterable[_Union[Column, _Mapping]]] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("name", "values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    values: ArrayRef
    def __init__(self, name: _Optional[str] = ..., values: _Optional[_Union[ArrayRef, _Mapping]] = ...) -> None: ...

class DatasetArray(_message.Message):
    __slots__ = ("dataset_id", "name")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    name: str
    def __init__(self, dataset_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class UploadChunk(_message.Message):
    __slots__ = ("header", "data")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: UploadHeader
    data: bytes
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadHeader(_message.Message):
    __slots__ = ("arrays",)
    class Entry(_message.Message):
        __slots__ = ("name", "dtype", "shape", "strings", "labels")
        NAME_FIELD_NUMBER: _ClassVar[int]
        DTYPE_FIELD_NUMBER: _ClassVar[int]
        SHAPE_FIELD_NUMBER: _ClassVar[int]
        STRINGS_FIELD_NUMBER: _ClassVar[int]
        LABELS_FIELD_NUMBER: _ClassVar[int]
        name: str
        dtype: str
        shape: _containers.RepeatedScalarFieldContainer[int]
        strings: _containers.RepeatedScalarFieldContainer[str]
        labels: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, name: _Optional[str] = ..., dtype: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., strings: _Optional[_Iterable[str]] = ..., labels: _Optional[_Iterable[str]] = ...) -> None: ...
    ARRAYS_FIELD_NUMBER: _ClassVar[int]
    arrays: _containers.RepeatedCompositeFieldContainer[UploadHeader.Entry]
    def __init__(self, arrays: _Optional[_Iterable[_Union[UploadHeader.Entry, _Mapping]]] = ...) -> None: ...

class DatasetInfo(_message.Message):
    __slots__ = ("dataset_id", "bytes", "ttl_s")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    TTL_S_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    bytes: int
    ttl_s: float
    def __init__(self, dataset_id: _Optional[str] = ..., bytes: _Optional[int] = ..., ttl_s: _Optional[float] = ...) -> None: ...

class DeleteDatasetRequest(_message.Message):
    __slots__ = ("dataset_id",)
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    def __init__(self, dataset_id: _Optional[str] = ...) -> None: ...

class DeleteDatasetResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("loss", "params")
    LOSS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    loss: str
    params: _struct_pb2.Struct
    def __init__(self, loss: _Optional[str] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ProfileRequest(_message.Message):
    __slots__ = ("targets", "features", "predictions", "task", "features_table", "categorical")
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    FEATURES_TABLE_FIELD_NUMBER: _ClassVar[int]
    CATEGORICAL_FIELD_NUMBER: _ClassVar[int]
    targets: ArrayRef
    features: ArrayRef
    predictions: ArrayRef
    task: str
    features_table: Table
    categorical: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, targets: _Optional[_Union[ArrayRef, _Mapping]] = ..., features: _Optional[_Union[ArrayRef, _Mapping]] = ..., predictions: _Optional[_Union[ArrayRef, _Mapping]] = ..., task: _Optional[str] = ..., features_table: _Optional[_Union[Table, _Mapping]] = ..., categorical: _Optional[_Iterable[str]] = ...) -> None: ...

class ProfileResponse(_message.Message):
    __slots__ = ("task", "task_confidence", "profile_json")
    TASK_FIELD_NUMBER: _ClassVar[int]
    TASK_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    PROFILE_JSON_FIELD_NUMBER: _ClassVar[int]
    task: str
    task_confidence: float
    profile_json: str
    def __init__(self, task: _Optional[str] = ..., task_confidence: _Optional[float] = ..., profile_json: _Optional[str] = ...) -> None: ...

class RecommendRequest(_message.Message):
    __slots__ = ("targets", "features", "predictions", "task", "goal", "top_k", "features_table", "categorical")
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FEATURES_TABLE_FIELD_NUMBER: _ClassVar[int]
    CATEGORICAL_FIELD_NUMBER: _ClassVar[int]
    targets: ArrayRef
    features: ArrayRef
    predictions: ArrayRef
    task: str
    goal: str
    top_k: int
    features_table: Table
    categorical: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, targets: _Optional[_Union[ArrayRef, _Mapping]] = ..., features: _Optional[_Union[ArrayRef, _Mapping]] = ..., predictions: _Optional[_Union[ArrayRef, _Mapping]] = ..., task: _Optional[str] = ..., goal: _Optional[str] = ..., top_k: _Optional[int] = ..., features_table: _Optional[_Union[Table, _Mapping]] = ..., categorical: _Optional[_Iterable[str]] = ...) -> None: ...

class RecommendResponse(_message.Message):
    __slots__ = ("candidates", "recommendation_json")
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_JSON_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    recommendation_json: str
    def __init__(self, candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., recommendation_json: _Optional[str] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("predictions", "targets", "candidates", "task", "sample_weight", "diagnostics", "quantile_sample")
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTICS_FIELD_NUMBER: _ClassVar[int]
    QUANTILE_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    predictions: _containers.RepeatedCompositeFieldContainer[ArrayRef]
    targets: ArrayRef
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    task: str
    sample_weight: ArrayRef
    diagnostics: bool
    quantile_sample: int
    def __init__(self, predictions: _Optional[_Iterable[_Union[ArrayRef, _Mapping]]] = ..., targets: _Optional[_Union[ArrayRef, _Mapping]] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., task: _Optional[str] = ..., sample_weight: _Optional[_Union[ArrayRef, _Mapping]] = ..., diagnostics: _Optional[bool] = ..., quantile_sample: _Optional[int] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ("values", "report_json")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    REPORT_JSON_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    report_json: str
    def __init__(self, values: _Optional[_Iterable[float]] = ..., report_json: _Optional[str] = ...) -> None: ...

class ValidateRequest(_message.Message):
    __slots__ = ("features", "targets", "candidates", "task", "folds", "model", "epochs", "budget_s", "seed", "metric", "features_table", "categorical")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    FOLDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_S_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    FEATURES_TABLE_FIELD_NUMBER: _ClassVar[int]
    CATEGORICAL_FIELD_NUMBER: _ClassVar[int]
    features: ArrayRef
    targets: ArrayRef
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    task: str
    folds: int
    model: str
    epochs: int
    budget_s: float
    seed: int
    metric: str
    features_table: Table
    categorical: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, features: _Optional[_Union[ArrayRef, _Mapping]] = ..., targets: _Optional[_Union[ArrayRef, _Mapping]] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., task: _Optional[str] = ..., folds: _Optional[int] = ..., model: _Optional[str] = ..., epochs: _Optional[int] = ..., budget_s: _Optional[float] = ..., seed: _Optional[int] = ..., metric: _Optional[str] = ..., features_table: _Optional[_Union[Table, _Mapping]] = ..., categorical: _Optional[_Iterable[str]] = ...) -> None: ...

class ValidateEvent(_message.Message):
    __slots__ = ("progress", "report_json")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    REPORT_JSON_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    report_json: str
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., report_json: _Optional[str] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("step", "total", "message")
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    step: int
    total: int
    message: str
    def __init__(self, step: _Optional[int] = ..., total: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class ListLossesRequest(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: str
    def __init__(self, task: _Optional[str] = ...) -> None: ...

class ListLossesResponse(_message.Message):
    __slots__ = ("losses",)
    class Loss(_message.Message):
        __slots__ = ("name", "family", "tasks", "spec_json")
        NAME_FIELD_NUMBER: _ClassVar[int]
        FAMILY_FIELD_NUMBER: _ClassVar[int]
        TASKS_FIELD_NUMBER: _ClassVar[int]
        SPEC_JSON_FIELD_NUMBER: _ClassVar[int]
        name: str
        family: str
        tasks: _containers.RepeatedScalarFieldContainer[str]
        spec_json: str
        def __init__(self, name: _Optional[str] = ..., family: _Optional[str] = ..., tasks: _Optional[_Iterable[str]] = ..., spec_json: _Optional[str] = ...) -> None: ...
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    losses: _containers.RepeatedCompositeFieldContainer[ListLossesResponse.Loss]
    def __init__(self, losses: _Optional[_Iterable[_Union[ListLossesResponse.Loss, _Mapping]]] = ...) -> None: ...

class BenchmarkRequest(_message.Message):
    __slots__ = ("cases", "diagnostics")
    CASES_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTICS_FIELD_NUMBER: _ClassVar[int]
    cases: _containers.RepeatedScalarFieldContainer[str]
    diagnostics: bool
    def __init__(self, cases: _Optional[_Iterable[str]] = ..., diagnostics: _Optional[bool] = ...) -> None: ...

class BenchmarkResponse(_message.Message):
    __slots__ = ("device", "rows_json", "truncated")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    ROWS_JSON_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    device: str
    rows_json: str
    truncated: bool
    def __init__(self, device: _Optional[str] = ..., rows_json: _Optional[str] = ..., truncated: _Optional[bool] = ...) -> None: ...
