"""The worker protocol: one JSON object per line on stdin (requests) and stdout (events).

Requests
  {"type": "generate", "id": ID, "audio": PATH, "output_dir": PATH, "options": {GenerateOptions fields}}
  {"type": "cancel", "id": ID}          cancels that job (queued or running) within 0.5 s
  {"type": "ping", "id": ID}            answered by "pong"
  {"type": "shutdown"}                  cancels what runs, answers "bye" and exits
Events
  {"event": "ready", "version": V, "protocol": N, "pid": P}                  once, at start
  {"event": "progress", "id": ID, "fraction": 0..1, "stage": NAME}
  {"event": "warning", "id": ID, "message": TEXT}
  {"event": "error", "id": ID|null, "kind": "user"|"internal"|"cancelled"|"protocol", "message": TEXT,
   "log": PATH (internal only)}
  {"event": "done", "id": ID, "result": SUMMARY}                              SUMMARY as `generate --json`
  {"event": "pong", "id": ID}
  {"event": "bye"}
Both sides import this module, so the message shapes live here only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

PROTOCOL_VERSION = 1
REQUEST_TYPES = ("generate", "cancel", "ping", "shutdown")
ERROR_KINDS = ("user", "internal", "cancelled", "protocol")


class ProtocolError(ValueError):
    """A request line that is not valid JSON or not a known request."""


@dataclass(frozen=True)
class Request:
    type: str
    id: str | None = None
    audio: str | None = None
    output_dir: str | None = None
    options: dict = field(default_factory=dict)


def encode(message: dict) -> str:
    """One message → one line (no NaN, no embedded newlines)."""
    return json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n"


def parse_request(line: str) -> Request:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("a request must be a JSON object")
    kind = obj.get("type")
    if kind not in REQUEST_TYPES:
        raise ProtocolError(f"unknown request type {kind!r}; expected one of {', '.join(REQUEST_TYPES)}")
    job_id = obj.get("id")
    if job_id is not None and not isinstance(job_id, (str, int)):
        raise ProtocolError("id must be a string or an integer")
    job_id = None if job_id is None else str(job_id)
    if kind in ("cancel", "generate") and job_id is None:
        raise ProtocolError(f"'{kind}' needs an id")
    if kind == "generate":
        for key in ("audio", "output_dir"):
            if not isinstance(obj.get(key), str) or not obj[key]:
                raise ProtocolError(f"'generate' needs '{key}' as a path string")
        options = obj.get("options", {})
        if not isinstance(options, dict):
            raise ProtocolError("'options' must be an object")
        return Request(kind, job_id, obj["audio"], obj["output_dir"], options)
    return Request(kind, job_id)


def generate_request(job_id: str, audio: str, output_dir: str, options: dict | None = None) -> dict:
    return {"type": "generate", "id": job_id, "audio": audio, "output_dir": output_dir, "options": options or {}}


def progress_event(job_id: str, fraction: float, stage: str) -> dict:
    return {"event": "progress", "id": job_id, "fraction": round(float(fraction), 4), "stage": stage}


def error_event(job_id: str | None, kind: str, message: str, log: str | None = None) -> dict:
    event = {"event": "error", "id": job_id, "kind": kind, "message": message}
    if log:
        event["log"] = log
    return event
