"""Process lifecycle: options, the grpc.aio server, warm-up, health and graceful drain.

Health says NOT_SERVING until the domain is imported, so a load balancer never routes a call
that would pay the import. By default (``--warmup background``) the kernels then compile on a
thread of their own while calls are served eagerly, each structure switching to its compiled
kernel once ready, so SERVING comes in seconds and no call waits for a compile;
``--warmup compile`` compiles them before SERVING instead. On SIGTERM health flips to
NOT_SERVING first, new calls are refused with UNAVAILABLE (``server.drain``), in-flight calls get
``--grace-s`` seconds to finish, those still running then are cut off with UNAVAILABLE (the
server is shutting down, the call may be retried), then exit 0: within ``--grace-s`` + 2 s of
the signal, whatever still runs (``serve``).
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from client.rpc.lossadvisor.v1 import advisor_pb2 as pb
from client.rpc.lossadvisor.v1 import advisor_pb2_grpc as pb_grpc
from server import codec
from server.auth import TokenInterceptor
from server.decoding import DecodeGuard
from server.drain import DrainGate
from server.service import Servicer
from server.store import DatasetStore
from server.tenants import Tenants

log = logging.getLogger("server")
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["LossAdvisor"].full_name
#: Once the grace period is over, how long the calls cut off get to send their UNAVAILABLE.
CUT_WAIT_S = 0.5
#: SIGTERM ends the process within ``--grace-s`` and this much more (``serve``).
EXIT_SLACK_S = 1.5
#: ... and should the exit itself hang, faulthandler ends it here (status 1, stacks logged).
EXIT_BACKSTOP_S = 1.9
#: After the drain, how long the exit waits for computations told to stop (they stop within a
#: step) and for a compile under way, so that the log says how they ended.
WORK_WAIT_S = 0.5


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line = json.loads(message) if message.startswith("{") else {"event": message}
        line = {"level": record.levelname.lower(), "logger": record.name, **line}
        for key in ("dataset", "bytes", "store_bytes", "reason", "port", "tenants", "peak_active"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    root = logging.getLogger("server")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=50051, help="0 picks a free port")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument(
        "--token-file",
        help="bearer tokens callers must send, one per line; each token is a tenant that sees "
        "only the datasets it uploaded",
    )
    parser.add_argument("--tls-cert", help="PEM certificate chain (with --tls-key)")
    parser.add_argument("--tls-key", help="PEM private key (with --tls-cert)")
    parser.add_argument(
        "--max-message-mb",
        type=float,
        default=64.0,
        help="largest request or response message; larger gets RESOURCE_EXHAUSTED",
    )
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=2,
        help="computations at once; more are refused with RESOURCE_EXHAUSTED",
    )
    parser.add_argument(
        "--store-mb",
        type=float,
        default=1024.0,
        help="byte budget of uploaded datasets (least recently used evicted)",
    )
    parser.add_argument(
        "--store-ttl-s", type=float, default=3600.0, help="seconds an unused dataset is kept"
    )
    parser.add_argument(
        "--max-elements",
        type=int,
        default=codec.DEFAULT_MAX_ELEMENTS,
        help="most array elements one request (or one upload) may carry or reference, all its "
        "arrays together; more gets RESOURCE_EXHAUSTED naming the field (default %(default)s)",
    )
    parser.add_argument(
        "--max-benchmark-s",
        type=float,
        default=120.0,
        help="seconds one Benchmark call may run; the rows finished by then are returned, "
        "marked truncated (default %(default)s)",
    )
    parser.add_argument(
        "--grace-s",
        type=float,
        default=30.0,
        help="seconds in-flight calls get to finish on SIGTERM",
    )
    parser.add_argument(
        "--warmup",
        choices=("background", "compile", "import"),
        default="background",
        help="background: import the domain, SERVING, then compile the kernels while calls are "
        "served eagerly; compile: compile them before SERVING; import: only import the domain "
        "(default %(default)s)",
    )
    parser.add_argument("--log-level", default="info")


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SystemExit(f"cannot read {what} {path}: {exc.strerror}") from None


def _log_step(step: str, seconds: float) -> None:
    log.info(json.dumps({"event": "warm-up step", "step": step, "duration_ms": round(seconds * 1000, 1)}))


def _import_domain() -> None:
    """Import the domain, then answer one small request of each kind: SERVING says every
    method works, not only that it was imported."""
    started = time.perf_counter()
    import advisor

    for name in ("profile", "recommend", "evaluate", "validate"):
        getattr(advisor, name)
    _log_step("import", time.perf_counter() - started)
    started = time.perf_counter()
    _self_check(advisor)
    _log_step("self-check", time.perf_counter() - started)


def _self_check(advisor: Any) -> None:
    """Profile, recommend, evaluate and validate on 64 seeded rows; raises if any fails."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2))
    y = x[:, 0] + 0.1 * rng.normal(size=64)
    advisor.profile(y, features=x)
    best = advisor.recommend(y).best
    advisor.evaluate(y + 0.1, y, [{"loss": best.loss, "params": best.params}])
    advisor.validate(x, y, ["MSELoss"], folds=2, epochs=1)


def _compile_kernels(device: str) -> None:
    """``advisor.warmup``: one log line a step. Its forced compiled mode is this thread's only
    (``dispatch.mode``), so calls served meanwhile stay in auto mode and run eagerly until
    their structure is ready; a failure is logged, the kernels it left stay eager."""
    import advisor

    log.info(json.dumps({"event": "kernel warm-up", "state": "started"}))
    started = time.perf_counter()
    try:
        advisor.warmup(device=device, on_step=lambda step, s: _log_step(f"compile {step}", s))
    except Exception:
        log.exception("kernel warm-up failed; the kernels it did not compile run eagerly")
        return
    log.info(json.dumps({"event": "kernel warm-up", "state": "done", "duration_ms": round((time.perf_counter() - started) * 1000, 1)}))


def _warm(mode: str, device: str) -> None:
    """Import the domain and check each method, then (``mode`` 'compile') compile its kernels:
    one log line a step."""
    _import_domain()
    if mode == "compile":
        _compile_kernels(device)


@dataclass
class Built:
    """A started server and the parts a caller may watch or stop."""

    server: grpc.aio.Server
    servicer: Servicer
    health: health.aio.HealthServicer
    port: int
    gate: DrainGate


def _tenants(path: str | None) -> Tenants | None:
    if not path:
        return None
    try:
        return Tenants.parse(_read(path, "token file").decode())
    except ValueError:
        raise SystemExit(f"token file {path} holds no token") from None


async def build(args: argparse.Namespace) -> Built:
    """Bind and start the server, health NOT_SERVING until the caller warms it up."""
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    tenants = _tenants(args.token_file)
    # Authentication before decoding, so a caller without a token learns nothing, not even about its bytes.
    gate = DrainGate()  # first: a draining server refuses every call alike
    interceptors: list[grpc.aio.ServerInterceptor] = [gate]
    if tenants:
        interceptors.append(TokenInterceptor(tenants))
    interceptors.append(DecodeGuard())
    max_bytes = int(args.max_message_mb * 1024 * 1024)
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", max_bytes),
            ("grpc.max_send_message_length", max_bytes),
            ("grpc.so_reuseport", 0),
        ],
    )
    store = DatasetStore(int(args.store_mb * 1024 * 1024), args.store_ttl_s)
    servicer = Servicer(
        store,
        device=args.device,
        max_concurrency=args.max_concurrency,
        max_elements=args.max_elements,
        tenants=tenants,
        max_benchmark_s=args.max_benchmark_s,
        gate=gate,
    )
    pb_grpc.add_LossAdvisorServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            SERVICE_NAME,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    address = f"{args.host}:{args.port}"
    if args.tls_cert:
        creds = grpc.ssl_server_credentials(
            [(_read(args.tls_key, "TLS key"), _read(args.tls_cert, "TLS certificate"))]
        )
        port = server.add_secure_port(address, creds)
    else:
        port = server.add_insecure_port(address)
    if not port:
        raise SystemExit(f"cannot bind {address}")
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    await server.start()
    log.info("listening", extra={"port": port, "tenants": len(tenants) if tenants else 0})
    return Built(server, servicer, health_servicer, port, gate)


async def warm(built: Built, args: argparse.Namespace) -> None:
    """Warm up, then health SERVING; a warm-up that fails is logged and health stays NOT_SERVING."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await loop.run_in_executor(built.servicer.pool, _warm, args.warmup, args.device)
    except Exception:
        log.exception("warm-up failed; health stays NOT_SERVING")
        return
    for name in ("", SERVICE_NAME):
        await built.health.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info(json.dumps({"event": "serving", "warmup_ms": round((loop.time() - started) * 1000, 1)}))
    if args.warmup == "background":  # its own daemon thread: no worker slot is taken from calls
        threading.Thread(
            target=_compile_kernels, args=(args.device,), name="kernel-warmup", daemon=True
        ).start()


async def drain(built: Built, grace_s: float) -> None:
    """Health NOT_SERVING, refuse new calls, give calls in flight ``grace_s`` to finish."""
    log.info("draining")
    await built.health.enter_graceful_shutdown()
    built.gate.close()  # new calls get UNAVAILABLE from here on (``server.drain``)
    log.info("refusing new calls")
    loop = asyncio.get_running_loop()
    started = loop.time()
    stop_grace_s = None
    if not await built.gate.settle(grace_s):
        # Answered UNAVAILABLE (may be retried) by the gate, not cancelled by ``stop``.
        log.info(json.dumps({"event": "grace period over", "calls_cut": built.gate.cut()}))
        await built.gate.settle(CUT_WAIT_S)
        # The handlers have ended, but their statuses are sent after: ``stop`` with no grace
        # at all would cancel those calls before they go out.
        stop_grace_s = CUT_WAIT_S
    await built.server.stop(stop_grace_s or max(0.0, grace_s - (loop.time() - started)))
    built.servicer.pool.shutdown(wait=False, cancel_futures=True)
    log.info("stopped", extra={"peak_active": built.servicer.limiter.peak})


def _close_compiler() -> None:
    """No new kernel compilations (``dispatch.shutdown``): the process is going away, and a
    compile cut short by it is then not recorded as a broken kernel. Nothing to do if the domain
    never loaded."""
    dispatch = sys.modules.get("advisor.evaluation.dispatch")
    if dispatch is not None:
        dispatch.shutdown(timeout=0)


def _wait_for_work(pool: ThreadPoolExecutor, exit_by: float) -> list[str]:
    """Wait a little (``WORK_WAIT_S``, never past ``exit_by``) for the pool's threads
    (computations told to stop, or the warm-up) and the background compile under way; returns
    what is still running then. Only so that the log shows the work stopped: the exit is
    ``os._exit``, safe whatever still runs."""
    exit_by = min(exit_by, time.monotonic() + WORK_WAIT_S)
    left = []
    joiner = threading.Thread(target=pool.shutdown, name="join-workers", daemon=True)
    joiner.start()
    joiner.join(max(0.0, exit_by - time.monotonic()))
    if joiner.is_alive():
        left.append("workers (computations, warm-up)")
    dispatch = sys.modules.get("advisor.evaluation.dispatch")
    if dispatch is not None and not dispatch.shutdown(timeout=max(0.0, exit_by - time.monotonic())):
        left.append("kernel compilation")
    return left


def _exit_now(code: int, running: list[str]) -> None:
    """End the process without the interpreter's finalisation, the log flushed first.

    Finalisation would wait for any thread still running (concurrent.futures joins its workers
    at exit, ``dispatch`` waits for a compile), can abort in C++ with a thread inside torch's
    compiler, and even when all is done takes about a second with torch loaded: time the grace
    period does not have. Nothing it would do matters to a server that has drained.
    """
    if running:
        log.warning(json.dumps({"event": "exiting with work still running", "running": running}))
    log.info("exit")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def serve(args: argparse.Namespace, stop: asyncio.Event | None = None) -> int:
    """Serve until SIGTERM or SIGINT (or until ``stop`` is set, for a server run in-process).

    Run as the process (no ``stop``), it ends within ``--grace-s`` + ``EXIT_SLACK_S`` of the
    signal and does not return: the drain, then the computations and compile still running get
    what is left of that time, then the process leaves with ``os._exit`` (``_exit_now``), status
    0. Should any of that hang, faulthandler ends the process at ``--grace-s`` +
    ``EXIT_BACKSTOP_S``, every thread's stack in the log (status 1).
    """
    configure_logging(args.log_level)
    faulthandler.enable()  # a native crash in torch or grpc leaves a traceback in the log
    built = await build(args)
    loop = asyncio.get_running_loop()
    owns_process = stop is None
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    warming = asyncio.ensure_future(warm(built, args))
    await stop.wait()
    exit_by = time.monotonic() + args.grace_s + EXIT_SLACK_S
    if owns_process:
        faulthandler.dump_traceback_later(args.grace_s + EXIT_BACKSTOP_S, exit=True)
        _close_compiler()
    warming.cancel()
    await drain(built, args.grace_s)
    if owns_process:
        _exit_now(0, _wait_for_work(built.servicer.pool, exit_by))
    return 0


def serve_from_args(args: argparse.Namespace) -> int:
    """Blocks until SIGTERM or SIGINT, then ends the process (``serve``); returns only on a
    failure to start."""
    return asyncio.run(serve(args))
