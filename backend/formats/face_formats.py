"""ARKit curves → the other face formats avatars in the wild carry: the Oculus/Meta 15 visemes (Ready
Player Me, Meta avatars) and VRM expressions (VRM 1.0 names, VRM 0.x presets). Pure numpy.

Visemes are phone classes, so each one's mouth shape is the mean ARKit target of its phones in the
phone → mouth-shape table (`vocabulary.visemes.VISEMES`, the one place that says how a phone looks).
Per frame, the mouth part of the ARKit curves (minus the resting mouth) is written as a non-negative mix
of those shapes (non-negative least squares, projected gradient, all frames at once); the weights sum
to at most 1 and `sil` (VRM: nothing) takes the rest. Where the ARKit curves seal the lips (aperture
jawOpen − mouthClose ≤ SEAL_APERTURE), the seal wins: every opening viseme fades out and, for the Oculus
set, viseme_PP takes over when the lips are pressed (p/b/m), so the lips close on the mesh wherever the
curves say closed.
VRM blinks split ARKit's two eyelids into both (`blink`) and the one that is closed further; the
emotions follow the channels only that emotion's style moves (cheekSquint → happy, noseSneer →
angry, mouthFrown → sad, eyeWide → surprised), scaled so a full-intensity style reads 1.
`relaxed` has no ARKit counterpart and is left undriven.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..vocabulary.choices import FACE_FORMATS
from ..vocabulary.face import (ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT, OCULUS_PHONES, OCULUS_VISEMES, VRM_EXPRESSIONS,
                               VRM_VOWEL_PHONES)
from ..vocabulary.visemes import ARTICULATOR_GROUPS, REST_TARGETS, VISEMES

# (ARKit channel, value of a full-intensity emotion style) that only that emotion moves.
VRM_EMOTION_SOURCES: dict[str, tuple[tuple[str, ...], float]] = {
    "happy": (("cheekSquintLeft", "cheekSquintRight"), 0.4),
    "angry": (("noseSneerLeft", "noseSneerRight"), 0.3),
    "sad": (("mouthFrownLeft", "mouthFrownRight"), 0.35),
    "surprised": (("eyeWideLeft", "eyeWideRight"), 0.55),
}

SEAL_APERTURE = 0.05   # lip aperture at or below which the curves mean "lips together" (metrics.face)
PRESSED = 0.1          # mouthPress at which sealed lips count as a p/b/m press (P/B/M targets: 0.25–0.35)
# ARKit channels of the mouth (the articulator groups): the visemes replace these, the rest (eyes, brows,
# cheeks, nose) can still drive a head's ARKit-named keys beside its visemes.
MOUTH_CHANNELS = tuple(sorted({ARKIT_INDEX[c] for group in ARTICULATOR_GROUPS.values() for c in group}))
_MOUTH = MOUTH_CHANNELS
_NNLS_STEPS = 300


def _target_vector(targets: dict[str, float]) -> np.ndarray:
    """(52,) ARKit weights of a phone target; a name without Left/Right means both sides."""
    v = np.zeros(NUM_ARKIT)
    for name, value in targets.items():
        for channel in ((name,) if name in ARKIT_INDEX else (name + "Left", name + "Right")):
            v[ARKIT_INDEX[channel]] = value
    return v


def mouth_basis(classes: dict[str, tuple[str, ...]]) -> np.ndarray:
    """(V, M) mouth-channel shape of each phone class (mean of its phones' targets) minus the rest mouth."""
    rest = _target_vector(REST_TARGETS)
    shapes = [np.mean([_target_vector(VISEMES[p].targets) for p in phones], axis=0) for phones in classes.values()]
    return (np.array(shapes) - rest)[:, _MOUTH]


def _nnls(basis: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Non-negative w (T, V) minimising |w · basis − target|² per row; basis (V, M), target (T, M)."""
    gram = basis @ basis.T
    h = target @ basis.T
    step = 1.0 / np.linalg.eigvalsh(gram).max()
    w = np.zeros(h.shape)
    for _ in range(_NNLS_STEPS):
        w = np.maximum(w - step * (w @ gram - h), 0.0)
    return w


def _mix(arkit: np.ndarray, classes: dict[str, tuple[str, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """(weights (T, V) summing to ≤ 1 with sealed frames faded out, seal (T,) in 0..1)."""
    arkit = np.asarray(arkit, dtype=np.float64)
    rest = _target_vector(REST_TARGETS)[list(_MOUTH)]
    w = _nnls(mouth_basis(classes), arkit[:, _MOUTH] - rest)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total > 1.0, w / np.maximum(total, 1e-12), w)
    aperture = arkit[:, ARKIT_INDEX["jawOpen"]] - arkit[:, ARKIT_INDEX["mouthClose"]]
    seal = np.clip((SEAL_APERTURE - aperture) / SEAL_APERTURE, 0.0, 1.0)
    return w * (1.0 - seal[:, None]), seal


def arkit_to_oculus(arkit: np.ndarray) -> np.ndarray:
    """(T, 52) ARKit → (T, 15) Oculus viseme weights in OCULUS_VISEMES order, each row summing to 1."""
    w, seal = _mix(arkit, OCULUS_PHONES)
    arkit = np.asarray(arkit, dtype=np.float64)
    press = 0.5 * (arkit[:, ARKIT_INDEX["mouthPressLeft"]] + arkit[:, ARKIT_INDEX["mouthPressRight"]])
    pp = list(OCULUS_PHONES).index("viseme_PP")
    w[:, pp] = np.maximum(w[:, pp], seal * np.clip(press / PRESSED, 0.0, 1.0))
    out = np.empty((len(w), len(OCULUS_VISEMES)))
    out[:, 1:] = w
    out[:, 0] = np.clip(1.0 - w.sum(axis=1), 0.0, 1.0)
    return out


def arkit_to_vrm(arkit: np.ndarray) -> np.ndarray:
    """(T, 52) ARKit → (T, 13) VRM expression weights in VRM_EXPRESSIONS order (relaxed stays 0)."""
    arkit = np.asarray(arkit, dtype=np.float64)
    vowels, _ = _mix(arkit, VRM_VOWEL_PHONES)
    out = np.zeros((len(arkit), len(VRM_EXPRESSIONS)))
    col = {name: i for i, name in enumerate(VRM_EXPRESSIONS)}
    for k, name in enumerate(VRM_VOWEL_PHONES):
        out[:, col[name]] = vowels[:, k]
    left, right = arkit[:, ARKIT_INDEX["eyeBlinkLeft"]], arkit[:, ARKIT_INDEX["eyeBlinkRight"]]
    both = np.minimum(left, right)
    out[:, col["blink"]], out[:, col["blinkLeft"]], out[:, col["blinkRight"]] = both, left - both, right - both
    for name, (channels, full) in VRM_EMOTION_SOURCES.items():
        out[:, col[name]] = np.clip(np.mean([arkit[:, ARKIT_INDEX[c]] for c in channels], axis=0) / full, 0.0, 1.0)
    return np.clip(out, 0.0, 1.0)


def face_curves(arkit: np.ndarray, face_format: str) -> tuple[tuple[str, ...], np.ndarray]:
    """(channel names, (T, C) weights) of `face_format` ('arkit', 'oculus' or 'vrm')."""
    if face_format == "arkit":
        return ARKIT_NAMES, np.asarray(arkit, dtype=np.float64)
    if face_format == "oculus":
        return OCULUS_VISEMES, arkit_to_oculus(arkit)
    if face_format == "vrm":
        return VRM_EXPRESSIONS, arkit_to_vrm(arkit)
    raise ValueError(f"unknown face format {face_format!r}; expected one of {', '.join(FACE_FORMATS)}")


def write_face_csv(path, names, weights: np.ndarray, fps: int) -> Path:
    """A plain CSV: `Time` in seconds, then one column per channel (0..1), one row per frame."""

    from ..fileio import atomic_write

    path = Path(path)
    with atomic_write(path) as fh:
        fh.write(",".join(("Time",) + tuple(names)) + "\n")
        for k, row in enumerate(np.asarray(weights, dtype=np.float64)):
            fh.write(f"{k / fps:.6f}," + ",".join(f"{v:.5f}" for v in row) + "\n")
    return path
