"""No orphans: batch and worker processes die with their parent; SIGINT/SIGTERM are a prompt cancel (issue 19, item 4)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.ipc.client import WorkerClient

ROOT = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        kids = children_of(todo.pop())
        out |= kids
        todo += list(kids)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)}
        if not left:
            return set()
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


def wait_for_children(pid: int, n: int, timeout: float = 60) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = descendants(pid)
        if len(kids) >= n:
            return kids
        time.sleep(0.1)
    pytest.fail(f"process {pid} did not start {n} children")


@pytest.fixture
def batch_input(speech60, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(3):
        os.symlink(speech60, folder / f"s{n}.wav")
    return folder


@pytest.mark.slow  # a 2-worker batch started and killed three times (18 s)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_batch_leaves_no_process_behind(batch_input, tmp_path, sig):
    proc = subprocess.Popen([sys.executable, "-m", "backend", "batch", str(batch_input), "-o", str(tmp_path / "o"),
                             "--workers", "2", "--language", "other"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kids = wait_for_children(proc.pid, 2)
    time.sleep(1.0)  # the pool processes are importing / generating
    kids |= descendants(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)  # that it stops at all (a hang fails here); how fast is no test's business
    if sig != signal.SIGKILL:
        assert proc.returncode == 130 and err.strip().splitlines()[-1] == "cancelled", err
    assert wait_gone(kids, 5.0) == set()


def test_a_killed_worker_takes_its_job_process_and_decoder_along(speech60, tmp_path):
    client = WorkerClient()
    client.start(timeout=60)
    job = client.submit(str(speech60), str(tmp_path / "o"), {"language": "en"})
    client.wait_for(lambda e: e.id == job and getattr(e, "stage", None) == "recognising words", 90)
    kids = wait_for_children(client.proc.pid, 2)  # the job process and its forked decoder
    client.kill()
    assert wait_gone(kids, 5.0) == set()


def test_json_into_a_closed_pipe_is_not_an_error(tmp_path):
    import numpy as np
    import soundfile as sf
    t = np.arange(16000) / 16000
    sf.write(str(tmp_path / "a.wav"), (0.3 * np.sin(2 * np.pi * 140 * t)).astype(np.float32), 16000)
    proc = subprocess.run(f"{sys.executable} -m backend generate {tmp_path / 'a.wav'} -o {tmp_path / 'o'} --json "
                          "--language other | true", shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "BrokenPipe" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert (tmp_path / "o" / "summary.json").is_file()
