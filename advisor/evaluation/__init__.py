"""Fused, batched evaluation of candidate losses, with diagnostics and input lints.

    >>> import advisor
    >>> report = advisor.evaluate([0.0, 2.0], [0.0, 0.0], ["L1Loss", {"loss": "HuberLoss", "params": {"delta": 0.5}}])
    >>> [r.value for r in report.results]
    [1.0, 0.4375]

Modules, one job each: ``inputs`` (request checks), ``candidates`` (parsing), ``defaults``
(what runs without candidates), ``prepare`` (shared conversions), ``plans`` (who fuses with
whom), ``kernels`` (the family kernels), ``dispatch`` (eager or compiled, compiling in the
background), ``chunking`` (memory bound), ``runner`` (a fused block over batches and chunks:
the sample's rows, then the state pass), ``diagnostics`` (the state, its merge rules, the
quantile sample and its bound, saturation), ``stream`` (batches in one pass, bounded memory),
``reference`` (the catalog's own function), ``baselines`` (skill score), ``lints`` and
``warm`` (a caller's stop signal, ``advisor.cancel``, is checked between kernel calls and
eager slots); the throughput benchmark is ``bench`` (the runner), ``benchcases`` (its cases' data
and loop baseline; the cases are in ``advisor.schema.benchmark``), ``anchors`` (the engine
against a hand-fused kernel, the functional loop, the read bound and across layouts) and
``probes`` (peak memory, compile cost, the eager/compiled crossover, timing and stopping).
"""

from advisor.evaluation.defaults import default_candidates
from advisor.evaluation.engine import evaluate
from advisor.evaluation.warm import warmup

__all__ = ["default_candidates", "evaluate", "warmup"]
