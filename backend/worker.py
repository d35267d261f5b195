"""`python -m backend serve`: a long-lived worker speaking backend/protocol.py over stdin/stdout.

The main thread reads requests; one job thread runs generations in order, so engines stay loaded
and a `cancel` is read and honoured while a job runs.
"""
from __future__ import annotations

import os
import queue
import sys
import threading
import time

from . import __version__
from .errors import Cancelled, UserError
from .options import GenerateOptions
from .progress import JobControl
from .protocol import PROTOCOL_VERSION, ProtocolError, encode, error_event, parse_request, progress_event

PROGRESS_INTERVAL_S = 0.1  # at most ten progress events a second per job


class EventWriter:
    """Writes events to the protocol channel from any thread, one whole line at a time."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def __call__(self, message: dict) -> None:
        line = encode(message)
        with self.lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the parent went away; stdin EOF will end the worker


class Job:
    def __init__(self, request) -> None:
        self.request = request
        self.cancel_event = threading.Event()


class Worker:
    def __init__(self, emit: EventWriter) -> None:
        from .engines.registry import EngineCache

        self.emit = emit
        self.engines = EngineCache()
        self.jobs: "queue.Queue[Job | None]" = queue.Queue()
        self.active: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run_jobs, name="orator-jobs", daemon=True)

    def _run_jobs(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            try:
                self._run_one(job)
            finally:
                with self.lock:
                    self.active.pop(job.request.id, None)

    def _run_one(self, job: Job) -> None:
        from .cli import write_crash_log
        from .pipeline import run_generate

        req = job.request
        if job.cancel_event.is_set():
            self.emit(error_event(req.id, "cancelled", "cancelled before it started"))
            return
        last = [0.0, ""]

        def on_progress(fraction: float, stage: str) -> None:
            now = time.monotonic()
            if stage != last[1] or now - last[0] >= PROGRESS_INTERVAL_S or fraction >= 1.0:
                last[0], last[1] = now, stage
                self.emit(progress_event(req.id, fraction, stage))

        try:
            options = GenerateOptions.from_mapping(req.options)
            summary = run_generate(req.audio, req.output_dir, options,
                                   JobControl(on_progress, job.cancel_event), self.engines)
        except Cancelled:
            self.emit(error_event(req.id, "cancelled", "cancelled"))
        except UserError as exc:
            self.emit(error_event(req.id, "user", str(exc)))
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            log = write_crash_log(exc)
            self.emit(error_event(req.id, "internal", f"{exc.__class__.__name__}: {exc}", str(log)))
        else:
            for warning in summary.get("warnings", []):
                self.emit({"event": "warning", "id": req.id, "message": warning})
            self.emit({"event": "done", "id": req.id, "result": summary})

    def submit(self, request) -> None:
        with self.lock:
            if request.id in self.active:
                self.emit(error_event(request.id, "protocol", f"a job with id {request.id!r} is already queued"))
                return
            job = Job(request)
            self.active[request.id] = job
        self.jobs.put(job)

    def cancel(self, job_id: str) -> None:
        with self.lock:
            job = self.active.get(job_id)
        if job is None:
            self.emit(error_event(job_id, "protocol", f"no queued or running job with id {job_id!r}"))
        else:
            job.cancel_event.set()

    def cancel_all(self) -> None:
        with self.lock:
            for job in self.active.values():
                job.cancel_event.set()

    def serve(self, lines) -> None:
        self.thread.start()
        self.emit({"event": "ready", "version": __version__, "protocol": PROTOCOL_VERSION, "pid": os.getpid()})
        for line in lines:
            if not line.strip():
                continue
            try:
                req = parse_request(line)
            except ProtocolError as exc:
                self.emit(error_event(None, "protocol", str(exc)))
                continue
            if req.type == "generate":
                self.submit(req)
            elif req.type == "cancel":
                self.cancel(req.id)
            elif req.type == "ping":
                self.emit({"event": "pong", "id": req.id})
            elif req.type == "shutdown":
                break
        # shutdown request or stdin closed (the parent quit): stop what runs and leave
        self.cancel_all()
        self.jobs.put(None)
        self.thread.join(timeout=5.0)
        self.emit({"event": "bye"})


def serve() -> int:
    """Run the worker on this process's stdin/stdout; returns the exit code."""
    # Keep the protocol channel clean: anything a library prints goes to stderr instead.
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    Worker(EventWriter(protocol_out)).serve(sys.stdin)
    return 0
