"""The LossAdvisor servicer: transport only, every decision is the domain's.

Heavy calls run in a thread pool sized to the concurrency limit; a call above the limit is
refused at once with RESOURCE_EXHAUSTED rather than queued, so a caller learns about overload
before its deadline burns. A slot is released only when the worker thread really finishes, so a
cancelled call cannot let more computations run than the limit allows.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from advisor.errors import CapacityError, InvalidInputError
from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc
from server import bench, codec, mapping
from server.rpclog import log_rpc
from server.status import to_status
from server.store import DatasetStore


class Overloaded(CapacityError):
    pass


class Limiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._lock = threading.Lock()

    def try_enter(self) -> None:
        with self._lock:
            if self.active >= self.limit:
                raise Overloaded(
                    f"server busy: {self.limit} computations already running; retry later",
                    field="",
                    expected=f"<= {self.limit} concurrent calls",
                )
            self.active += 1

    def leave(self) -> None:
        with self._lock:
            self.active -= 1


class Servicer(pb_grpc.LossAdvisorServicer):
    def __init__(
        self,
        store: DatasetStore,
        *,
        device: str = "auto",
        max_concurrency: int = 2,
        max_elements: int = codec.DEFAULT_MAX_ELEMENTS,
    ) -> None:
        self.store = store
        self.device = device
        self.max_elements = max_elements
        self.resolver = mapping.Resolver(store, max_elements)
        self.limiter = Limiter(max_concurrency)
        self.pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="advisor")

    # ------------------------------------------------------------------ plumbing

    async def _offload(
        self,
        context,
        fn: Callable[[threading.Event], Any],
        cancel: threading.Event | None = None,
    ) -> Any:
        """Run ``fn`` in the pool within the call's deadline; signal its cancel event on exit."""
        cancel = cancel or threading.Event()
        # However the call ends (done, cancelled, deadline, stream dropped), stop the work.
        context.add_done_callback(lambda _context: cancel.set())
        self.limiter.try_enter()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self.pool, fn, cancel)
        except BaseException:
            self.limiter.leave()
            raise
        future.add_done_callback(lambda _f: self.limiter.leave())
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

    async def _unary(
        self, method: str, request, context, work: Callable[[], Awaitable[Any]]
    ) -> Any:
        started = time.perf_counter()
        # Read now: once a call is cancelled grpc may free it, and peer() then crashes (SIGSEGV).
        peer = context.peer()
        status = "OK"
        response = None
        try:
            response = await work()
            return response
        except asyncio.CancelledError:
            status = "CANCELLED"
            raise
        except _Deadline:
            status = "DEADLINE_EXCEEDED"
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
        except Exception as exc:
            if isinstance(exc, grpc.aio.AbortError):
                status = "ABORTED_BY_HANDLER"
                raise
            st = to_status(exc, method)
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
            )

    # ------------------------------------------------------------------ RPCs

    async def Profile(self, request, context):
        def work(_cancel):
            import advisor

            prof = advisor.profile(**mapping.profile_kwargs(request, self.resolver))
            return pb.ProfileResponse(
                task=prof.task.task.value,
                task_confidence=prof.task.confidence,
                profile_json=prof.model_dump_json(),
            )

        return await self._unary("Profile", request, context, lambda: self._offload(context, work))

    async def Recommend(self, request, context):
        def work(_cancel):
            import advisor

            kwargs = mapping.profile_kwargs(request, self.resolver)
            rec = advisor.recommend(**kwargs, goal=request.goal or None, top_k=request.top_k or 5)
            return pb.RecommendResponse(
                candidates=[mapping.candidate_pb(c.loss, c.params) for c in rec.candidates],
                recommendation_json=rec.model_dump_json(),
            )

        return await self._unary(
            "Recommend", request, context, lambda: self._offload(context, work)
        )

    async def Evaluate(self, request, context):
        def work(_cancel):
            import advisor

            kwargs = mapping.evaluate_kwargs(request, self.resolver)
            report = advisor.evaluate(
                kwargs.pop("predictions"),
                kwargs.pop("targets"),
                kwargs.pop("candidates"),
                device=self.device,
                **kwargs,
            )
            return mapping.evaluate_response(report)

        return await self._unary("Evaluate", request, context, lambda: self._offload(context, work))

    async def ListLosses(self, request, context):
        async def work():
            from advisor import losses

            specs = losses.specs()
            if request.task:
                specs = [s for s in specs if request.task in [t.value for t in s.tasks]]
            return pb.ListLossesResponse(losses=[mapping.loss_pb(s) for s in specs])

        return await self._unary("ListLosses", request, context, work)

    async def Benchmark(self, request, context):
        def work(_cancel):
            device, rows = bench.run(list(request.cases), request.diagnostics, self.device)
            return pb.BenchmarkResponse(device=device, rows_json=json.dumps(rows))

        return await self._unary(
            "Benchmark", request, context, lambda: self._offload(context, work)
        )

    async def DeleteDataset(self, request, context):
        async def work():
            return pb.DeleteDatasetResponse(deleted=self.store.delete(request.dataset_id))

        return await self._unary("DeleteDataset", request, context, work)

    async def UploadDataset(self, request_iterator, context):
        received = 0

        async def work():
            nonlocal received
            entries: list[tuple[str, str, tuple[int, ...], list[str]]] = []
            total = 0
            buffer = bytearray()
            header_seen = False
            async for chunk in request_iterator:
                part = chunk.WhichOneof("part")
                if part == "header":
                    if header_seen:
                        raise InvalidInputError("a second header", field="header")
                    header_seen = True
                    entries, total = self._header(chunk.header)
                elif part == "data":
                    if not header_seen:
                        raise InvalidInputError("data before the header", field="data")
                    received += len(chunk.data)
                    if len(buffer) + len(chunk.data) > total:
                        raise InvalidInputError(
                            f"more bytes than the header declares ({total})",
                            field="data",
                            expected=total,
                            got=len(buffer) + len(chunk.data),
                        )
                    buffer += chunk.data
            if not header_seen:
                raise InvalidInputError("the stream carried no header", field="header")
            arrays = {}
            view = memoryview(buffer)
            offset = 0
            for i, (name, dtype, dims, strings) in enumerate(entries):
                field = f"header.arrays[{i}]"
                if dtype == codec.STR:
                    arrays[name] = codec.from_strings(dims, strings, field)
                    continue
                size = codec.nbytes(dtype, arrays_count(dims))
                if offset + size > len(buffer):
                    raise InvalidInputError(
                        f"stream ended after {len(buffer)} of {total} declared bytes",
                        field="data",
                        expected=total,
                        got=len(buffer),
                    )
                arrays[name] = codec.from_buffer(dtype, dims, view[offset : offset + size], field)
                offset += size
            dataset_id, ttl = self.store.put(arrays, total)
            return pb.DatasetInfo(dataset_id=dataset_id, bytes=total, ttl_s=ttl)

        return await self._unary("UploadDataset", _Size(lambda: received), context, work)

    def _header(self, header: pb.UploadHeader):
        entries = []
        total = 0
        names = set()
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
            total += codec.nbytes(entry.dtype, count)
            entries.append((entry.name, entry.dtype, dims, list(entry.strings)))
        self.store.reserve_check(total)
        return entries, total

    async def Validate(self, request, context):
        started = time.perf_counter()
        peer = context.peer()  # see _unary: never touch the context after cancellation
        if importlib.util.find_spec("advisor.validation") is None:
            log_rpc("Validate", "UNIMPLEMENTED", started, request.ByteSize(), 0, peer)
            await context.abort(
                grpc.StatusCode.UNIMPLEMENTED, "validation is not part of this server's advisor"
            )
        status = "OK"
        sent = 0
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def progress(step: int, total: int, message: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (step, total, message))

        def work(cancel):
            import advisor

            r = self.resolver
            report = advisor.validate(
                r.array(request.features, "features", required=True),
                r.array(request.targets, "targets", required=True),
                mapping.candidates(request.candidates),
                task=request.task or None,
                folds=request.folds or 5,
                model=request.model or "linear",
                epochs=request.epochs or 100,
                budget_s=request.budget_s or None,
                seed=request.seed,
                metric=request.metric or None,
                progress=progress,
                cancel=cancel,
                device=self.device,
            )
            return report.model_dump_json()

        cancel = threading.Event()
        task = asyncio.ensure_future(self._offload(context, work, cancel))
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
            status = "CANCELLED"
            task.cancel()
            raise
        except _Deadline:
            status = "DEADLINE_EXCEEDED"
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")
        except Exception as exc:
            if isinstance(exc, grpc.aio.AbortError):
                raise
            st = to_status(exc, "Validate")
            status = st.code.name
            await context.abort_with_status(st)
        finally:
            # A cancelled stream may close this generator with GeneratorExit at a `yield`, which
            # no except clause above sees: stop the training here whatever the way out.
            cancel.set()
            if not task.done():
                task.cancel()
                status = status if status != "OK" else "CANCELLED"
            log_rpc("Validate", status, started, request.ByteSize(), sent, peer)


class _Deadline(Exception):
    pass


class _Size:
    """Stands in for a request in the RPC log line of a client stream, whose size grows."""

    def __init__(self, get: Callable[[], int]) -> None:
        self._get = get

    def ByteSize(self) -> int:
        return self._get()


def arrays_count(dims: tuple[int, ...]) -> int:
    count = 1
    for d in dims:
        count *= d
    return count
