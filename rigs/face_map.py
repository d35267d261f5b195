"""Which shape keys of a character the face animation drives.

ARKit weights drive keys by name, matched case-insensitively with the usual aliases: PascalCase,
camelCase or snake_case (`EyeBlinkLeft`, `eyeBlinkLeft`, `eye_blink_left`) and side suffixes
`Left`/`_L`/`.L`/`_l`/`L` (and `Right`/`_R`/`.R`/`_r`/`R`); a namespace before `:`, `|` or a
final `.` is ignored (`blendShape1.eyeBlinkLeft`). FLAME expression coefficients drive `Exp000`..
`Exp099` keys (SMPL-X add-on and our FLAME head builder). Heads without ARKit keys are driven by
what they have: the Oculus/Meta 15 visemes (`viseme_PP` …, Ready Player Me) or VRM expressions
(VRM 1.0 `aa ih ou ee oh blink …`, VRM 0.x `a i u e o joy sorrow …`, VRoid's `Fcl_MTH_A` …), their
curves derived from the ARKit ones (`backend.formats.face_formats`). The jaw *bone* is in the SkeletonMap.
"""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np

from ._backend import face_vocabulary, face_formats

_SIDE_WORD = re.compile(r"(?i)[._\s-]?(left|right)$")
_SIDE_SEPARATED = re.compile(r"(?i)[._\s-](l|r)$")
_SIDE_BARE = re.compile(r"(?<=[a-z0-9])([LR])$")  # eyeBlinkL: only an upper-case letter after lower case
_EXPRESSION = re.compile(r"(?i)^exp(?:ression)?[_\s.-]?(\d{1,3})$")


def canonical_shape_key(name: str) -> tuple[str, str]:
    """(base, side) of a shape-key name: base lower-case without separators, side 'left'/'right'/''."""
    name = re.split(r"[:|]", name.strip())[-1]
    side = ""
    for pattern in (_SIDE_WORD, _SIDE_SEPARATED, _SIDE_BARE):
        m = pattern.search(name)
        if m:
            side = "left" if m.group(1).lower().startswith("l") else "right"
            name = name[:m.start()]
            break
    if "." in name:  # a namespace such as "blendShape1." (side suffixes were taken off above)
        name = name.rsplit(".", 1)[-1]
    return re.sub(r"[_\s.-]", "", name).lower(), side


_ARKIT_CANONICAL = {canonical_shape_key(n): i for i, n in enumerate(face_vocabulary.ARKIT_NAMES)}


def match_arkit_shape_keys(key_names: Iterable[str]) -> dict[int, str]:
    """ARKit index (Apple order) → the shape key that plays it. An exact name wins over an alias."""
    out: dict[int, str] = {}
    exact = {n: i for i, n in enumerate(face_vocabulary.ARKIT_NAMES)}
    keys = list(key_names)
    for k in keys:
        if k in exact:
            out[exact[k]] = k
    for k in keys:
        i = _ARKIT_CANONICAL.get(canonical_shape_key(k))
        if i is not None and i not in out:
            out[i] = k
    return out


def match_expression_keys(key_names: Iterable[str], num_expressions: int = 100) -> dict[int, str]:
    """FLAME expression index → shape key (`Exp000`, `exp_12`, `Expression7`, …)."""
    out: dict[int, str] = {}
    for k in key_names:
        m = _EXPRESSION.match(k.strip())
        if m and int(m.group(1)) < num_expressions:
            out.setdefault(int(m.group(1)), k)
    return out


def expression_key_name(i: int) -> str:
    """The key name Orator's builders give FLAME expression i."""
    return f"Exp{i:03d}"


def shape_key_values(weights: np.ndarray, matched: dict[int, str]) -> dict[str, np.ndarray]:
    """Per-key value curves: weights (T, C) with C = 52 ARKit or N expressions → {key: (T,)}."""
    weights = np.asarray(weights, dtype=np.float64)
    return {name: weights[:, i] for i, name in matched.items() if i < weights.shape[1]}


# A head counts as an ARKit head with this many ARKit keys; below it, a viseme/VRM set it has wins.
ARKIT_HEAD_MIN = 20
OCULUS_HEAD_MIN = 5      # of the 15 visemes
VRM_VOWELS_MIN = 3       # of aa ih ou ee oh


def _plain(name: str) -> str:
    """A key name without namespace, separators or case: 'blendShape1.viseme_PP' → 'visemepp'."""
    name = re.split(r"[:|]", name.strip())[-1]
    if "." in name and not name.rsplit(".", 1)[-1].isdigit():
        name = name.rsplit(".", 1)[-1]
    return re.sub(r"[_\s.-]", "", name).lower()


def match_oculus_keys(key_names: Iterable[str]) -> dict[int, str]:
    """Oculus viseme index (face_vocabulary.OCULUS_VISEMES order) → shape key."""
    wanted = {_plain(n): i for i, n in enumerate(face_vocabulary.OCULUS_VISEMES)}
    out: dict[int, str] = {}
    for k in key_names:
        i = wanted.get(_plain(k))
        if i is not None:
            out.setdefault(i, k)
    return out


def match_vrm_keys(key_names: Iterable[str]) -> dict[int, str]:
    """VRM expression index (face_vocabulary.VRM_EXPRESSIONS order) → shape key, by VRM 1.0 name, VRM 0.x
    preset or VRoid key. Only when at least VRM_VOWELS_MIN mouth vowels are there (`a`, `o` alone are
    too common to mean VRM)."""
    names = face_vocabulary.VRM_EXPRESSIONS
    wanted: dict[str, int] = {}
    for table in ({n: n for n in names}, face_vocabulary.VRM0_PRESETS, face_vocabulary.VROID_KEYS):
        for expression, key in table.items():
            wanted.setdefault(_plain(key), names.index(expression))
    out: dict[int, str] = {}
    for k in key_names:
        i = wanted.get(_plain(k))
        if i is not None:
            out.setdefault(i, k)
    vowels = sum(names.index(v) in out for v in face_vocabulary.VRM_VOWEL_PHONES)
    return out if vowels >= VRM_VOWELS_MIN else {}


_FORMAT_SIZE = {"oculus": len(face_vocabulary.OCULUS_VISEMES), "vrm": len(face_vocabulary.VRM_EXPRESSIONS)}


def face_source(key_names: Iterable[str]) -> tuple[str, dict[int, str]]:
    """Which curves drive a head's shape keys: ('arkit' | 'oculus' | 'vrm' | 'expressions', channel → key).

    A full ARKit head is driven by ARKit; a head with the Oculus visemes or VRM vowels but few ARKit
    keys by those (a Ready Player Me head has visemes and a few ARKit eye keys). There, ARKit-named keys
    outside the mouth (blinks, brows) are driven too: channel n + i is ARKit channel i, n the format's size."""
    key_names = list(key_names)
    arkit_map = match_arkit_shape_keys(key_names)
    if len(arkit_map) >= ARKIT_HEAD_MIN:
        return "arkit", arkit_map
    for source, matched in (("oculus", match_oculus_keys(key_names)), ("vrm", match_vrm_keys(key_names))):
        if len(matched) >= (OCULUS_HEAD_MIN if source == "oculus" else 1):
            used = set(matched.values())
            extra = {_FORMAT_SIZE[source] + i: k for i, k in arkit_map.items()
                     if i not in face_formats.MOUTH_CHANNELS and k not in used}
            return source, {**matched, **extra}
    if arkit_map:
        return "arkit", arkit_map
    return "expressions", match_expression_keys(key_names)


def face_weights(source: str, arkit: np.ndarray | None, expressions: np.ndarray | None) -> np.ndarray | None:
    """(T, C) curves of `source` (channels as `face_source` numbers them) from a take's ARKit (T, 52) and
    FLAME expression (T, N) curves."""
    if source == "expressions":
        return expressions
    if arkit is None:
        return None
    weights = face_formats.face_curves(arkit, source)[1]
    return weights if source == "arkit" else np.concatenate([weights, np.asarray(arkit, np.float64)], axis=1)
