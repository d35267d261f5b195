"""Cancel and shutdown are honoured at every stage of a 60 s job, and pings answered throughout (issue 19,
item 1). How fast (the 0.5 s promise) is measured by benchmarks/bench_cancel.py, not asserted here.

The worker's front never runs a job, so pings are answered at once whatever the job process does;
a job that ignores a cancel for CANCEL_GRACE_S (pocketsphinx holding the GIL) is killed.
"""
from __future__ import annotations

import threading
import time

import pytest

from backend.ipc.client import WorkerClient
from backend.ipc.protocol import ByeEvent, DoneEvent, ErrorEvent, PingRequest, PongEvent, ProgressEvent, ShutdownRequest


@pytest.fixture(scope="module")
def worker():
    client = WorkerClient()
    client.start(timeout=60)
    yield client
    client.stop()


class Pinger:
    """Pings every 100 ms from a thread and records each round trip, tagged with the job's stage at send time."""

    def __init__(self, client: WorkerClient) -> None:
        self.client = client
        self.sent: dict[str, tuple[float, str]] = {}
        self.latencies: list[tuple[str, float]] = []
        self.stage = "queued"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.wait(0.1):
            n += 1
            self.sent[f"ping-{n}"] = (time.monotonic(), self.stage)
            self.client.send(PingRequest(f"ping-{n}"))

    def seen(self, event) -> None:
        if isinstance(event, PongEvent) and event.id in self.sent:
            sent, stage = self.sent.pop(event.id)
            self.latencies.append((stage, time.monotonic() - sent))
        elif isinstance(event, ProgressEvent):
            self.stage = event.stage


def run_until(client, pinger, predicate, timeout):
    def check(event):
        pinger.seen(event)
        return predicate(event)
    return client.wait_for(check, timeout)


@pytest.mark.slow  # six 60 s jobs, one to the end (11 s)
def test_pings_answered_at_every_stage_and_cancel(worker, speech60, tmp_path):
    pinger = Pinger(worker)
    pinger.thread.start()
    try:
        cancel_latency = {}
        # Cancel at the stages that used to stall (prosody = the CMN priming's end_utt, recognition),
        # one job each, then let one job run to the end while it is pinged.
        stages = [("loading audio", "en"), ("acoustic features", "en"), ("prosody", "en"),
                  ("recognising words", "en"), ("take 1: body", "other")]
        for n, (stage, language) in enumerate(stages):
            job = worker.submit(str(speech60), str(tmp_path / f"c{n}"), {"language": language})
            run_until(worker, pinger, lambda e: e.id == job and getattr(e, "stage", None) == stage, 90)
            sent = time.monotonic()
            worker.cancel(job)
            end = run_until(worker, pinger, lambda e: e.id == job and isinstance(e, (ErrorEvent, DoneEvent)), 10)
            cancel_latency[stage] = time.monotonic() - sent  # printed, not asserted
            assert isinstance(end, ErrorEvent) and end.kind == "cancelled", end
            assert not (tmp_path / f"c{n}" / "summary.json").exists()
        job = worker.submit(str(speech60), str(tmp_path / "full"), {"language": "other"})  # recognition was pinged above
        done = run_until(worker, pinger, lambda e: e.id == job and isinstance(e, (ErrorEvent, DoneEvent)), 300)
        assert isinstance(done, DoneEvent), done
    finally:
        pinger.stop.set()
        pinger.thread.join()
    slow = {stage: round(max(t for s, t in pinger.latencies if s == stage), 3)
            for stage in {s for s, _ in pinger.latencies}}
    print("cancel latency", {k: round(v, 3) for k, v in cancel_latency.items()}, "max pong by stage", slow)
    # the pinger ran through the jobs: the six jobs take ~3 s on an idle machine since word recognition
    # got faster, so the count of pings proves little; the stages they landed in do
    assert len(pinger.latencies) >= 10 and len(set(slow) - {"queued"}) >= 4, slow


def test_a_queued_job_is_cancelled_at_once(worker, speech60, tmp_path):
    first = worker.submit(str(speech60), str(tmp_path / "a"), {"language": "en"})
    second = worker.submit(str(speech60), str(tmp_path / "b"), {"language": "en"})
    worker.wait_for(lambda e: e.id == first and isinstance(e, ProgressEvent), 60)
    worker.cancel(second)
    event = worker.wait_for(lambda e: e.id == second, 5)
    assert isinstance(event, ErrorEvent) and event.kind == "cancelled"
    worker.cancel(first)
    assert worker.wait_for(lambda e: e.id == first and isinstance(e, ErrorEvent), 5).kind == "cancelled"


@pytest.mark.parametrize("how", ["shutdown", "eof"])
def test_shutdown_during_a_job_cancels_it_and_says_bye(speech60, tmp_path, how):
    client = WorkerClient()
    client.start(timeout=60)
    job = client.submit(str(speech60), str(tmp_path / "o"), {"language": "en"})
    client.wait_for(lambda e: e.id == job and getattr(e, "stage", None) == "prosody", 60)
    if how == "shutdown":
        client.send(ShutdownRequest())
    else:
        client.proc.stdin.close()
    seen = []
    client.wait_for(lambda e: seen.append(e) or isinstance(e, ByeEvent), 5)
    client.proc.wait(5)
    assert any(isinstance(e, ErrorEvent) and e.id == job and e.kind == "cancelled" for e in seen)
    assert client.proc.returncode == 0
