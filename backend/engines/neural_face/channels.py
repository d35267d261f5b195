"""Which ARKit channels the neural face drives, and FACEGOOD curves mapped onto ARKit.

The network predicts only the channels speech moves (jaw and mouth, the `valid` rows of the FACEGOOD
mapping); eyes, brows, blinks and emotion come from the built-in engine's layers.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from ...vocabulary.face import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT

# jawForward … mouthUpperUpRight in Apple order: the 27 channels speech drives.
SPEECH_CHANNELS: tuple[str, ...] = tuple(n for n in ARKIT_NAMES if n.startswith(("jaw", "mouth")))
SPEECH_INDEX = np.array([ARKIT_INDEX[n] for n in SPEECH_CHANNELS])
JAW_OPEN = SPEECH_CHANNELS.index("jawOpen")
MOUTH_CLOSE = SPEECH_CHANNELS.index("mouthClose")
assert len(SPEECH_CHANNELS) == 27


def speech_aperture(mouth):
    """Lip aperture jawOpen − mouthClose of speech-channel curves: (…, 27) → (…)."""
    return mouth[..., JAW_OPEN] - mouth[..., MOUTH_CLOSE]


def read_facegood_mapping(mapping_csv: str | Path) -> dict[str, tuple[str, ...]]:
    """ARKit name → FACEGOOD channels whose max gives it, for the rows marked `valid`."""
    out = {}
    with open(mapping_csv, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["status"].strip().lower() != "valid" or not row["facegood_expression"].strip():
                continue
            expr = row["facegood_expression"].strip()
            match = re.fullmatch(r"max\((.*)\)", expr)
            sources = tuple(s.strip() for s in (match.group(1).split(",") if match else [expr]))
            out[row["arkit"].strip()] = sources
    return out


def facegood_to_arkit(curves: np.ndarray, channel_names: list[str],
                      mapping: dict[str, tuple[str, ...]]) -> np.ndarray:
    """FACEGOOD blendshape curves (T, 116) → ARKit (T, 52) float32; unmapped channels stay 0."""
    col = {name: i for i, name in enumerate(channel_names)}
    out = np.zeros((len(curves), NUM_ARKIT), np.float32)
    for name, sources in mapping.items():
        out[:, ARKIT_INDEX[name]] = np.max(curves[:, [col[s] for s in sources]], axis=1)
    return np.clip(out, 0.0, 1.0)


def load_facegood_clip(folder: str | Path, clip: str) -> tuple[Path, np.ndarray]:
    """(wav path, ARKit curves (T, 52) at 30 fps) of FACEGOOD clip `clip` (e.g. '1114_2_04')."""
    folder = Path(folder)
    names = (folder / "channel_names.txt").read_text(encoding="utf-8").split()
    curves = np.load(folder / f"bs_value_{clip}.npy", allow_pickle=False)
    return folder / f"{clip}.wav", facegood_to_arkit(curves, names, read_facegood_mapping(folder / "arkit_mapping.csv"))
