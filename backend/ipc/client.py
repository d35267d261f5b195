"""Client side of the worker protocol: start `python -m backend serve` as a child and talk over pipes.

Used by the Blender add-on (polled from a modal timer, never blocking the UI) and by tests.
bpy-free; a reader thread turns stdout lines into events so `poll()` never blocks.
"""
from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from .protocol import encode, generate_request

REPO_ROOT = Path(__file__).resolve().parents[1]


class WorkerError(RuntimeError):
    """The worker could not be started, died, or did not answer in time."""


class WorkerClient:
    def __init__(self, python: str | None = None, cwd: str | os.PathLike | None = None,
                 env: dict | None = None) -> None:
        self.python = python or sys.executable
        self.cwd = str(cwd or REPO_ROOT)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.events: "queue.Queue[dict]" = queue.Queue()
        self._ids = itertools.count(1)
        self._reader: threading.Thread | None = None
        self._stderr_tail: list[str] = []
        self.ready: dict | None = None

    # lifecycle ---------------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> dict:
        """Start the worker and wait for its `ready` event (returns it)."""
        if self.alive():
            return self.ready or {}
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
        event = self.wait_for(lambda e: e.get("event") == "ready", timeout)
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
                self.send({"type": "shutdown"})
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
    def send(self, message: dict) -> None:
        if not self.alive():
            raise WorkerError(self._death_message())
        try:
            self.proc.stdin.write(encode(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerError(f"the backend worker closed its input: {exc}") from None

    def submit(self, audio: str, output_dir: str, options: dict | None = None, job_id: str | None = None) -> str:
        job_id = job_id or f"job-{next(self._ids)}"
        self.send(generate_request(job_id, str(audio), str(output_dir), options))
        return job_id

    def cancel(self, job_id: str) -> None:
        self.send({"type": "cancel", "id": job_id})

    def poll(self) -> list[dict]:
        """All events received so far, without blocking."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def wait_for(self, predicate, timeout: float) -> dict:
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
                on_event=None) -> dict:
        """Submit and block until done; returns the `done` result or raises WorkerError for an error event."""
        job_id = self.submit(audio, output_dir, options)

        def finished(event: dict) -> bool:
            if on_event is not None:
                on_event(event)
            return event.get("id") == job_id and event.get("event") in ("done", "error")

        event = self.wait_for(finished, timeout)
        if event["event"] == "error":
            raise WorkerError(event["message"])
        return event["result"]

    # internals ---------------------------------------------------------------------------------
    def _read_stdout(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                self.events.put(json.loads(line))
            except json.JSONDecodeError:
                self._stderr_tail.append(f"(stdout) {line}")

    def _read_stderr(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            self._stderr_tail.append(line.rstrip())
            del self._stderr_tail[:-20]

    def _death_message(self) -> str:
        code = None if self.proc is None else self.proc.poll()
        tail = " | ".join(self._stderr_tail[-3:])
        return f"the backend worker is not running (exit code {code})" + (f": {tail}" if tail else "")
