"""The add-on's worker session: ESC then delete never races a worker that recreates the job folder (issue 19)."""
from __future__ import annotations

import importlib
import shutil
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def worker_session_module():
    """addon/worker_session.py imported as the add-on package would (it uses relative imports, no bpy)."""
    for name, folder in (("orator_pkg", ROOT), ("orator_pkg.addon", ROOT / "addon")):
        if name not in sys.modules:
            pkg = types.ModuleType(name)
            pkg.__path__ = [str(folder)]
            sys.modules[name] = pkg
    return importlib.import_module("orator_pkg.addon.worker_session")


def test_cancel_then_delete_leaves_no_folder(speech60, tmp_path):
    ws = worker_session_module()
    session = ws.WorkerSession(cwd=ROOT)
    out = tmp_path / "job"
    try:
        job = session.begin(sys.executable, str(speech60), str(out), {"language": "other"}, 300)
        deadline = time.monotonic() + 90
        while job.fraction < 0.3 and time.monotonic() < deadline:  # well into the job
            time.sleep(0.02)
            session.pump(job)
        session.cancel(job)
        deadline = time.monotonic() + 30  # that it ends at all; how fast is benchmarks/bench_cancel.py's
        while not job.finished and time.monotonic() < deadline:
            time.sleep(0.02)
            session.pump(job)
        assert job.finished and job.error_kind == "cancelled"
        shutil.rmtree(out, ignore_errors=True)  # what finish_job does next
        time.sleep(1.0)
        assert not out.exists()
    finally:
        session.stop()
