"""The add-on's one backend worker: a `python -m backend serve` child process, started once and reused.

Nothing here touches bpy, so it may run off the main thread; the worker is started on a helper
thread so a modal operator never waits for Python and numpy to load. Talks through
`backend.ipc.client.WorkerClient` (the one protocol implementation) and reads its typed events.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..backend.ipc.client import WorkerClient, WorkerError
from ..backend.ipc.protocol import DoneEvent, ErrorEvent, ProgressEvent, WarningEvent
from ..backend.summary import GenerationSummary

ADDON_DIR = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0
# After ESC the job counts as finished only once the worker has answered for it (it stops writing by then),
# so deleting the job folder never races a worker that recreates it; one that stays silent is killed.
CANCEL_WAIT_S = 1.5


@dataclass
class JobState:
    """What one generation job has reported so far (mutated only by `WorkerSession.pump`)."""

    audio: str
    output_dir: str
    options: dict
    timeout_s: float
    started: float = field(default_factory=time.monotonic)
    job_id: str | None = None
    fraction: float = 0.0
    stage: str = "starting the backend"
    warnings: list[str] = field(default_factory=list)
    result: GenerationSummary | None = None
    error: str | None = None
    error_kind: str | None = None
    cancelled: bool = False
    cancel_deadline: float | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None

    def fail(self, kind: str, message: str) -> None:
        if not self.finished:
            self.error_kind, self.error = kind, message


class WorkerSession:
    """Owns the worker child process. A crash or timeout ends the process; the next job starts a new one."""

    def __init__(self, cwd: Path = ADDON_DIR) -> None:
        self.cwd = cwd
        self.client: WorkerClient | None = None
        self.python: str | None = None
        # the backend's environment (None: Blender's own); the add-on sets PYTHONPATH to the folder Blender
        # installed the extension's wheels into (backend_python.py); a change restarts the worker
        self.env: dict | None = None
        self._client_env: dict | None = None
        self._starter: threading.Thread | None = None
        self._start_error: str | None = None

    # lifecycle ---------------------------------------------------------------------------------
    def _start(self, client: WorkerClient) -> None:
        try:
            client.start(timeout=START_TIMEOUT_S)
        except WorkerError as exc:
            self._start_error = str(exc)
            client.kill()

    def _ensure_starting(self, python: str) -> None:
        if self._starter is not None and self._starter.is_alive():
            return
        if (self.client is not None and self.client.alive() and self.python == python
                and self._client_env == self.env):
            return
        self.stop()
        self.python, self._client_env = python, self.env
        self.client = WorkerClient(python=python, cwd=self.cwd, env=self.env)
        self._start_error = None
        self._starter = threading.Thread(target=self._start, args=(self.client,), daemon=True,
                                         name="orator-worker-start")
        self._starter.start()

    def starting(self) -> bool:
        return self._starter is not None and self._starter.is_alive()

    def stop(self) -> None:
        """Shut the worker down (kill it when it does not leave in time)."""
        if self._starter is not None and self._starter.is_alive():
            self._starter.join(START_TIMEOUT_S)
        if self.client is not None:
            self.client.stop(timeout=3.0)
        self.client = None

    def kill(self) -> None:
        if self.client is not None:
            self.client.kill()
        self.client = None

    # jobs --------------------------------------------------------------------------------------
    def begin(self, python: str, audio: str, output_dir: str, options: dict, timeout_s: float) -> JobState:
        """Queue a generation; the worker is (re)started when needed. Never blocks on the worker."""
        job = JobState(audio, output_dir, options, timeout_s)
        self._ensure_starting(python)
        self.pump(job)
        return job

    def pump(self, job: JobState) -> None:
        """Move `job` forward from the worker's events, without blocking."""
        if job.finished:
            return
        if job.job_id is None:
            if self.starting():
                self._check_timeout(job)
                return
            if self._start_error is not None or self.client is None or not self.client.alive():
                job.fail("crash", self._start_error or "the backend worker stopped while starting")
                self.kill()
                return
            if job.cancelled:
                job.fail("cancelled", "cancelled")
                return
            try:
                job.job_id = self.client.submit(job.audio, job.output_dir, job.options)
                job.stage = "queued"
            except WorkerError as exc:
                job.fail("crash", str(exc))
                self.kill()
                return
        for event in self.client.poll() if self.client is not None else []:
            if event.id != job.job_id:
                continue  # a cancelled earlier job's last words (or ready / bye)
            if isinstance(event, ProgressEvent):
                job.fraction, job.stage = event.fraction, event.stage
            elif isinstance(event, WarningEvent):
                job.warnings.append(event.message)
            elif isinstance(event, DoneEvent) and job.cancelled:
                job.fail("cancelled", "cancelled")  # it finished first; its files go with the cancelled job
            elif isinstance(event, DoneEvent):
                job.result, job.fraction, job.stage = event.result, 1.0, "done"
            elif isinstance(event, ErrorEvent):
                job.fail("cancelled" if job.cancelled else event.kind,
                         "cancelled" if job.cancelled else event.message)
        if not job.finished and job.cancel_deadline is not None and time.monotonic() > job.cancel_deadline:
            self.kill()  # it did not answer the cancel: stop it before anyone deletes the job folder
            job.fail("cancelled", "cancelled")
            return
        if not job.finished and (self.client is None or not self.client.alive()):
            message = self.client._death_message() if self.client is not None else "the backend worker is gone"
            job.fail("crash", message)
            self.kill()
            return
        self._check_timeout(job)

    def _check_timeout(self, job: JobState) -> None:
        if not job.finished and time.monotonic() - job.started > job.timeout_s:
            job.fail("timeout", f"the backend did not finish within {job.timeout_s:.0f} s; it was stopped "
                                "and will restart with the next job")
            self.kill()

    def cancel(self, job: JobState) -> None:
        """Ask the worker to drop the job; it counts as cancelled when the worker answers (within 0.5 s) or
        after CANCEL_WAIT_S, when the worker is killed."""
        if job.cancelled or job.finished:
            return
        job.cancelled = True
        if job.job_id is not None and self.client is not None and self.client.alive():
            try:
                self.client.cancel(job.job_id)
                job.cancel_deadline = time.monotonic() + CANCEL_WAIT_S
                job.stage = "cancelling"
                return  # finished when the worker answers (pump)
            except WorkerError:
                self.kill()
        job.fail("cancelled", "cancelled")

    def run_blocking(self, python: str, audio: str, output_dir: str, options: dict, timeout_s: float,
                     on_progress=None) -> JobState:
        """The same job, waited for (background mode and scripts)."""
        job = self.begin(python, audio, output_dir, options, timeout_s)
        while not job.finished:
            time.sleep(0.02)
            self.pump(job)
            if on_progress is not None:
                on_progress(job)
        return job


_SESSION: WorkerSession | None = None


def session() -> WorkerSession:
    """The add-on's shared worker session (created on first use)."""
    global _SESSION
    if _SESSION is None:
        _SESSION = WorkerSession()
    return _SESSION


def shutdown_session() -> None:
    global _SESSION
    if _SESSION is not None:
        _SESSION.stop()
    _SESSION = None
