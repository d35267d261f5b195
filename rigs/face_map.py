"""Which shape keys of a character the face animation drives.

ARKit weights drive keys by name, matched case-insensitively with the usual aliases: PascalCase,
camelCase or snake_case (`EyeBlinkLeft`, `eyeBlinkLeft`, `eye_blink_left`) and side suffixes
`Left`/`_L`/`.L`/`_l`/`L` (and `Right`/`_R`/`.R`/`_r`/`R`); a namespace before `:`, `|` or a
final `.` is ignored (`blendShape1.eyeBlinkLeft`). FLAME expression coefficients drive `Exp000`..
`Exp099` keys (SMPL-X add-on and our FLAME head builder). The jaw *bone* is in the SkeletonMap.
"""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np

from ._backend import arkit

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


_ARKIT_CANONICAL = {canonical_shape_key(n): i for i, n in enumerate(arkit.ARKIT_NAMES)}


def match_arkit_shape_keys(key_names: Iterable[str]) -> dict[int, str]:
    """ARKit index (Apple order) → the shape key that plays it. An exact name wins over an alias."""
    out: dict[int, str] = {}
    exact = {n: i for i, n in enumerate(arkit.ARKIT_NAMES)}
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
