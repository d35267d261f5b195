"""Hostile request lines: each is a `protocol` or `user` error, and the worker keeps serving (issue 19, item 3)."""
from __future__ import annotations

import json

import pytest

from backend.ipc.client import WorkerClient
from backend.errors import UserError
from backend.ipc.protocol import (MAX_LINE_BYTES, ErrorEvent, PingRequest, PongEvent, ProtocolError, check_option_types,
                                  parse_request)

HOSTILE_LINES = [
    b"[" * 2000 + b"]" * 2000,                                      # RecursionError in json
    b'{"type":"ping","id":' + b"9" * 5000 + b"}",                     # int conversion limit
    b'{"type":"ping","id":NaN}',
    b'{"type":"cancel","id":-Infinity}',
    b'{"type":"ping","id":true}',
    b'{"type":"ping","id":"' + b"x" * 5000 + b'"}',
    b'{"type":"generate","id":"a","audio":"a.wav","output_dir":"o\\u0000x"}',
    b'{"type":"generate","id":"a","audio":5,"output_dir":"o"}',
    b'{"type":"generate","id":"a","audio":"a.wav","output_dir":"o","options":[1]}',
    b"\xff\xfe not utf-8",
    b'{"type": "ping", "id": "x"',
    b"null",
    b'"just a string"',
    b'{"type":["ping"]}',
    b'{"a":' * 50 + b"1" + b"}" * 50,
]


@pytest.mark.parametrize("line", HOSTILE_LINES, ids=range(len(HOSTILE_LINES)))
def test_hostile_lines_are_protocol_errors(line):
    with pytest.raises(ProtocolError) as info:
        parse_request(line)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_an_over_long_line_is_refused_before_parsing():
    with pytest.raises(ProtocolError, match="longer than"):
        parse_request(b" " * (MAX_LINE_BYTES + 1))


BAD_OPTIONS = [
    ({"takes": "3"}, "takes"), ({"takes": True}, "takes"), ({"takes": 2.0}, "takes"),
    ({"seed": 1.5}, "seed"), ({"transcript": 5}, "transcript"), ({"intensity": "0.5"}, "intensity"),
    ({"intensity": float("nan")}, "intensity"), ({"intensity": float("inf")}, "intensity"),
    ({"bvh": "no"}, "bvh"), ({"bvh": 0}, "bvh"), ({"speaker": "1"}, "speaker"),
    ({"prompts": "p\x00.npz"}, "prompts"), ({"emotion": None}, "emotion"), ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize("options,name", BAD_OPTIONS, ids=[str(o) for o, _ in BAD_OPTIONS])
def test_option_values_of_the_wrong_type_are_user_errors(options, name):
    with pytest.raises(UserError, match=name):
        check_option_types(options)


def test_good_options_pass_and_paths_become_absolute(tmp_path, monkeypatch):
    check_option_types({"takes": 3, "seed": 7, "intensity": 1, "bvh": False, "speaker": None, "transcript": "hi"})
    monkeypatch.setenv("HOME", str(tmp_path))
    req = parse_request(json.dumps({"type": "generate", "id": 3, "audio": "a.wav", "output_dir": "~/x"}))
    assert req.output_dir == str(tmp_path / "x") and req.audio.startswith("/") and req.id == "3"


def test_the_worker_survives_every_hostile_line(tmp_path):
    client = WorkerClient()
    client.start(timeout=60)
    try:
        for line in HOSTILE_LINES:
            client.proc.stdin.write(line.decode("utf-8", "replace").replace("\n", " ") + "\n")
        client.proc.stdin.write("x" * (MAX_LINE_BYTES + 10) + "\n")
        client.proc.stdin.flush()
        for n, (options, name) in enumerate(BAD_OPTIONS):  # raw lines: NaN/Infinity as a careless sender writes them
            client.proc.stdin.write(json.dumps({"type": "generate", "id": f"bad-{n}", "audio": str(tmp_path / "a.wav"),
                                                "output_dir": str(tmp_path / "o"), "options": options}) + "\n")
        client.proc.stdin.flush()
        client.send(PingRequest("alive"))
        seen = []
        client.wait_for(lambda e: seen.append(e) or isinstance(e, PongEvent), 20)
        errors = [e for e in seen if isinstance(e, ErrorEvent)]
        protocol = [e for e in errors if e.kind == "protocol"]
        user = {e.id: e for e in errors if e.kind == "user"}
        assert len(protocol) == len(HOSTILE_LINES) + 1, "\n".join(e.message[:80] for e in protocol)
        assert len(user) == len(BAD_OPTIONS)
        for n, (_, name) in enumerate(BAD_OPTIONS):
            assert name in user[f"bad-{n}"].message and "\n" not in user[f"bad-{n}"].message
        assert client.alive()
    finally:
        client.stop()
