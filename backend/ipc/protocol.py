"""The worker protocol: one JSON object per line, requests on the worker's stdin, events on its stdout.

Every message is one frozen dataclass below, built and checked in one place: `to_json()` gives the
object that goes on the wire, `parse()` reads one back (ProtocolError when it does not fit). A message
this side builds with a wrong field (a fraction of 2, an unknown error kind, a dict for a summary) raises
InvalidMessage where it is made, so a programming error fails at emit and never reaches the other side.

Requests (key "type")
  GenerateRequest  {"type": "generate", "id": ID, "audio": PATH, "output_dir": PATH, "options": {GenerateOptions}}
  CancelRequest    {"type": "cancel", "id": ID}       cancels that job (queued or running) within 0.5 s
  PingRequest      {"type": "ping", "id": ID}         answered by "pong" (id optional)
  ShutdownRequest  {"type": "shutdown"}               cancels what runs, answers "bye" and exits
Events (key "event")
  ReadyEvent       {"event": "ready", "version": V, "protocol": N, "pid": P}        once, at start
  ProgressEvent    {"event": "progress", "id": ID, "fraction": 0..1, "stage": NAME}  fraction rounded to 4 places
  WarningEvent     {"event": "warning", "id": ID, "message": TEXT}
  ErrorEvent       {"event": "error", "id": ID|null, "kind": "user"|"internal"|"cancelled"|"protocol",
                    "message": TEXT, "log": PATH (internal only)}                    id null: not about one job
  DoneEvent        {"event": "done", "id": ID, "result": SUMMARY}     SUMMARY: backend/summary.py, as `generate --json`
  PongEvent        {"event": "pong", "id": ID}
  ByeEvent         {"event": "bye"}
Both sides import this module, so the message shapes live here only. Standard library only (the worker's
front process and Blender import it without numpy).

Every request line is parsed defensively: at most MAX_LINE_BYTES, UTF-8, JSON (nesting
at most MAX_DEPTH, integers of at most MAX_INT_DIGITS digits), ids up to MAX_ID_CHARS, paths without
NUL (made absolute, `~` expanded, against the worker's folder). Anything else is a `protocol` error;
option values of the wrong JSON type are a `user` error of that job (check_option_types).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, fields
from typing import ClassVar, Union

from ..summary import GenerationSummary, SummaryError

PROTOCOL_VERSION = 1
REQUEST_TYPES = ("generate", "cancel", "ping", "shutdown")
EVENT_TYPES = ("ready", "progress", "warning", "error", "done", "pong", "bye")
ERROR_KINDS = ("user", "internal", "cancelled", "protocol")
MAX_LINE_BYTES = 4 << 20   # a 4 MiB request: a transcript of hours, far below memory trouble
MAX_DEPTH = 8              # requests are two levels deep; 2,000 nested '[' hit Python's recursion limit
MAX_INT_DIGITS = 20        # 5,000 digits hit int()'s conversion limit (ValueError)
MAX_ID_CHARS = 200


class ProtocolError(ValueError):
    """A line from the other side that is not valid JSON or not a known message."""


class InvalidMessage(TypeError):
    """A message this side built against the vocabulary: a programming error, raised where it is made."""


def encode(message: dict) -> str:
    """One message object → one line (no NaN, no embedded newlines)."""
    return json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n"


def _check(message, name: str, ok: bool, wanted: str) -> None:
    if not ok:
        raise InvalidMessage(f"{type(message).__name__}.{name} must be {wanted}, got {getattr(message, name)!r}"[:300])


def _is_text(value) -> bool:
    return isinstance(value, str)


def _is_id(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ID_CHARS and value.isprintable()


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Message:
    """Shared behaviour of requests and events: the JSON object, the line, field checks at construction."""

    TAG: ClassVar[str]    # "type" for requests, "event" for events
    NAME: ClassVar[str]   # the value of TAG

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InvalidMessage for a field outside the vocabulary (subclasses check their fields)."""

    def to_json(self) -> dict:
        out = {self.TAG: self.NAME}
        for f in fields(self):
            out[f.name] = getattr(self, f.name)
        return out

    def line(self) -> str:
        return encode(self.to_json())


# requests ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GenerateRequest(Message):
    TAG: ClassVar[str] = "type"
    NAME: ClassVar[str] = "generate"
    id: str
    audio: str
    output_dir: str
    options: dict = field(default_factory=dict)

    def validate(self) -> None:
        _check(self, "id", _is_id(self.id), "a printable id")
        _check(self, "audio", _is_text(self.audio), "a path string")
        _check(self, "output_dir", _is_text(self.output_dir), "a path string")
        _check(self, "options", isinstance(self.options, dict), "a dict of GenerateOptions fields")


@dataclass(frozen=True)
class CancelRequest(Message):
    TAG: ClassVar[str] = "type"
    NAME: ClassVar[str] = "cancel"
    id: str

    def validate(self) -> None:
        _check(self, "id", _is_id(self.id), "a printable id")


@dataclass(frozen=True)
class PingRequest(Message):
    TAG: ClassVar[str] = "type"
    NAME: ClassVar[str] = "ping"
    id: str | None = None

    def validate(self) -> None:
        _check(self, "id", self.id is None or _is_id(self.id), "None or a printable id")


@dataclass(frozen=True)
class ShutdownRequest(Message):
    TAG: ClassVar[str] = "type"
    NAME: ClassVar[str] = "shutdown"
    id: ClassVar[None] = None


Request = Union[GenerateRequest, CancelRequest, PingRequest, ShutdownRequest]


# events ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReadyEvent(Message):
    TAG: ClassVar[str] = "event"
    NAME: ClassVar[str] = "ready"
    id: ClassVar[None] = None
    version: str
    protocol: int
    pid: int

    def validate(self) -> None:
        _check(self, "version", _is_text(self.version), "a version string")
        _check(self, "protocol", _is_int(self.protocol), "an integer")
        _check(self, "pid", _is_int(self.pid), "an integer")

    @classmethod
    def parse(cls, obj: dict) -> "ReadyEvent":
        return cls(obj.get("version"), obj.get("protocol"), obj.get("pid"))


@dataclass(frozen=True)
class ProgressEvent(Message):
    TAG: ClassVar[str] = "event"
    NAME: ClassVar[str] = "progress"
    id: str
    fraction: float   # 0..1, rounded to 4 places here (ten events a second need no more)
    stage: str

    def validate(self) -> None:
        _check(self, "id", _is_id(self.id), "a printable id")
        ok = isinstance(self.fraction, (int, float)) and not isinstance(self.fraction, bool) \
            and math.isfinite(self.fraction) and 0.0 <= round(self.fraction, 4) <= 1.0  # 1 + 2e-16 from sub ranges is 1
        _check(self, "fraction", ok, "a number in 0..1")
        object.__setattr__(self, "fraction", round(float(self.fraction), 4))
        _check(self, "stage", _is_text(self.stage), "a stage name")

    @classmethod
    def parse(cls, obj: dict) -> "ProgressEvent":
        return cls(obj.get("id"), obj.get("fraction"), obj.get("stage"))


@dataclass(frozen=True)
class WarningEvent(Message):
    TAG: ClassVar[str] = "event"
    NAME: ClassVar[str] = "warning"
    id: str
    message: str

    def validate(self) -> None:
        _check(self, "id", _is_id(self.id), "a printable id")
        _check(self, "message", _is_text(self.message), "a text")

    @classmethod
    def parse(cls, obj: dict) -> "WarningEvent":
        return cls(obj.get("id"), obj.get("message"))


@dataclass(frozen=True)
class ErrorEvent(Message):
    TAG: ClassVar[str] = "event"
    NAME: ClassVar[str] = "error"
    id: str | None    # None: about no one job (a bad line, the job process not starting)
    kind: str         # ERROR_KINDS
    message: str      # one line for people
    log: str | None = None  # internal errors: the crash log with the traceback

    def validate(self) -> None:
        _check(self, "id", self.id is None or _is_id(self.id), "None or a printable id")
        _check(self, "kind", self.kind in ERROR_KINDS, f"one of {', '.join(ERROR_KINDS)}")
        _check(self, "message", _is_text(self.message), "a text")
        _check(self, "log", self.log is None or (_is_text(self.log) and self.kind == "internal"),
               "None, or a path for an internal error")

    def to_json(self) -> dict:
        out = {"event": "error", "id": self.id, "kind": self.kind, "message": self.message}
        if self.log:
            out["log"] = self.log
        return out

    @classmethod
    def parse(cls, obj: dict) -> "ErrorEvent":
        return cls(obj.get("id"), obj.get("kind"), obj.get("message"), obj.get("log"))


@dataclass(frozen=True)
class DoneEvent(Message):
    TAG: ClassVar[str] = "event"
    NAME: ClassVar[str] = "done"
    id: str
    result: GenerationSummary

    def validate(self) -> None:
        _check(self, "id", _is_id(self.id), "a printable id")
        _check(self, "result", isinstance(self.result, GenerationSummary), "a GenerationSummary")

    def to_json(self) -> dict:
        return {"event": "done", "id": self.id, "result": self.result.to_json()}

    @classmethod
    def parse(cls, obj: dict) -> "DoneEvent":
        try:
            result = GenerationSummary.from_json(obj.get("result"))
        except SummaryError as exc:
            raise ProtocolError(f"'done' event: {exc}") from None
        return cls(obj.get("id"), result)


@dataclass(frozen=True)
class PongEvent(Message):
    TAG: ClassVar[str] = "event"
    NAME: ClassVar[str] = "pong"
    id: str | None = None

    def validate(self) -> None:
        _check(self, "id", self.id is None or _is_id(self.id), "None or a printable id")

    @classmethod
    def parse(cls, obj: dict) -> "PongEvent":
        return cls(obj.get("id"))


@dataclass(frozen=True)
class ByeEvent(Message):
    TAG: ClassVar[str] = "event"
    NAME: ClassVar[str] = "bye"
    id: ClassVar[None] = None

    @classmethod
    def parse(cls, obj: dict) -> "ByeEvent":
        return cls()


Event = Union[ReadyEvent, ProgressEvent, WarningEvent, ErrorEvent, DoneEvent, PongEvent, ByeEvent]
EVENTS: dict[str, type] = {cls.NAME: cls for cls in (ReadyEvent, ProgressEvent, WarningEvent, ErrorEvent,
                                                      DoneEvent, PongEvent, ByeEvent)}
assert tuple(EVENTS) == EVENT_TYPES


def parse_event(line: str | bytes | dict) -> Event:
    """One event line (or its decoded object) from the worker → its Event; ProtocolError when it is none."""
    obj = line
    if not isinstance(line, dict):
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError(f"event line is not JSON: {exc}"[:300]) from None
    if not isinstance(obj, dict):
        raise ProtocolError("an event must be a JSON object")
    cls = EVENTS.get(obj.get("event"))
    if cls is None:
        raise ProtocolError(f"unknown event {str(obj.get('event'))[:40]!r}")
    try:
        return cls.parse(obj)
    except InvalidMessage as exc:  # from the other side a bad field is its error, not ours
        raise ProtocolError(str(exc)) from None


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
    """One request line → its Request (None for a blank line); ProtocolError says what is wrong."""
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
        return GenerateRequest(job_id, audio, output_dir, options)
    if kind == "cancel":
        return CancelRequest(job_id)
    if kind == "ping":
        return PingRequest(job_id)
    return ShutdownRequest()


def check_option_types(options: dict) -> None:
    """Each option has the JSON type its GenerateOptions field declares; raise UserError naming the first bad one.

    Values are checked here, not coerced: "3" for takes, 1.5 for seed, true for takes, "no" for bvh are
    refused instead of half-working. Ranges and choices are GenerateOptions.validated()'s job.
    """
    from dataclasses import fields

    from ..errors import UserError
    from ..options import GenerateOptions

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
