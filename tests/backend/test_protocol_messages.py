"""The typed worker protocol and generation summary: exact wire shapes, round trips, emit-time validation."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from backend.app.worker import EventWriter
from backend.ipc.protocol import (EVENT_TYPES, EVENTS, ByeEvent, CancelRequest, DoneEvent, ErrorEvent, GenerateRequest,
                                  InvalidMessage, PingRequest, PongEvent, ProgressEvent, ProtocolError, ReadyEvent,
                                  ShutdownRequest, WarningEvent, parse_event, parse_request)
from backend.summary import GenerationSummary, SummaryError, TakeFiles

SUMMARY = GenerationSummary(
    orator_version="0.1.0", audio="/a/b.wav", output_dir="/o", seconds=9.6551, frames=290, fps=30,
    engine="builtin", face_engine="builtin", seed=0, emotion="neutral", intensity=0.5, hand_mean="orator-stand-in",
    phone_source="recognized", phone_count=94, phone_spans=((0.0, 9.66, "phone recognition"),),
    takes=(TakeFiles(1, "/o/take_1/motion.npz", "/o/take_1/face_arkit.csv", None, "/o/take_1/motion.bvh"),),
    warnings=("w1",), options={"engine": "builtin", "takes": 1}, elapsed_s=1.5)

# The lines as the dict-based protocol wrote them before the typed messages: the wire must not change.
WIRE = [
    (ReadyEvent("0.1.0", 1, 42), '{"event":"ready","version":"0.1.0","protocol":1,"pid":42}'),
    (ProgressEvent("j", 0.123456, "prosody"), '{"event":"progress","id":"j","fraction":0.1235,"stage":"prosody"}'),
    (WarningEvent("j", "loud"), '{"event":"warning","id":"j","message":"loud"}'),
    (ErrorEvent(None, "protocol", "not JSON"), '{"event":"error","id":null,"kind":"protocol","message":"not JSON"}'),
    (ErrorEvent("j", "internal", "boom", "/l.log"),
     '{"event":"error","id":"j","kind":"internal","message":"boom","log":"/l.log"}'),
    (PongEvent(None), '{"event":"pong","id":null}'),
    (ByeEvent(), '{"event":"bye"}'),
    (GenerateRequest("j", "/a.wav", "/o", {"seed": 1}),
     '{"type":"generate","id":"j","audio":"/a.wav","output_dir":"/o","options":{"seed":1}}'),
    (CancelRequest("j"), '{"type":"cancel","id":"j"}'),
    (PingRequest("p"), '{"type":"ping","id":"p"}'),
    (ShutdownRequest(), '{"type":"shutdown"}'),
]


@pytest.mark.parametrize("message,line", WIRE, ids=[type(m).__name__ + str(i) for i, (m, _) in enumerate(WIRE)])
def test_each_message_has_its_documented_line_and_parses_back(message, line):
    assert message.line() == line + "\n"
    if message.TAG == "event":
        assert parse_event(line) == message
    else:
        assert parse_request(line) == message


def test_done_carries_the_summary_exactly_as_summary_json_has_it():
    done = DoneEvent("j", SUMMARY)
    obj = json.loads(done.line())
    assert list(obj) == ["event", "id", "result"]
    assert obj["result"] == json.loads(SUMMARY.dumps())
    assert list(obj["result"]) == ["orator_version", "audio", "output_dir", "seconds", "frames", "fps", "engine",
                                   "face_engine", "seed", "emotion", "intensity", "hand_mean", "phone_source",
                                   "phone_count", "phone_spans", "takes", "warnings", "options", "elapsed_s"]
    assert list(obj["result"]["takes"][0]) == ["take", "motion", "face_csv", "bvh"]  # unset face_format_csv left out
    assert parse_event(done.line()) == done


def test_a_raw_summary_keeps_its_own_keys_in_order():
    raw = {"orator_version": "0.1.0", "audio": "/a.wav", "output_dir": "/o", "seconds": 2.0, "frames": 60, "fps": 30,
           "engine": "emage", "raw": True, "checkpoint": "/w", "weights": {"main": "/w/m.bin", "face": "/w/f.bin"},
           "takes": [{"take": 1, "motion": "/o/motion.npz"}], "warnings": [], "elapsed_s": 0.5}
    summary = GenerationSummary.from_json(raw)
    assert summary.to_json() == raw and list(summary.to_json()) == list(raw)
    assert summary.files() == ("/o/motion.npz",)


@pytest.mark.parametrize("make", [
    lambda: ProgressEvent("j", 1.5, "x"),                       # fraction outside 0..1
    lambda: ProgressEvent("j", float("nan"), "x"),
    lambda: ProgressEvent("j", True, "x"),
    lambda: ErrorEvent("j", "oops", "m"),                        # unknown kind
    lambda: ErrorEvent("j", "user", "m", "/log"),                # a log only for internal errors
    lambda: ErrorEvent("j", "user", None),
    lambda: DoneEvent("j", SUMMARY.to_json()),                   # a dict where the summary goes
    lambda: ReadyEvent("0.1.0", "1", 3),
    lambda: WarningEvent("j\n", "m"),                            # an id that is not printable
    lambda: GenerateRequest("j", "/a", "/o", options=[1]),
], ids=range(10))
def test_an_invalid_message_fails_where_it_is_made(make):
    with pytest.raises(InvalidMessage):
        make()


def test_progress_rounding_noise_at_the_ends_is_not_an_error():
    # JobControl.sub ranges multiply out to 1.0000000000000002 at the end of a stage
    assert ProgressEvent("j", 0.6 + (0.95 - 0.6) * 1.0 + 0.05 + 1e-15, "done").fraction == 1.0
    assert ProgressEvent("j", -1e-12, "start").fraction == 0.0


def test_the_worker_emits_only_protocol_events():
    out = io.StringIO()
    emit = EventWriter(out)
    emit(PongEvent("p"))
    for wrong in ({"event": "pong", "id": "p"}, PingRequest("p"), "pong"):
        with pytest.raises(InvalidMessage):
            emit(wrong)
    assert out.getvalue() == '{"event":"pong","id":"p"}\n'


@pytest.mark.parametrize("line", [
    "not json", "[]", '{"event": "explode"}', '{"event": "progress", "id": "j", "fraction": 3, "stage": "x"}',
    '{"event": "done", "id": "j", "result": {"audio": 1}}', '{"event": "error", "id": "j", "kind": "nope", "message": ""}',
], ids=range(6))
def test_an_event_line_from_the_other_side_that_does_not_fit_is_a_protocol_error(line):
    with pytest.raises(ProtocolError):
        parse_event(line)


def test_the_vocabulary_is_complete():
    assert tuple(EVENTS) == EVENT_TYPES
    assert {cls.NAME for cls in EVENTS.values()} == set(EVENT_TYPES)


@pytest.mark.parametrize("change", [
    {"frames": "290"}, {"takes": [{"take": 1}]}, {"warnings": "w"}, {"seconds": None}, {"phone_spans": [[0, 1]]},
    {"seed": True},
], ids=range(6))
def test_a_summary_of_the_wrong_shape_is_refused_by_name(change):
    obj = {**SUMMARY.to_json(), **change}
    with pytest.raises(SummaryError):
        GenerationSummary.from_json(obj)


def test_summary_round_trips_through_its_file(tmp_path):
    (tmp_path / "summary.json").write_text(SUMMARY.dumps(), encoding="utf-8")
    assert GenerationSummary.read(tmp_path) == SUMMARY
    assert SUMMARY.files() == ("/o/take_1/motion.npz", "/o/take_1/face_arkit.csv", "/o/take_1/motion.bvh")


def test_a_job_whose_event_breaks_the_vocabulary_fails_as_an_internal_error(monkeypatch, tmp_path):
    # No real engine emits a bad event, so one is made: a summary whose warning is not text. The job
    # process must answer for the job (internal error + crash log), not lose its job thread and hang.
    from dataclasses import replace

    import backend.generation.pipeline as pipeline
    from backend.app.worker import Worker

    monkeypatch.setattr(pipeline, "run_generate", lambda *args, **kwargs: replace(SUMMARY, warnings=(5,)))
    monkeypatch.setenv("ORATOR_LOG_DIR", str(tmp_path))
    out = io.StringIO()
    worker = Worker(EventWriter(out))
    worker.thread.start()
    worker.submit(GenerateRequest("j", str(tmp_path / "a.wav"), str(tmp_path / "o")))
    worker.jobs.put(None)
    worker.thread.join(30)
    events = [parse_event(line) for line in out.getvalue().splitlines()]
    assert len(events) == 1 and isinstance(events[0], ErrorEvent), events
    assert events[0].kind == "internal" and "WarningEvent.message" in events[0].message
    assert events[0].log and Path(events[0].log).parent == tmp_path


def test_the_batch_report_keeps_its_json_shape():
    from backend.app.batch import BatchReport
    from backend.app.batch_file import FileRecord

    failure = FileRecord("/in/b.wav", "/out/b", "failed", error="cannot read b.wav as audio", worker="h:1", attempts=2)
    report = BatchReport("/in", "/out", 2, 1, 0, 0, 1, (failure,), "/out/manifest.csv", 4.7)
    obj = json.loads(json.dumps(report.to_json()))
    assert list(obj) == ["input_dir", "output_dir", "files", "done", "skipped", "redone", "failed", "failures",
                         "manifest", "elapsed_s"]
    assert obj["failures"] == [{"audio": "/in/b.wav", "output": "/out/b", "status": "failed",
                                "error": "cannot read b.wav as audio", "worker": "h:1", "attempts": 2}]
    assert BatchReport.from_json(obj) == report
