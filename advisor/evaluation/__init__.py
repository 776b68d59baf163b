"""Fused, batched evaluation of candidate losses, with diagnostics and input lints.

    >>> import advisor
    >>> report = advisor.evaluate([0.0, 2.0], [0.0, 0.0], ["L1Loss", {"loss": "HuberLoss", "params": {"delta": 0.5}}])
    >>> [r.value for r in report.results]
    [1.0, 0.4375]

Modules, one job each: ``engine`` (``evaluate``: the request's order of work), ``inputs``
(request checks), ``candidates`` (parsing, and each candidate's result), ``defaults`` (what
runs without candidates), ``prepare`` (shared conversions), ``plans`` (who fuses with whom,
and the kernels' view of the inputs), ``kernels`` (the family kernels), ``dispatch`` (eager
or compiled, compiling in the background), ``chunking`` (memory bound), ``runner`` (a fused
block over batches and chunks: the sample's rows, then the state pass), ``diagnostics`` (the
state, its merge rules, the quantile sample and its bound, saturation), ``stream`` (batches
in one pass, bounded memory), ``reference`` (the catalog's own function), ``baselines``
(skill score), ``lints`` (input mistakes, each with its fix) and ``warm`` (ahead-of-time
compilation). A caller's stop signal (``advisor.cancel``) is checked between kernel calls
and eager slots. The throughput benchmark of this engine lives in ``advisor.benchmarking``.
"""

from advisor.evaluation.defaults import default_candidates
from advisor.evaluation.engine import evaluate
from advisor.evaluation.warm import warmup

__all__ = ["default_candidates", "evaluate", "warmup"]
