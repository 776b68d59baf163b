"""The LossAdvisor servicer: transport only, every decision is the domain's.

Heavy calls run in a thread pool sized to the concurrency limit; a call above the limit is
refused at once with RESOURCE_EXHAUSTED rather than queued, so a caller learns about overload
before its deadline burns. A slot is released only when the worker thread really finishes, so a
cancelled call cannot let more computations run than the limit allows.

Each call reads who it is for (its tenant) and its peer before anything else: once a call is
cancelled grpc may free it, and touching its context then can crash the process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import grpc

from advisor.errors import CapacityError, InvalidInputError
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc
from server import bench, codec, mapping
from server.drain import DrainGate
from server.limiter import Limiter, Overloaded
from server.rpclog import log_rpc
from server.status import is_out_of_memory, to_status
from server.store import DatasetStore
from server.tenants import Tenants
from server.work import Cancel, release_memory

__all__ = ["Limiter", "Overloaded", "Servicer"]
log = logging.getLogger("server.work")


class Servicer(pb_grpc.LossAdvisorServicer):
    def __init__(
        self,
        store: DatasetStore,
        *,
        device: str = "auto",
        max_concurrency: int = 2,
        max_elements: int = codec.DEFAULT_MAX_ELEMENTS,
        tenants: Tenants | None = None,
        max_benchmark_s: float = 120.0,
        gate: DrainGate | None = None,
    ) -> None:
        self.store = store
        self.gate = gate
        self.max_benchmark_s = max_benchmark_s
        self.device = device
        self.max_elements = max_elements
        self.tenants = tenants
        self.limiter = Limiter(max_concurrency)
        self.pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="advisor")

    # ------------------------------------------------------------------ plumbing

    def _cancelled(self) -> str:
        """The status a cancelled handler logs: UNAVAILABLE once the drain has cut the calls
        left at the end of the grace period (that is what their callers get), else CANCELLED."""
        return "UNAVAILABLE" if self.gate is not None and self.gate.cut_off else "CANCELLED"

    def _tenant(self, context) -> str:
        """The caller's tenant; "" when the server runs without tokens (one shared tenant)."""
        if self.tenants is None:
            return ""
        # The interceptor let the call through, so the token is known; "?" never owns anything.
        return self.tenants.identify(context.invocation_metadata()) or "?"

    def _resolver(self, context) -> mapping.Resolver:
        return mapping.Resolver(self.store, self.max_elements, self._tenant(context))

    async def _offload(
        self,
        context,
        method: str,
        fn: Callable[[Cancel], Any],
        cancel: Cancel | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Any:
        """Run ``fn`` in the pool within the call's deadline; signal its cancel event on exit."""
        cancel = cancel or Cancel()
        # However the call ends (done, cancelled, deadline, stream dropped), stop the work.
        context.add_done_callback(lambda _context: cancel.set())
        active = self.limiter.try_enter()
        if extra is not None:
            extra["active"] = active

        def run() -> Any:
            try:
                if cancel.is_set():
                    raise _Deadline()  # ended while waiting for a worker: do none of it
                return fn(cancel)
            except BaseException as exc:
                if is_out_of_memory(exc):
                    release_memory()
                raise
            finally:
                if cancel.is_set():
                    log.info(
                        json.dumps(
                            {
                                "event": "work stopped",
                                "of": method,
                                "steps_after_cancel": cancel.steps_after,
                                "stopped_ms": cancel.stopped_ms(),
                            }
                        )
                    )

        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self.pool, run)
        except BaseException:
            self.limiter.leave()
            raise
        future.add_done_callback(self._finished)
        remaining = context.time_remaining()
        if remaining is not None:
            # grpc cancels the handler at the deadline itself; this is only the backstop, late
            # enough that it never races grpc's own cancellation of the call.
            remaining += 0.25
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=remaining)
        except asyncio.TimeoutError:
            cancel.set()
            raise _Deadline() from None
        except asyncio.CancelledError:
            cancel.set()
            raise

    def _finished(self, future: asyncio.Future) -> None:
        """A computation ended: free its slot, and take its exception if it raised one. When
        its call ended first (cancelled, past its deadline), nobody awaits the future any
        more, and asyncio would log its exception (a work stopped by cancel raises) as a
        bare "Future exception was never retrieved" traceback."""
        self.limiter.leave()
        if not future.cancelled():
            future.exception()

    async def _unary(
        self,
        method: str,
        request,
        context,
        work: Callable[[], Awaitable[Any]],
        extra: dict[str, Any] | None = None,
        where: Callable[[], Any] | None = None,
    ) -> Any:
        """Run ``work`` and turn its failure into a status; ``where()`` is what field paths in
        that status point into (the request, unless the request is a stream)."""
        started = time.perf_counter()
        # Read now: once a call is cancelled grpc may free it, and peer() then crashes (SIGSEGV).
        peer = context.peer()
        extra = {} if extra is None else extra
        status = "OK"
        response = None
        try:
            response = await work()
            return response
        except asyncio.CancelledError:
            status = self._cancelled()
            raise
        except _Deadline:
            status = "DEADLINE_EXCEEDED"
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
        except Exception as exc:
            if isinstance(exc, grpc.aio.AbortError):
                status = "ABORTED_BY_HANDLER"
                raise
            st = to_status(exc, method, where() if where else request)
            status = st.code.name
            await context.abort_with_status(st)
        finally:
            size_in = request.ByteSize() if hasattr(request, "ByteSize") else int(request or 0)
            log_rpc(
                method,
                status,
                started,
                size_in,
                response.ByteSize() if response is not None else 0,
                peer,
                **extra,
            )

    async def _checked_offload(
        self,
        request,
        context,
        method: str,
        fn: Callable[[Cancel], Any],
        cancel: Cancel | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Any:
        """Refuse a request whose inline arrays lie before it takes a slot, then offload it."""
        mapping.precheck(request, self.max_elements)
        return await self._offload(context, method, fn, cancel, extra)

    def _computed(self, method: str, request, context, fn: Callable[[Cancel], Any]):
        extra: dict[str, Any] = {}
        return self._unary(
            method,
            request,
            context,
            lambda: self._checked_offload(request, context, method, fn, extra=extra),
            extra,
        )

    # ------------------------------------------------------------------ RPCs

    async def Profile(self, request, context):
        resolver = self._resolver(context)

        def work(cancel):
            import advisor

            # a call that ends stops its profile at the next step (a column read, a fold's fit)
            prof = advisor.profile(**mapping.profile_kwargs(request, resolver), cancel=cancel)
            return pb.ProfileResponse(
                task=prof.task.task.value,
                task_confidence=prof.task.confidence,
                profile_json=prof.model_dump_json(),
            )

        return await self._computed("Profile", request, context, work)

    async def Recommend(self, request, context):
        resolver = self._resolver(context)

        def work(cancel):
            import advisor

            kwargs = mapping.profile_kwargs(request, resolver)
            rec = advisor.recommend(
                **kwargs, goal=request.goal or None, top_k=request.top_k or 5, cancel=cancel
            )
            return pb.RecommendResponse(
                candidates=[mapping.candidate_pb(c.loss, c.params) for c in rec.candidates],
                recommendation_json=rec.model_dump_json(),
            )

        return await self._computed("Recommend", request, context, work)

    async def Evaluate(self, request, context):
        resolver = self._resolver(context)

        def work(cancel):
            import advisor

            kwargs = mapping.evaluate_kwargs(request, resolver)
            report = advisor.evaluate(
                kwargs.pop("predictions"),
                kwargs.pop("targets"),
                kwargs.pop("candidates"),
                device=self.device,
                cancel=cancel,  # a call that ends stops its evaluation at the next chunk
                **kwargs,
            )
            return mapping.evaluate_response(report)

        return await self._computed("Evaluate", request, context, work)

    async def ListLosses(self, request, context):
        async def work():
            from advisor import losses

            specs = losses.specs()
            if mapping.task(request.task):
                specs = [s for s in specs if request.task in [t.value for t in s.tasks]]
            return pb.ListLossesResponse(losses=[mapping.loss_pb(s) for s in specs])

        return await self._unary("ListLosses", request, context, work)

    async def Benchmark(self, request, context):
        def work(cancel):
            # the call's cancel, or the server's cap: either ends the run between timed calls
            ends = time.monotonic() + self.max_benchmark_s
            over = threading.Event()

            def stop() -> bool:
                if time.monotonic() > ends:
                    over.set()
                return cancel.is_set() or over.is_set()

            device, rows = bench.run(list(request.cases), request.diagnostics, self.device, stop)
            return pb.BenchmarkResponse(
                device=device, rows_json=json.dumps(rows), truncated=over.is_set()
            )

        return await self._computed("Benchmark", request, context, work)

    async def DeleteDataset(self, request, context):
        tenant = self._tenant(context)

        async def work():
            return pb.DeleteDatasetResponse(deleted=self.store.delete(request.dataset_id, tenant))

        return await self._unary("DeleteDataset", request, context, work)

    async def UploadDataset(self, request_iterator, context):
        received = 0
        tenant = self._tenant(context)
        seen = pb.UploadChunk()  # the header as received: what field paths point into

        async def work():
            nonlocal received
            reserved = 0
            try:
                entries: list[_Entry] = []
                total = 0
                transient = 0  # the codes of text arrays, held until decoded
                filled = 0
                # One buffer per entry: a numeric array stays a view of its own bytes, so the
                # codes of a text array are freed once decoded instead of kept alive beside it.
                parts: list[bytearray] = []
                current = 0
                header_seen = False
                async for chunk in request_iterator:
                    part = chunk.WhichOneof("part")
                    if part == "header":
                        if header_seen:
                            raise InvalidInputError("a second header", field="header")
                        header_seen = True
                        seen.header.CopyFrom(chunk.header)
                        entries, total, footprint, charge = self._header(chunk.header)
                        transient = sum(e.size for e in entries if e.labels is not None)
                        parts = [bytearray() for _ in entries]
                        # Held before any byte arrives, released below if the upload fails;
                        # the codes of text arrays only until they are decoded.
                        self.store.reserve(charge + transient)
                        reserved = charge + transient
                    elif part == "data":
                        if not header_seen:
                            raise InvalidInputError("data before the header", field="data")
                        received += len(chunk.data)
                        if filled + len(chunk.data) > total:
                            raise InvalidInputError(
                                f"more bytes than the header declares ({total})",
                                field="data",
                                expected=total,
                                got=filled + len(chunk.data),
                            )
                        filled += len(chunk.data)
                        data = memoryview(chunk.data)
                        while data:
                            while len(parts[current]) == entries[current].size:
                                current += 1  # fits: the total check above bounds the bytes
                            take = entries[current].size - len(parts[current])
                            parts[current] += data[:take]
                            data = data[take:]
                if not header_seen:
                    raise InvalidInputError("the stream carried no header", field="header")
                if filled != total:
                    raise InvalidInputError(
                        f"stream ended after {filled} of {total} declared bytes",
                        field="data",
                        expected=total,
                        got=filled,
                    )
                arrays = {}
                for i, entry in enumerate(entries):
                    field = f"header.arrays[{i}]"
                    # Taken out of ``parts``: a text array's codes are freed once decoded.
                    buffer, parts[i] = parts[i], bytearray()
                    if entry.labels is not None:
                        values = codec.from_codes(entry.dims, entry.labels, buffer, field)
                    elif entry.dtype == codec.STR:
                        values = codec.from_strings(entry.dims, entry.strings, field)
                    else:
                        values = codec.from_buffer(entry.dtype, entry.dims, buffer, field)
                    arrays[entry.name] = values
                    del buffer
                self.store.release(transient)
                reserved -= transient
                charge, reserved = reserved, 0
                dataset_id, ttl = self.store.put(arrays, charge, tenant, reserved=True)
                # The memory its arrays hold (strings cost more than their text); the store
                # charges its budget that plus ``codec.bookkeeping``.
                return pb.DatasetInfo(dataset_id=dataset_id, bytes=footprint, ttl_s=ttl)
            finally:
                if reserved:
                    self.store.release(reserved)

        return await self._unary(
            "UploadDataset", _Size(lambda: received), context, work, where=lambda: seen
        )

    def _header(self, header: pb.UploadHeader) -> tuple[list[_Entry], int, int, int]:
        """(entries, bytes to expect in the data chunks, memory the arrays will hold once
        decoded, what the store is charged: that memory and the bookkeeping of the dataset and
        its arrays), checked. Text arrays' codes are held besides while the upload lasts, so
        the charge must fit the budget with them."""
        entries = []
        total = 0
        footprint = 0
        transient = 0
        elements = 0
        names = set()
        if not header.arrays:
            raise InvalidInputError("the header names no arrays", field="header.arrays")
        for i, entry in enumerate(header.arrays):
            field = f"header.arrays[{i}]"
            if not entry.name or entry.name in names:
                raise InvalidInputError(
                    "array names must be unique and non-empty",
                    field=f"{field}.name",
                    got=entry.name,
                )
            names.add(entry.name)
            dims, count = codec.check_header(entry.dtype, entry.shape, field, self.max_elements)
            elements += count
            if elements > self.max_elements:
                raise CapacityError(
                    f"the dataset's arrays hold {elements} elements together, over this "
                    f"server's ceiling of {self.max_elements}",
                    field=f"{field}.shape",
                    expected=f"<= {self.max_elements} elements per upload",
                    got=elements,
                )
            for name in ("strings", "labels"):
                if entry.dtype != codec.STR and getattr(entry, name):
                    raise InvalidInputError(
                        f"a {entry.dtype} array carries its values as data chunks, not `{name}`",
                        field=f"{field}.{name}",
                    )
            if entry.labels and entry.strings:
                raise InvalidInputError(
                    "a str array gives its strings or its labels and codes, not both",
                    field=f"{field}.labels",
                    expected="one of strings, labels",
                    got="both",
                )
            if entry.labels:
                labels = list(entry.labels)
                size = codec.codes_nbytes(count)
                transient += size
                footprint += codec.coded_footprint(count, labels)
                entries.append(_Entry(entry.name, entry.dtype, dims, size, labels=labels))
            else:
                size = codec.nbytes(entry.dtype, count)
                footprint += codec.footprint(entry.dtype, count, entry.strings)
                entries.append(_Entry(entry.name, entry.dtype, dims, size, tuple(entry.strings)))
            total += size
        charge = footprint + codec.bookkeeping(names)
        self.store.reserve_check(charge + transient)
        return entries, total, footprint, charge

    async def Validate(self, request, context):
        started = time.perf_counter()
        peer = context.peer()  # see _unary: never touch the context after cancellation
        if importlib.util.find_spec("advisor.validation") is None:
            log_rpc("Validate", "UNIMPLEMENTED", started, request.ByteSize(), 0, peer)
            await context.abort(
                grpc.StatusCode.UNIMPLEMENTED, "validation is not part of this server's advisor"
            )
        resolver = self._resolver(context)
        status = "OK"
        sent = 0
        extra: dict[str, Any] = {}
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        cancel = Cancel()

        def progress(step: int, total: int, message: str) -> None:
            cancel.step()
            loop.call_soon_threadsafe(queue.put_nowait, (step, total, message))

        def work(cancel):
            import advisor

            r = resolver
            report = advisor.validate(
                mapping.features(request, r, required=True),
                r.array(request.targets, "targets", required=True),
                mapping.candidates(request.candidates),
                task=mapping.task(request.task),
                folds=request.folds or 5,
                model=request.model or "linear",
                epochs=request.epochs or 100,
                budget_s=request.budget_s or None,
                seed=request.seed,
                metric=request.metric or None,
                progress=progress,
                cancel=cancel,
                device=self.device,
                categorical=list(request.categorical) or None,
            )
            return report.model_dump_json()

        task = asyncio.ensure_future(
            self._checked_offload(request, context, "Validate", work, cancel, extra)
        )
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    step, total, message = getter.result()
                    event = pb.ValidateEvent(
                        progress=pb.Progress(step=step, total=total, message=message)
                    )
                    sent += event.ByteSize()
                    yield event
                    continue
                getter.cancel()
                while not queue.empty():
                    step, total, message = queue.get_nowait()
                    event = pb.ValidateEvent(
                        progress=pb.Progress(step=step, total=total, message=message)
                    )
                    sent += event.ByteSize()
                    yield event
                event = pb.ValidateEvent(report_json=task.result())
                sent += event.ByteSize()
                yield event
                return
        except asyncio.CancelledError:
            status = self._cancelled()
            task.cancel()
            raise
        except _Deadline:
            status = "DEADLINE_EXCEEDED"
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
        except Exception as exc:
            if isinstance(exc, grpc.aio.AbortError):
                raise
            st = to_status(exc, "Validate", request)
            status = st.code.name
            await context.abort_with_status(st)
        finally:
            # A cancelled stream may close this generator with GeneratorExit at a `yield`, which
            # no except clause above sees: stop the training here whatever the way out.
            cancel.set()
            if not task.done():
                task.cancel()
                status = status if status != "OK" else self._cancelled()
            log_rpc("Validate", status, started, request.ByteSize(), sent, peer, **extra)


class _Deadline(Exception):
    pass


class _Entry(NamedTuple):
    """One array of an upload, as its header declared it: ``size`` is how many of the data
    chunks' bytes are its own (numbers, or a dictionary-form text array's codes; 0 for the
    old form's ``strings``, which travel in the header). ``labels`` is None but for the
    dictionary form."""

    name: str
    dtype: str
    dims: tuple[int, ...]
    size: int
    strings: tuple[str, ...] = ()
    labels: list[str] | None = None


class _Size:
    """Stands in for a request in the RPC log line of a client stream, whose size grows."""

    def __init__(self, get: Callable[[], int]) -> None:
        self._get = get

    def ByteSize(self) -> int:
        return self._get()

