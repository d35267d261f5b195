"""`python -m backend serve`: a long-lived worker speaking backend/ipc/protocol.py over stdin/stdout.

Two processes. The front (`Front`, this process) reads and checks every request line, answers
`ping`, keeps the job queue and forwards events; it imports no numpy and never runs a job, so it
answers within milliseconds at every stage. The job process (`Worker`, `python -m backend.app.worker`)
runs one generation at a time with the engines loaded. Cancelling asks the job process first; a job
still running CANCEL_GRACE_S later (pocketsphinx holds the GIL for seconds in one call: `end_utt`
after the 8 s CMN priming searched all buffered frames in one go, 2.3 s measured on a busy 2-core
machine, 4.9–5.7 s in the attack run) is killed and the job process restarted. The job process dies
with the front (PR_SET_PDEATHSIG), and so does its forked decoder.
"""
from __future__ import annotations

import collections
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from .. import __version__
from ..errors import EXIT_OK, Cancelled, UserError
from ..ipc.protocol import (MAX_LINE_BYTES, PROTOCOL_VERSION, ByeEvent, CancelRequest, DoneEvent, ErrorEvent, Event,
                           GenerateRequest, InvalidMessage, Message, PingRequest, PongEvent, ProgressEvent,
                           ProtocolError, ReadyEvent, ShutdownRequest, WarningEvent, check_option_types,
                           parse_event, parse_request, resolve_option_paths)
from ..subprocesses import PARENT_PID_ENV, die_with_parent

PROGRESS_INTERVAL_S = 0.1  # at most ten progress events a second per job
CANCEL_GRACE_S = 0.25      # a cooperative cancel gets this long before the job process is killed
PACKAGE_PARENT = Path(__file__).resolve().parents[2]


class EventWriter:
    """Writes events to the protocol channel from any thread, one whole line at a time. Only protocol
    events go out: anything else is a programming error raised here, at emit (InvalidMessage)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if not isinstance(event, Message) or event.TAG != "event":
            raise InvalidMessage(f"the worker emits protocol events only, not {type(event).__name__}")
        line = event.line()
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
        self.started = False
        self.answered = False  # a queued job cancelled at once is skipped silently later


class Worker:
    def __init__(self, emit: EventWriter) -> None:
        from ..engines.registry import EngineCache

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
            except InvalidMessage as exc:  # a bug of ours (an event off the vocabulary): the job fails, loudly
                from .crash_log import write_crash_log
                log = write_crash_log(exc)
                self.emit(ErrorEvent(job.request.id, "internal", f"{exc.__class__.__name__}: {exc}", str(log)))
            finally:
                with self.lock:
                    self.active.pop(job.request.id, None)

    def _run_one(self, job: Job) -> None:
        from .crash_log import write_crash_log
        from ..generation.pipeline import run_generate

        from ..options import GenerateOptions
        from ..progress import JobControl

        req = job.request
        with self.lock:
            job.started = True
            if job.cancel_event.is_set():
                if not job.answered:
                    self.emit(ErrorEvent(req.id, "cancelled", "cancelled before it started"))
                return
        last = [0.0, ""]

        def on_progress(fraction: float, stage: str) -> None:
            now = time.monotonic()
            if stage != last[1] or now - last[0] >= PROGRESS_INTERVAL_S or fraction >= 1.0:
                last[0], last[1] = now, stage
                self.emit(ProgressEvent(req.id, fraction, stage))

        try:
            check_option_types(req.options)  # also here: the job process may be driven directly
            options = GenerateOptions.from_mapping(req.options)
            summary = run_generate(req.audio, req.output_dir, options,
                                   JobControl(on_progress, job.cancel_event), self.engines)
        except Cancelled:
            self.emit(ErrorEvent(req.id, "cancelled", "cancelled"))
        except UserError as exc:
            self.emit(ErrorEvent(req.id, "user", str(exc)))
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            log = write_crash_log(exc)
            self.emit(ErrorEvent(req.id, "internal", f"{exc.__class__.__name__}: {exc}", str(log)))
        else:
            for warning in summary.warnings:
                self.emit(WarningEvent(req.id, warning))
            self.emit(DoneEvent(req.id, summary))

    def submit(self, request) -> None:
        with self.lock:
            if request.id in self.active:
                self.emit(ErrorEvent(request.id, "protocol", f"a job with id {request.id!r} is already queued"))
                return
            job = Job(request)
            self.active[request.id] = job
        self.jobs.put(job)

    def cancel(self, job_id: str) -> None:
        with self.lock:
            job = self.active.get(job_id)
            if job is not None:
                job.cancel_event.set()
                if not job.started and not job.answered:  # queued: answered now, not when it comes up
                    job.answered = True
                    self.emit(ErrorEvent(job_id, "cancelled", "cancelled before it started"))
        if job is None:
            self.emit(ErrorEvent(job_id, "protocol", f"no queued or running job with id {job_id!r}"))

    def cancel_all(self) -> None:
        for job_id in list(self.active):
            self.cancel(job_id)

    def serve(self, lines) -> None:
        self.thread.start()
        self.emit(ReadyEvent(__version__, PROTOCOL_VERSION, os.getpid()))
        for line in lines:
            try:
                req = parse_request(line)
            except ProtocolError as exc:
                self.emit(ErrorEvent(None, "protocol", str(exc)))
                continue
            if isinstance(req, GenerateRequest):
                self.submit(req)
            elif isinstance(req, CancelRequest):
                self.cancel(req.id)
            elif isinstance(req, PingRequest):
                self.emit(PongEvent(req.id))
            elif isinstance(req, ShutdownRequest):
                break
        # shutdown request or stdin closed (the parent quit): stop what runs and leave
        self.cancel_all()
        self.jobs.put(None)
        self.thread.join(timeout=5.0)
        self.emit(ByeEvent())


class JobProcess:
    """The `python -m backend.app.worker` child: one generation at a time, events as JSON lines on its stdout."""

    def __init__(self, inbox: "queue.Queue") -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_PARENT), env.get("PYTHONPATH")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        env[PARENT_PID_ENV] = str(os.getpid())
        # its own process group: a hard cancel kills it and its forked decoder together
        posix = {"process_group": 0} if os.name == "posix" else {}
        self.proc = subprocess.Popen([sys.executable, "-m", "backend.app.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=None, env=env, **posix)
        self.inbox = inbox
        threading.Thread(target=self._read, name="orator-job-events", daemon=True).start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            try:
                event = parse_event(raw)
            except ProtocolError as exc:  # our own job process broke the protocol: say so, skip the line
                print(f"orator worker: job process sent a bad event ({exc})", file=sys.stderr, flush=True)
                continue
            self.inbox.put(("child", self, event))
        self.proc.wait()  # reap it (a killed one too)
        self.inbox.put(("child", self, None))  # stdout closed: the job process is gone

    def send(self, request: Message) -> bool:
        try:
            self.proc.stdin.write(request.line().encode("utf-8"))
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def kill(self, wait_s: float | None = None) -> None:
        """SIGKILL to the job process and its forked decoder; reaped within `wait_s` (None: until gone).
        A killed process runs no more code, so a cancel is answered without waiting for the kernel to
        tear down its memory (up to 0.15 s measured for a 300 MB process)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):  # gone already, or not POSIX
            self.proc.kill()
        try:
            self.proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            pass  # reaped when its stdout closes (the reader thread) or by subprocess's own cleanup

    def close(self, timeout: float) -> None:
        """End of input: the job process stops and leaves; killed if it is not gone in `timeout` s."""
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def read_lines(stream, inbox: "queue.Queue", max_bytes: int = MAX_LINE_BYTES) -> None:
    """Put each request line of the binary `stream` on `inbox`; an over-long line is dropped unread."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            break
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest without holding it
                line = stream.readline(1 << 20)
            inbox.put(("toolong", None, None))
            continue
        inbox.put(("line", None, line))
    inbox.put(("eof", None, None))


class Front:
    """The worker's protocol side: checks requests, keeps the queue, answers ping/cancel/shutdown at once."""

    def __init__(self, emit: EventWriter, spawn=JobProcess) -> None:
        self.emit = emit
        self.spawn = spawn
        self.inbox: "queue.Queue" = queue.Queue()
        self.pending: "collections.deque" = collections.deque()
        self.running = None            # the Request the job process is running
        self.deadline: float | None = None
        self.child: JobProcess | None = None
        self.stopping = False

    # job process -------------------------------------------------------------------------------
    def _ensure_child(self) -> JobProcess:
        if self.child is None or self.child.proc.poll() is not None:
            self.child = self.spawn(self.inbox)
        return self.child

    def _dispatch(self) -> None:
        while self.running is None and self.pending and not self.stopping:
            req = self.pending.popleft()
            child = self._ensure_child()
            if child.send(req):
                self.running, self.deadline = req, None
            else:
                child.kill()
                self.child = None
                self.emit(ErrorEvent(req.id, "internal", "the job process could not be started"))

    def _finish_running(self) -> None:
        self.running, self.deadline = None, None
        self._dispatch()

    def _on_child_event(self, child: JobProcess, event: Event | None) -> None:
        if child is not self.child:
            return  # last words of a job process that was killed
        if event is None:
            code = child.proc.wait()
            self.child = None
            if self.running is not None:
                self.emit(ErrorEvent(self.running.id, "internal",
                                     f"the job process stopped unexpectedly (exit code {code}); it restarts "
                                     "with the next job"))
                self._finish_running()
            return
        if self.running is None or event.id != self.running.id:
            return  # ready / bye of the job process, or a job already answered
        self.emit(event)
        if isinstance(event, (DoneEvent, ErrorEvent)):
            self._finish_running()

    def _hard_cancel(self) -> None:
        """The running job did not stop within the grace time: kill the job process, answer for it."""
        job_id = self.running.id
        if self.child is not None:
            self.child.kill(wait_s=0.05)
            self.child = None
        self.emit(ErrorEvent(job_id, "cancelled", "cancelled"))
        self._finish_running()

    # requests ----------------------------------------------------------------------------------
    def _cancel(self, job_id: str) -> None:
        for req in self.pending:
            if req.id == job_id:
                self.pending.remove(req)
                self.emit(ErrorEvent(job_id, "cancelled", "cancelled before it started"))
                return
        if self.running is not None and self.running.id == job_id:
            if self.deadline is None:
                self.deadline = time.monotonic() + CANCEL_GRACE_S
                if self.child is None or not self.child.send(CancelRequest(job_id)):
                    self._hard_cancel()
            return
        self.emit(ErrorEvent(job_id, "protocol", f"no queued or running job with id {job_id!r}"))

    def _on_line(self, raw: bytes) -> None:
        try:
            req = parse_request(raw)
        except ProtocolError as exc:
            self.emit(ErrorEvent(None, "protocol", str(exc)))
            return
        if req is None:
            return  # blank line
        if isinstance(req, PingRequest):
            self.emit(PongEvent(req.id))
        elif isinstance(req, CancelRequest):
            self._cancel(req.id)
        elif isinstance(req, ShutdownRequest):
            self._shutdown()
        elif isinstance(req, GenerateRequest):
            if (self.running is not None and self.running.id == req.id) or any(r.id == req.id for r in self.pending):
                self.emit(ErrorEvent(req.id, "protocol", f"a job with id {req.id!r} is already queued"))
                return
            try:
                check_option_types(req.options)
            except UserError as exc:
                self.emit(ErrorEvent(req.id, "user", str(exc)))
                return
            self.pending.append(replace(req, options=resolve_option_paths(req.options)))
            self._dispatch()

    def _shutdown(self) -> None:
        """Shutdown request or stdin closed (the parent quit): drop the queue, cancel what runs."""
        if self.stopping:
            return
        self.stopping = True
        while self.pending:
            self.emit(ErrorEvent(self.pending.popleft().id, "cancelled", "cancelled: the worker is shutting down"))
        if self.running is not None:
            self._cancel(self.running.id)

    def serve(self, stream) -> None:
        """Serve requests from the binary `stream` until shutdown or end of input, then say bye."""
        self.emit(ReadyEvent(__version__, PROTOCOL_VERSION, os.getpid()))
        threading.Thread(target=read_lines, args=(stream, self.inbox), name="orator-requests", daemon=True).start()
        try:
            self._ensure_child()  # loads numpy and the engines while the user picks a file
        except OSError as exc:
            self.emit(ErrorEvent(None, "internal", f"cannot start the job process: {exc}"))
        try:
            while not (self.stopping and self.running is None):
                timeout = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
                try:
                    kind, child, payload = self.inbox.get(timeout=timeout)
                except queue.Empty:
                    kind = "timer"
                if kind == "line":
                    self._on_line(payload)
                elif kind == "toolong":
                    self.emit(ErrorEvent(None, "protocol", f"request line longer than {MAX_LINE_BYTES} bytes"))
                elif kind == "eof":
                    self._shutdown()
                elif kind == "child":
                    self._on_child_event(child, payload)
                if self.deadline is not None and time.monotonic() >= self.deadline and self.running is not None:
                    self._hard_cancel()
        except KeyboardInterrupt:  # SIGINT / SIGTERM: the same as shutdown, without waiting
            if self.running is not None:
                self.emit(ErrorEvent(self.running.id, "cancelled", "cancelled"))
            for req in self.pending:
                self.emit(ErrorEvent(req.id, "cancelled", "cancelled: the worker is shutting down"))
            if self.child is not None:
                self.child.kill()
                self.child = None
        if self.child is not None:
            self.child.close(CANCEL_GRACE_S)
        self.emit(ByeEvent())


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _protocol_channel():
    """Keep the protocol channel clean: anything a library prints goes to stderr instead."""
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return protocol_out


def serve() -> int:
    """Run the worker front on this process's stdin/stdout; returns the exit code."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    out = _protocol_channel()
    Front(EventWriter(out)).serve(sys.stdin.buffer)
    # The request reader may sit in stdin's readline; a normal interpreter exit would abort on its lock.
    for stream in (out, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(EXIT_OK)


def job_process_main() -> int:
    """The job process: requests from the front on stdin (already checked), events on stdout."""
    die_with_parent(expected_parent=int(os.environ.get(PARENT_PID_ENV, "0")) or None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the front decides; Ctrl-C reaches it, not us
    import warnings
    warnings.simplefilter("ignore", RuntimeWarning)  # as in the CLI: non-finite results are refused by name
    out = _protocol_channel()
    Worker(EventWriter(out)).serve(sys.stdin)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(job_process_main())
