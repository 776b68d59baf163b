"""Benchmarks of the evaluation engine on the machine that serves it.

Modules, one job each: ``throughput`` (the bench cases: fused candidates against a loop of
torch.nn losses, the dearest candidate alone and the memory-read bound; ``loss-advisor
bench``, the Benchmark RPC and ``benchmarks/`` share it), ``cases`` (the cases' seeded data,
the data layouts and the loop's modules; the cases themselves are the torch-free table in
``advisor.schema.benchmark``), ``anchors`` (the engine against a hand-fused compiled kernel,
the torch.nn.functional loop, the read bound and an autograd loop, and across layouts),
``longlived`` (the cases fresh and after many mixed requests in one process) and ``probes``
(peak memory, compile cost in a fresh interpreter, the eager/compiled crossover, and the
timing and stopping both runners share).
"""
