"""The worker protocol over real pipes: ready, progress, done, cancel within 0.5 s, bad requests."""
from __future__ import annotations


import pytest

from backend.ipc.client import WorkerClient, WorkerError
from backend.ipc.protocol import (ByeEvent, CancelRequest, DoneEvent, ErrorEvent, PingRequest, PongEvent,
                                  ProgressEvent, ReadyEvent, ShutdownRequest)
from backend.summary import GenerationSummary
from backend.formats.motion_npz import read_motion_npz

from .audio_fixtures import speechlike, write_wav


@pytest.fixture(scope="module")
def worker():
    client = WorkerClient()
    ready = client.start(timeout=60)
    assert isinstance(ready, ReadyEvent) and ready.protocol == 1
    yield client
    client.stop()
    assert client.proc is None


def events_until(client, job_id, timeout=120):
    seen = []
    client.wait_for(lambda e: seen.append(e) or (e.id == job_id and isinstance(e, (DoneEvent, ErrorEvent))),
                    timeout)
    return seen


def test_ping(worker):
    worker.send(PingRequest("p1"))
    assert worker.wait_for(lambda e: isinstance(e, PongEvent), 10).id == "p1"


def test_generate_reports_progress_then_done(worker, lj_clip, tmp_path):
    job = worker.submit(str(lj_clip), str(tmp_path), {"seed": 1, "emotion": "happy", "intensity": 0.8})
    events = [e for e in events_until(worker, job) if e.id == job]
    progress = [e for e in events if isinstance(e, ProgressEvent)]
    assert len(progress) >= 3
    fractions = [e.fraction for e in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {e.stage for e in progress} >= {"analysis"} or any("analys" in e.stage for e in progress)
    done = events[-1]
    assert isinstance(done, DoneEvent) and isinstance(done.result, GenerationSummary)
    motion = read_motion_npz(done.result.takes[0].motion)
    assert motion.n_frames == done.result.frames
    # the event carries exactly what summary.json holds
    assert done.result == GenerationSummary.read(tmp_path)


def test_bad_requests_are_reported_and_the_worker_keeps_serving(worker, tmp_path):
    def error(timeout, job=None):
        return worker.wait_for(lambda e: isinstance(e, ErrorEvent) and (job is None or e.id == job), timeout)

    worker.send_line("this is not json")
    assert error(10).kind == "protocol"
    worker.send_line('{"type": "explode"}')
    assert "unknown request type" in error(10).message
    worker.send_line('{"type": "generate", "id": "x"}')
    assert error(10).kind == "protocol"
    job = worker.submit(str(tmp_path / "missing.wav"), str(tmp_path / "o"))
    err = error(30, job)
    assert err.kind == "user" and "\n" not in err.message
    job = worker.submit(str(tmp_path / "missing.wav"), str(tmp_path / "o"), {"colour": "red"})
    err = error(30, job)
    assert err.kind == "user" and "colour" in err.message
    worker.send(CancelRequest("never-submitted"))
    assert error(10).kind == "protocol"
    worker.send(PingRequest("still-alive"))
    assert worker.wait_for(lambda e: isinstance(e, PongEvent), 10).id == "still-alive"


def test_cancel_is_honoured_and_the_worker_keeps_serving(worker, tmp_path):
    audio = write_wav(tmp_path / "long.wav", speechlike(600.0), 16000)
    job = worker.submit(str(audio), str(tmp_path / "out"), {"language": "en"})
    worker.wait_for(lambda e: e.id == job and isinstance(e, ProgressEvent) and e.fraction > 0.06, 60)
    worker.cancel(job)  # how fast it lands is measured by benchmarks/bench_cancel.py
    err = worker.wait_for(lambda e: e.id == job and isinstance(e, (ErrorEvent, DoneEvent)), 10)
    assert isinstance(err, ErrorEvent) and err.kind == "cancelled"
    assert not (tmp_path / "out" / "summary.json").exists()
    # the worker keeps serving, engines still loaded
    worker.send(PingRequest("after-cancel"))
    assert worker.wait_for(lambda e: isinstance(e, PongEvent), 10).id == "after-cancel"


def test_stdout_carries_only_protocol_lines(worker):
    assert not [line for line in worker._stderr_tail if line.startswith("(stdout)")]


def test_shutdown_says_bye_and_exits(tmp_path):
    client = WorkerClient()
    client.start(timeout=60)
    client.send(ShutdownRequest())
    assert isinstance(client.wait_for(lambda e: isinstance(e, ByeEvent), 10), ByeEvent)
    client.proc.wait(10)
    assert client.proc.returncode == 0


def test_client_reports_a_dead_worker(tmp_path):
    client = WorkerClient()
    client.start(timeout=60)
    client.kill()
    with pytest.raises(WorkerError):
        client.submit("a.wav", str(tmp_path))
