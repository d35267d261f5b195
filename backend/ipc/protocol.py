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

Every line is parsed defensively: at most MAX_LINE_BYTES, UTF-8, JSON (nesting
at most MAX_DEPTH, integers of at most MAX_INT_DIGITS digits), ids up to MAX_ID_CHARS, paths without
NUL (made absolute, `~` expanded, against the worker's folder). Anything else is a `protocol` error;
option values of the wrong JSON type are a `user` error of that job (check_option_types).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field

PROTOCOL_VERSION = 1
REQUEST_TYPES = ("generate", "cancel", "ping", "shutdown")
ERROR_KINDS = ("user", "internal", "cancelled", "protocol")
MAX_LINE_BYTES = 4 << 20   # a 4 MiB request: a transcript of hours, far below memory trouble
MAX_DEPTH = 8              # requests are two levels deep; 2,000 nested '[' hit Python's recursion limit
MAX_INT_DIGITS = 20        # 5,000 digits hit int()'s conversion limit (ValueError)
MAX_ID_CHARS = 200


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


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ProtocolError(f"an integer of {len(text)} digits is out of range")
    return int(text)


def _nesting_depth(text: str) -> int:
    """Deepest [ / { nesting outside strings, counted before json.loads can recurse."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _path(value, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(f"'generate' needs '{key}' as a path string")
    if "\x00" in value:
        raise ProtocolError(f"'{key}' contains a NUL character; send the path as plain text")
    return os.path.abspath(os.path.expanduser(value))


def parse_request(line: str | bytes) -> Request | None:
    """One request line → Request (None for a blank line); ProtocolError says what is wrong."""
    if isinstance(line, bytes):
        if len(line) > MAX_LINE_BYTES:
            raise ProtocolError(f"request line longer than {MAX_LINE_BYTES} bytes")
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("a request line must be UTF-8 text") from None
    if not line.strip():
        return None
    if line.count("[") + line.count("{") > MAX_DEPTH and _nesting_depth(line) > MAX_DEPTH:
        raise ProtocolError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        obj = json.loads(line, parse_int=_parse_int)  # NaN/Infinity parse; options refuse them by name
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ProtocolError(f"not acceptable JSON: {exc}"[:300]) from None
    if not isinstance(obj, dict):
        raise ProtocolError("a request must be a JSON object")
    kind = obj.get("type")
    if kind not in REQUEST_TYPES:
        raise ProtocolError(f"unknown request type {str(kind)[:40]!r}; expected one of {', '.join(REQUEST_TYPES)}")
    job_id = obj.get("id")
    if job_id is not None and (isinstance(job_id, bool) or not isinstance(job_id, (str, int))):
        raise ProtocolError("id must be a string or an integer")
    job_id = None if job_id is None else str(job_id)
    if job_id is not None and (len(job_id) > MAX_ID_CHARS or not job_id.isprintable()):
        raise ProtocolError(f"id must be printable and at most {MAX_ID_CHARS} characters")
    if kind in ("cancel", "generate") and job_id is None:
        raise ProtocolError(f"'{kind}' needs an id")
    if kind == "generate":
        audio, output_dir = _path(obj.get("audio"), "audio"), _path(obj.get("output_dir"), "output_dir")
        options = obj.get("options", {})
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise ProtocolError("'options' must be an object")
        return Request(kind, job_id, audio, output_dir, options)
    return Request(kind, job_id)


def check_option_types(options: dict) -> None:
    """Each option has the JSON type its GenerateOptions field declares; raise UserError naming the first bad one.

    Values are checked here, not coerced: "3" for takes, 1.5 for seed, true for takes, "no" for bvh are
    refused instead of half-working. Ranges and choices are GenerateOptions.validated()'s job.
    """
    from dataclasses import fields

    from .errors import UserError
    from .options import GenerateOptions

    declared = {f.name: str(f.type) for f in fields(GenerateOptions)}
    unknown = sorted(set(options) - set(declared))
    if unknown:
        raise UserError(f"unknown option(s) {', '.join(map(str, unknown))[:200]}; "
                        f"known: {', '.join(sorted(declared))}")
    for name, value in options.items():
        kinds = [k.strip() for k in declared[name].split("|")]
        if value is None:
            if "None" in kinds:
                continue
            raise UserError(f"option '{name}' must not be null")
        base = kinds[0]
        if base == "bool":
            ok = isinstance(value, bool)
            wanted = "true or false"
        elif base == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
            wanted = "a whole number"
        elif base == "float":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            wanted = "a finite number"
        else:
            ok = isinstance(value, str) and "\x00" not in value
            wanted = "a text string" + (" (a path)" if name in PATH_OPTIONS else "")
        if not ok:
            raise UserError(f"option '{name}' must be {wanted}, got {json.dumps(value)[:60]}")


PATH_OPTIONS = ("arkit_to_flame", "face_style", "face_checkpoint", "prompts", "checkpoint")


def resolve_option_paths(options: dict) -> dict:
    """Path options made absolute with `~` expanded, so they mean the same in the job process."""
    return {k: (os.path.abspath(os.path.expanduser(v)) if k in PATH_OPTIONS and isinstance(v, str) and v else v)
            for k, v in options.items()}


def generate_request(job_id: str, audio: str, output_dir: str, options: dict | None = None) -> dict:
    return {"type": "generate", "id": job_id, "audio": audio, "output_dir": output_dir, "options": options or {}}


def progress_event(job_id: str, fraction: float, stage: str) -> dict:
    return {"event": "progress", "id": job_id, "fraction": round(float(fraction), 4), "stage": stage}


def error_event(job_id: str | None, kind: str, message: str, log: str | None = None) -> dict:
    event = {"event": "error", "id": job_id, "kind": kind, "message": message}
    if log:
        event["log"] = log
    return event
