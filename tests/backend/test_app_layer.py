"""The IPC pair stays light enough for the worker's front process and for Blender (that nothing imports
backend/app is a rule of tests/test_layers.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

def test_the_protocol_and_the_worker_front_load_no_numpy():
    code = ("import sys; import backend.ipc.client, backend.ipc.protocol, backend.summary, backend.app.worker; "
            "print('numpy' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
