"""Live Link Face CSV (the iPhone app's recording format, read by Unreal's LiveLinkFaceImporter).

Header: Timecode,BlendShapeCount, 52 ARKit names in PascalCase, then HeadYaw,HeadPitch,HeadRoll,
LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll.
Rows: `HH:MM:SS:FF.fff,61,<61 floats>` where FF counts frames at the recording rate.
Angles are radians; yaw turns toward the character's left, pitch looks down, roll tilts to the left.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from ..errors import UserError
from ..vocabulary.face import ARKIT_NAMES, NUM_ARKIT
from ..vocabulary.rates import MOTION_FPS

POSE_COLUMNS = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
BLENDSHAPE_COLUMNS = tuple(name[0].upper() + name[1:] for name in ARKIT_NAMES)
HEADER = ("Timecode", "BlendShapeCount") + BLENDSHAPE_COLUMNS + POSE_COLUMNS
VALUE_COUNT = NUM_ARKIT + len(POSE_COLUMNS)  # 61, the app's BlendShapeCount


@dataclass(frozen=True)
class FaceCurves:
    """times (T,) seconds from the first row; arkit (T,52) Apple order; head_eyes (T,9) radians."""

    times: np.ndarray
    arkit: np.ndarray
    head_eyes: np.ndarray
    fps: float

    def resampled(self, fps: float = MOTION_FPS) -> "FaceCurves":
        """Linear resampling onto a regular grid starting at 0 (rates differ: the app records at 60)."""
        if len(self.times) < 2:
            return FaceCurves(np.zeros(1), self.arkit[:1], self.head_eyes[:1], fps)
        n = int(np.floor(self.times[-1] * fps + 1e-6)) + 1
        grid = np.arange(n) / fps

        def interp(values: np.ndarray) -> np.ndarray:
            return np.stack([np.interp(grid, self.times, v) for v in values.T], axis=1).astype(np.float32)

        return FaceCurves(grid, interp(self.arkit), interp(self.head_eyes), fps)


def _timecode(frame: int, fps: int) -> str:
    seconds, ff = divmod(frame, fps)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}.000"


def write_livelink_csv(path: str | os.PathLike, arkit: np.ndarray, head_eyes: np.ndarray | None = None,
                       fps: int = MOTION_FPS) -> Path:
    """arkit (T,52) 0..1; head_eyes (T,9) radians or None (zeros). Written atomically."""
    arkit = np.asarray(arkit, dtype=np.float64)
    t = arkit.shape[0]
    head_eyes = np.zeros((t, len(POSE_COLUMNS))) if head_eyes is None else np.asarray(head_eyes, np.float64)
    values = np.concatenate([arkit, head_eyes], axis=1)
    path = Path(path)
    with atomic_write(path) as fh:
        fh.write(",".join(HEADER) + "\n")
        for start in range(0, t, 2048):  # in blocks: an hour of rows never sits in memory as text
            buf = io.StringIO()
            for frame in range(start, min(start + 2048, t)):
                buf.write(f"{_timecode(frame, fps)},{VALUE_COUNT},")
                buf.write(",".join(f"{v:.6f}" for v in values[frame]))
                buf.write("\n")
            fh.write(buf.getvalue())
    return path


def _parse_timecode(text: str) -> tuple[int, int, float]:
    """'HH:MM:SS:FF.fff' → (whole seconds, frame number, sub-frame fraction)."""
    parts = text.strip().split(":")
    if len(parts) != 4:
        raise ValueError(text)
    hh, mm, ss = int(parts[0]), int(parts[1]), int(parts[2])
    ff_text = parts[3]
    ff, _, frac = ff_text.partition(".")
    return hh * 3600 + mm * 60 + ss, int(ff), float("0." + frac) if frac else 0.0


def read_livelink_csv(path: str | os.PathLike) -> FaceCurves:
    """Read a Live Link Face CSV; the frame rate is inferred from the timecodes (30 or 60, or higher)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"face curve file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path.name} is not a text CSV: expected a Live Link Face CSV export") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise UserError(f"{path.name} is empty: expected a Live Link Face CSV export")
    header = [h.strip() for h in rows[0]]
    lower = {h.lower(): i for i, h in enumerate(header)}
    if "timecode" not in lower:
        raise UserError(f"{path.name} has no Timecode column: expected a Live Link Face CSV export")
    missing = [n for n in BLENDSHAPE_COLUMNS if n.lower() not in lower]
    if len(missing) == NUM_ARKIT:
        raise UserError(f"{path.name} has no ARKit blendshape columns (EyeBlinkLeft, …, TongueOut)")
    stamps, values = [], []
    for line_no, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        try:
            stamps.append(_parse_timecode(row[lower["timecode"]]))
            values.append([float(row[i]) for i in range(len(row)) if i != lower["timecode"]])
        except (ValueError, IndexError):
            raise UserError(f"{path.name} line {line_no}: unreadable row; expected "
                            "'HH:MM:SS:FF.fff,61,<61 numbers>'") from None
    if not stamps:
        raise UserError(f"{path.name} has a header but no rows")
    widths = {len(v) for v in values}
    if len(widths) != 1:
        raise UserError(f"{path.name}: rows have different numbers of values")
    columns = [h for i, h in enumerate(header) if i != lower["timecode"]]
    table = np.asarray(values, dtype=np.float64)
    col_index = {h.lower(): i for i, h in enumerate(columns)}
    arkit = np.zeros((len(table), NUM_ARKIT), np.float32)
    for k, name in enumerate(BLENDSHAPE_COLUMNS):
        if name.lower() in col_index:
            arkit[:, k] = table[:, col_index[name.lower()]]
    head_eyes = np.zeros((len(table), len(POSE_COLUMNS)), np.float32)
    for k, name in enumerate(POSE_COLUMNS):
        if name.lower() in col_index:
            head_eyes[:, k] = table[:, col_index[name.lower()]]
    if not (np.all(np.isfinite(arkit)) and np.all(np.isfinite(head_eyes))):
        raise UserError(f"{path.name} contains NaN or infinite values")
    max_ff = max(ff for _, ff, _ in stamps)
    fps = 30 if max_ff < 30 else 60 if max_ff < 60 else int(max_ff) + 1
    times = np.array([s + (ff + frac) / fps for s, ff, frac in stamps])
    times -= times[0]
    if np.any(np.diff(times) <= 0):
        order = np.argsort(times, kind="stable")
        times, arkit, head_eyes = times[order], arkit[order], head_eyes[order]
        keep = np.concatenate([[True], np.diff(times) > 0])
        times, arkit, head_eyes = times[keep], arkit[keep], head_eyes[keep]
    return FaceCurves(times, np.clip(arkit, 0.0, 1.0), head_eyes, float(fps))
