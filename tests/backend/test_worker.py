"""The worker protocol over real pipes: ready, progress, done, cancel within 0.5 s, bad requests."""
from __future__ import annotations


import pytest

from backend.client import WorkerClient, WorkerError
from backend.formats.motion_npz import read_motion_npz

from .audio_fixtures import speechlike, write_wav


@pytest.fixture(scope="module")
def worker():
    client = WorkerClient()
    ready = client.start(timeout=60)
    assert ready["event"] == "ready" and ready["protocol"] == 1
    yield client
    client.stop()
    assert client.proc is None


def events_until(client, job_id, timeout=120):
    seen = []
    client.wait_for(lambda e: seen.append(e) or (e.get("id") == job_id and e["event"] in ("done", "error")),
                    timeout)
    return seen


def test_ping(worker):
    worker.send({"type": "ping", "id": "p1"})
    assert worker.wait_for(lambda e: e["event"] == "pong", 10)["id"] == "p1"


def test_generate_reports_progress_then_done(worker, lj_clip, tmp_path):
    job = worker.submit(str(lj_clip), str(tmp_path), {"seed": 1, "emotion": "happy", "intensity": 0.8})
    events = [e for e in events_until(worker, job) if e.get("id") == job]
    progress = [e for e in events if e["event"] == "progress"]
    assert len(progress) >= 3
    fractions = [e["fraction"] for e in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {e["stage"] for e in progress} >= {"analysis"} or any("analys" in e["stage"] for e in progress)
    done = events[-1]
    assert done["event"] == "done"
    motion = read_motion_npz(done["result"]["takes"][0]["motion"])
    assert motion.n_frames == done["result"]["frames"]


def test_bad_requests_are_reported_and_the_worker_keeps_serving(worker, tmp_path):
    worker.proc.stdin.write("this is not json\n")
    worker.proc.stdin.flush()
    assert worker.wait_for(lambda e: e["event"] == "error", 10)["kind"] == "protocol"
    worker.send({"type": "explode"})
    assert "unknown request type" in worker.wait_for(lambda e: e["event"] == "error", 10)["message"]
    worker.send({"type": "generate", "id": "x"})
    assert worker.wait_for(lambda e: e["event"] == "error", 10)["kind"] == "protocol"
    job = worker.submit(str(tmp_path / "missing.wav"), str(tmp_path / "o"))
    err = worker.wait_for(lambda e: e.get("id") == job and e["event"] == "error", 30)
    assert err["kind"] == "user" and "\n" not in err["message"]
    job = worker.submit(str(tmp_path / "missing.wav"), str(tmp_path / "o"), {"colour": "red"})
    err = worker.wait_for(lambda e: e.get("id") == job and e["event"] == "error", 30)
    assert err["kind"] == "user" and "colour" in err["message"]
    worker.send({"type": "cancel", "id": "never-submitted"})
    assert worker.wait_for(lambda e: e["event"] == "error", 10)["kind"] == "protocol"
    worker.send({"type": "ping", "id": "still-alive"})
    assert worker.wait_for(lambda e: e["event"] == "pong", 10)["id"] == "still-alive"


def test_cancel_is_honoured_and_the_worker_keeps_serving(worker, tmp_path):
    audio = write_wav(tmp_path / "long.wav", speechlike(600.0), 16000)
    job = worker.submit(str(audio), str(tmp_path / "out"), {"language": "en"})
    worker.wait_for(lambda e: e.get("id") == job and e["event"] == "progress" and e["fraction"] > 0.06, 60)
    worker.cancel(job)  # how fast it lands is measured by benchmarks/bench_cancel.py
    err = worker.wait_for(lambda e: e.get("id") == job and e["event"] in ("error", "done"), 10)
    assert err["event"] == "error" and err["kind"] == "cancelled"
    assert not (tmp_path / "out" / "summary.json").exists()
    # the worker keeps serving, engines still loaded
    worker.send({"type": "ping", "id": "after-cancel"})
    assert worker.wait_for(lambda e: e["event"] == "pong", 10)["id"] == "after-cancel"


def test_stdout_carries_only_protocol_lines(worker):
    assert not [line for line in worker._stderr_tail if line.startswith("(stdout)")]


def test_shutdown_says_bye_and_exits(tmp_path):
    client = WorkerClient()
    client.start(timeout=60)
    client.send({"type": "shutdown"})
    assert client.wait_for(lambda e: e["event"] == "bye", 10)
    client.proc.wait(10)
    assert client.proc.returncode == 0


def test_client_reports_a_dead_worker(tmp_path):
    client = WorkerClient()
    client.start(timeout=60)
    client.kill()
    with pytest.raises(WorkerError):
        client.submit("a.wav", str(tmp_path))
