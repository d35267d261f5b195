"""The generation summary: what one `generate` made, as summary.json, `generate --json` and the worker's
`done` event carry it. One frozen dataclass, so every front end (cli, batch, worker, the add-on, the
benchmarks) reads fields instead of string keys.

Imports only the standard library: the worker's front process and the add-on (inside Blender) read
summaries without loading numpy. `to_json()` gives the JSON object with the keys in the order
summary.json has always had (optional fields left out when unset, as before), `from_json()` the
reverse; `from_json(s.to_json()) == s`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path

SUMMARY_NAME = "summary.json"  # written last: its presence marks a finished output folder


class SummaryError(ValueError):
    """A summary object that does not have the shape this module writes."""


def _want(obj: dict, key: str, kinds, optional: bool = False):
    value = obj.get(key)
    if value is None:
        if optional:
            return None
        raise SummaryError(f"summary: '{key}' is missing")
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise SummaryError(f"summary: '{key}' must be {kinds}, got a boolean")
    if not isinstance(value, kinds):
        raise SummaryError(f"summary: '{key}' must be {kinds}, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SummaryError(f"summary: '{key}' is not finite")
    return value


def _strings(obj: dict, key: str, optional: bool = False) -> tuple[str, ...] | None:
    value = _want(obj, key, list, optional)
    if value is None:
        return None
    if not all(isinstance(v, str) for v in value):
        raise SummaryError(f"summary: '{key}' must be a list of strings")
    return tuple(value)


@dataclass(frozen=True)
class TakeFiles:
    """The files one take wrote (absolute paths); face_format_csv and bvh only when asked for."""

    take: int
    motion: str
    face_csv: str | None = None         # None only for --raw (motion.npz alone)
    face_format_csv: str | None = None  # --face-format oculus|vrm
    bvh: str | None = None              # --bvh

    def files(self) -> tuple[str, ...]:
        """The paths, in the order people are shown them."""
        return tuple(p for p in (self.motion, self.face_csv, self.face_format_csv, self.bvh) if p)

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_json(cls, obj) -> "TakeFiles":
        if not isinstance(obj, dict):
            raise SummaryError("summary: each take must be an object")
        take = _want(obj, "take", int)
        return cls(take, _want(obj, "motion", str), _want(obj, "face_csv", str, True),
                   _want(obj, "face_format_csv", str, True), _want(obj, "bvh", str, True))


@dataclass(frozen=True)
class GenerationSummary:
    """One finished generation. Fields in summary.json's key order; None fields are not written.

    The fields from face_engine to phone_spans and `options` are None only in an EMAGE `--raw` summary,
    which has `raw`, `checkpoint` and `weights` instead.
    """

    orator_version: str
    audio: str
    output_dir: str
    seconds: float                   # audio length
    frames: int                      # motion frames at `fps`
    fps: int
    engine: str
    face_engine: str | None = None
    seed: int | None = None
    emotion: str | None = None
    intensity: float | None = None
    hand_mean: str | None = None     # which mean hand motion.npz fingers are relative to
    phone_source: str | None = None  # transcript | recognized | acoustic (scripts compare these values)
    lip_timing: str | None = None    # the same in words, with the time ranges of each method
    phone_count: int | None = None
    phone_spans: tuple[tuple[float, float, str], ...] | None = None  # (start s, end s, how the phones were found)
    raw: bool | None = None          # --raw: the network's own output
    checkpoint: str | None = None
    weights: dict[str, str] | None = None   # --raw: EMAGE part → weight file
    takes: tuple[TakeFiles, ...] = ()
    warnings: tuple[str, ...] = ()
    options: dict | None = None      # GenerateOptions fields as JSON, without the transcript
    elapsed_s: float | None = None

    def files(self) -> tuple[str, ...]:
        """Every file written, take by take (summary.json itself not included)."""
        return tuple(path for take in self.takes for path in take.files())

    def to_json(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name == "takes":
                value = [take.to_json() for take in value]
            elif f.name == "phone_spans":
                value = [list(span) for span in value]
            elif f.name == "warnings":
                value = list(value)
            elif f.name in ("options", "weights"):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, obj) -> "GenerationSummary":
        """A summary object (as json.load gives it) → GenerationSummary; SummaryError names what is wrong."""
        if not isinstance(obj, dict):
            raise SummaryError("a summary must be a JSON object")
        number = (int, float)
        spans = _want(obj, "phone_spans", list, True)
        if spans is not None:
            if not all(isinstance(s, list) and len(s) == 3 and isinstance(s[2], str) for s in spans):
                raise SummaryError("summary: 'phone_spans' must be [start, end, how] rows")
            spans = tuple((s[0], s[1], s[2]) for s in spans)
        takes = _want(obj, "takes", list)
        options = _want(obj, "options", dict, True)
        weights = _want(obj, "weights", dict, True)
        if weights is not None and not all(isinstance(v, str) for v in weights.values()):
            raise SummaryError("summary: 'weights' must map parts to file paths")
        return cls(
            orator_version=_want(obj, "orator_version", str), audio=_want(obj, "audio", str),
            output_dir=_want(obj, "output_dir", str), seconds=_want(obj, "seconds", number),
            frames=_want(obj, "frames", int), fps=_want(obj, "fps", int), engine=_want(obj, "engine", str),
            face_engine=_want(obj, "face_engine", str, True), seed=_want(obj, "seed", int, True),
            emotion=_want(obj, "emotion", str, True), intensity=_want(obj, "intensity", number, True),
            hand_mean=_want(obj, "hand_mean", str, True), phone_source=_want(obj, "phone_source", str, True),
            lip_timing=_want(obj, "lip_timing", str, True), phone_count=_want(obj, "phone_count", int, True), phone_spans=spans,
            raw=_want(obj, "raw", bool, True), checkpoint=_want(obj, "checkpoint", str, True),
            weights=None if weights is None else dict(weights), takes=tuple(TakeFiles.from_json(t) for t in takes),
            warnings=_strings(obj, "warnings"), options=None if options is None else dict(options),
            elapsed_s=_want(obj, "elapsed_s", number, True))

    def dumps(self) -> str:
        """summary.json's text."""
        return json.dumps(self.to_json(), indent=2)

    @classmethod
    def read(cls, folder: str | Path) -> "GenerationSummary":
        """FOLDER/summary.json; OSError when it cannot be read, SummaryError (a ValueError) when it is not one."""
        with open(Path(folder) / SUMMARY_NAME, encoding="utf-8") as fh:
            return cls.from_json(json.load(fh))
