"""Pydantic models of every result: the one vocabulary shared by library, service and client.

Modules, one per result: ``profile`` (what the profiler measured), ``recommendation`` (ranked
candidates with their parameters and reasons), ``goal`` (what the user optimises for),
``evaluation`` (``advisor.evaluate``'s report, results and lints), ``validation`` (held-out
metrics per candidate and fold), ``report`` (the page a person reads) and ``benchmark`` (the
throughput benchmark's cases and rows).
"""
