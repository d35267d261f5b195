"""Client side of the worker protocol: start `python -m backend serve` as a child and talk over pipes.

Used by the Blender add-on (polled from a modal timer, never blocking the UI) and by tests.
bpy-free; a reader thread turns stdout lines into typed events (backend/ipc/protocol.py) so `poll()`
never blocks. A line that is no event goes to the stderr tail shown when the worker dies.
"""
from __future__ import annotations

import itertools
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from .protocol import (CancelRequest, DoneEvent, ErrorEvent, Event, GenerateRequest, Message, ProtocolError,
                       ReadyEvent, ShutdownRequest, parse_event)
from ..summary import GenerationSummary

REPO_ROOT = Path(__file__).resolve().parents[2]


class WorkerError(RuntimeError):
    """The worker could not be started, died, or did not answer in time."""


class WorkerClient:
    def __init__(self, python: str | None = None, cwd: str | os.PathLike | None = None,
                 env: dict | None = None) -> None:
        self.python = python or sys.executable
        self.cwd = str(cwd or REPO_ROOT)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.events: "queue.Queue[Event]" = queue.Queue()
        self._ids = itertools.count(1)
        self._reader: threading.Thread | None = None
        self._stderr_tail: list[str] = []
        self.ready: ReadyEvent | None = None

    # lifecycle ---------------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> ReadyEvent | None:
        """Start the worker and wait for its `ready` event (returns it; None when it already runs unready)."""
        if self.alive():
            return self.ready
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        try:
            self.proc = subprocess.Popen([self.python, "-m", "backend", "serve"], cwd=self.cwd, env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, encoding="utf-8", bufsize=1)
        except OSError as exc:
            raise WorkerError(f"cannot start the backend with {self.python}: {exc.strerror}") from None
        self.events = queue.Queue()
        self._reader = threading.Thread(target=self._read_stdout, args=(self.proc,), daemon=True)
        self._reader.start()
        threading.Thread(target=self._read_stderr, args=(self.proc,), daemon=True).start()
        event = self.wait_for(lambda e: isinstance(e, ReadyEvent), timeout)
        self.ready = event
        return event

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to shut down; kill it if it does not leave in time."""
        if self.proc is None:
            return
        if self.alive():
            try:
                self.send(ShutdownRequest())
                self.proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None and self.alive():
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    # messages ----------------------------------------------------------------------------------
    def send(self, request: Message) -> None:
        """Send one request (a protocol Request: GenerateRequest, CancelRequest, PingRequest, ShutdownRequest)."""
        if not isinstance(request, Message) or request.TAG != "type":
            raise TypeError(f"send() takes a protocol request, not {type(request).__name__}")
        self.send_line(request.line())

    def send_line(self, line: str) -> None:
        """Send one raw line as it is (for tests of what the worker does with a bad one)."""
        if not self.alive():
            raise WorkerError(self._death_message())
        try:
            self.proc.stdin.write(line if line.endswith("\n") else line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerError(f"the backend worker closed its input: {exc}") from None

    def submit(self, audio: str, output_dir: str, options: dict | None = None, job_id: str | None = None) -> str:
        job_id = job_id or f"job-{next(self._ids)}"
        self.send(GenerateRequest(job_id, str(audio), str(output_dir), dict(options or {})))
        return job_id

    def cancel(self, job_id: str) -> None:
        self.send(CancelRequest(job_id))

    def poll(self) -> list[Event]:
        """All events received so far, without blocking."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def wait_for(self, predicate, timeout: float) -> Event:
        """Block until an event matching `predicate` arrives (other events are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerError(f"the backend worker did not answer within {timeout:.0f} s")
            try:
                event = self.events.get(timeout=min(remaining, 0.1))
            except queue.Empty:
                if not self.alive() and self.events.empty():
                    raise WorkerError(self._death_message()) from None
                continue
            if predicate(event):
                return event

    def run_job(self, audio: str, output_dir: str, options: dict | None = None, timeout: float = 600.0,
                on_event=None) -> GenerationSummary:
        """Submit and block until done; returns the `done` result or raises WorkerError for an error event."""
        job_id = self.submit(audio, output_dir, options)

        def finished(event: Event) -> bool:
            if on_event is not None:
                on_event(event)
            return event.id == job_id and isinstance(event, (DoneEvent, ErrorEvent))

        event = self.wait_for(finished, timeout)
        if isinstance(event, ErrorEvent):
            raise WorkerError(event.message)
        return event.result

    # internals ---------------------------------------------------------------------------------
    def _read_stdout(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                self.events.put(parse_event(line))
            except ProtocolError as exc:
                self._stderr_tail.append(f"(stdout) {line[:200]} [{exc}]")
                del self._stderr_tail[:-20]

    def _read_stderr(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            self._stderr_tail.append(line.rstrip())
            del self._stderr_tail[:-20]

    def _death_message(self) -> str:
        code = None if self.proc is None else self.proc.poll()
        tail = " | ".join(self._stderr_tail[-3:])
        return f"the backend worker is not running (exit code {code})" + (f": {tail}" if tail else "")
