"""Phone → ARKit mouth-shape table (authored values, no code logic): the one place that says how a phone looks.

The built-in face engine blends these shapes; formats/face_formats.py builds the Oculus and VRM visemes
from them; the neural face takes its rest mouth and lip-opening channels from here.

Each ARPAbet phone (plus 'SIL') has
  * targets: the ARKit mouth weights the articulators aim for when the phone is spoken on its own
    (a name without Left/Right, like "mouthSmile", means both sides);
  * strength: how strongly the phone claims each articulator group in the dominance blend
    (Cohen–Massaro style). A weak claim lets the neighbours' shape show through: /h/ takes the
    next vowel's whole shape, /t/ keeps the neighbour's lip rounding, /p/ owns the lips;
  * lead / lag: anticipation and carry-over time constants in seconds (how early a phone starts to
    pull and how long it lingers).

Diphthongs are spoken as a glide between two of these shapes (DIPHTHONG_GLIDES).
Values are on the ARKit 0..1 scale at the clip's normal speech loudness; the engine scales the jaw
with loudness and emotion.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .phonemes import BILABIALS

# Articulator groups: every channel a viseme can drive belongs to exactly one group.
ARTICULATOR_GROUPS: dict[str, tuple[str, ...]] = {
    "jaw": ("jawOpen", "jawForward", "mouthLowerDownLeft", "mouthLowerDownRight"),
    "lips": ("mouthClose", "mouthPressLeft", "mouthPressRight", "mouthRollLower", "mouthRollUpper",
             "mouthUpperUpLeft", "mouthUpperUpRight", "mouthShrugLower", "mouthShrugUpper"),
    "shape": ("mouthFunnel", "mouthPucker", "mouthStretchLeft", "mouthStretchRight",
              "mouthSmileLeft", "mouthSmileRight"),
    "tongue": ("tongueOut",),
}


@dataclass(frozen=True)
class Viseme:
    targets: dict[str, float]
    strength: dict[str, float] = field(default_factory=dict)  # group → dominance magnitude (default 1)
    lead: float = 0.07   # s, anticipation time constant
    lag: float = 0.06    # s, carry-over time constant


# Resting mouth: lips together (aperture 0), jaw a hair open. On the default character an
# aperture of 0.005 left the lips 0.2 mm apart at every pause.
REST_TARGETS = {"jawOpen": 0.03, "mouthClose": 0.03}

# Channels that part the lips without the jaw; a p/b/m seal takes them back so a neighbouring
# /ʃ/ or /ɔ/ cannot hold the sealed lips open (mouthFunnel 0.25 alone opens the default
# character's lips 2.1 mm, mouthShrugUpper 0.4 by 1 mm).
LIP_OPENING_CHANNELS = ("mouthFunnel", "mouthUpperUpLeft", "mouthUpperUpRight", "mouthLowerDownLeft",
                        "mouthLowerDownRight", "mouthShrugUpper")

_VOWEL = {"jaw": 1.0, "lips": 0.6, "shape": 1.0, "tongue": 0.5}
_ROUND_VOWEL = {"jaw": 1.0, "lips": 0.6, "shape": 1.6, "tongue": 0.5}
_BILABIAL = {"jaw": 0.9, "lips": 8.0, "shape": 0.35, "tongue": 0.3}
_LABIODENTAL = {"jaw": 0.8, "lips": 5.0, "shape": 0.35, "tongue": 0.3}
_SIBILANT = {"jaw": 1.3, "lips": 0.4, "shape": 0.5, "tongue": 0.3}
_POSTALVEOLAR = {"jaw": 1.1, "lips": 0.8, "shape": 1.6, "tongue": 0.3}
_TONGUE_TIP = {"jaw": 0.5, "lips": 0.3, "shape": 0.25, "tongue": 0.6}
_DENTAL = {"jaw": 0.6, "lips": 0.3, "shape": 0.25, "tongue": 2.0}
_VELAR = {"jaw": 0.4, "lips": 0.2, "shape": 0.2, "tongue": 0.3}
_GLOTTAL = {"jaw": 0.15, "lips": 0.15, "shape": 0.1, "tongue": 0.1}
_ROUND_GLIDE = {"jaw": 0.8, "lips": 1.0, "shape": 2.5, "tongue": 0.3}
_SILENCE = {"jaw": 0.8, "lips": 0.8, "shape": 0.8, "tongue": 0.8}

VISEMES: dict[str, Viseme] = {
    # open and mid vowels
    "AA": Viseme({"jawOpen": 0.55, "mouthLowerDown": 0.25, "mouthUpperUp": 0.05, "mouthStretch": 0.05},
                 _VOWEL, 0.09, 0.08),
    "AE": Viseme({"jawOpen": 0.45, "mouthLowerDown": 0.25, "mouthUpperUp": 0.15, "mouthStretch": 0.25,
                  "mouthSmile": 0.1}, _VOWEL, 0.09, 0.08),
    "AH": Viseme({"jawOpen": 0.40, "mouthLowerDown": 0.15}, _VOWEL, 0.09, 0.08),
    "AO": Viseme({"jawOpen": 0.45, "mouthLowerDown": 0.1, "mouthFunnel": 0.35, "mouthPucker": 0.15},
                 _ROUND_VOWEL, 0.12, 0.09),
    "EH": Viseme({"jawOpen": 0.30, "mouthLowerDown": 0.15, "mouthStretch": 0.2}, _VOWEL, 0.08, 0.07),
    "ER": Viseme({"jawOpen": 0.20, "mouthFunnel": 0.3, "mouthPucker": 0.2}, _ROUND_VOWEL, 0.09, 0.08),
    "IH": Viseme({"jawOpen": 0.20, "mouthStretch": 0.25, "mouthSmile": 0.1}, _VOWEL, 0.08, 0.07),
    "IY": Viseme({"jawOpen": 0.12, "mouthStretch": 0.4, "mouthSmile": 0.2}, _VOWEL, 0.08, 0.07),
    "UH": Viseme({"jawOpen": 0.20, "mouthPucker": 0.35, "mouthFunnel": 0.25}, _ROUND_VOWEL, 0.12, 0.09),
    "UW": Viseme({"jawOpen": 0.12, "mouthPucker": 0.65, "mouthFunnel": 0.3}, _ROUND_VOWEL, 0.14, 0.1),
    # consonants
    "P": Viseme({"jawOpen": 0.06, "mouthClose": 0.06, "mouthPress": 0.35, "mouthRollLower": 0.1,
                 "mouthRollUpper": 0.1}, _BILABIAL, 0.06, 0.045),
    "B": Viseme({"jawOpen": 0.06, "mouthClose": 0.06, "mouthPress": 0.3, "mouthRollLower": 0.1,
                 "mouthRollUpper": 0.08}, _BILABIAL, 0.06, 0.045),
    "M": Viseme({"jawOpen": 0.05, "mouthClose": 0.05, "mouthPress": 0.25, "mouthRollLower": 0.05,
                 "mouthRollUpper": 0.05}, _BILABIAL, 0.06, 0.05),
    "F": Viseme({"jawOpen": 0.10, "mouthRollLower": 0.5, "mouthUpperUp": 0.15, "mouthShrugUpper": 0.1},
                _LABIODENTAL, 0.06, 0.05),
    "V": Viseme({"jawOpen": 0.10, "mouthRollLower": 0.45, "mouthUpperUp": 0.12, "mouthShrugUpper": 0.1},
                _LABIODENTAL, 0.06, 0.05),
    "TH": Viseme({"jawOpen": 0.15, "tongueOut": 0.25, "mouthUpperUp": 0.05}, _DENTAL, 0.06, 0.05),
    "DH": Viseme({"jawOpen": 0.14, "tongueOut": 0.15}, _DENTAL, 0.05, 0.04),
    "T": Viseme({"jawOpen": 0.14, "mouthStretch": 0.1}, _TONGUE_TIP, 0.05, 0.04),
    "D": Viseme({"jawOpen": 0.14, "mouthStretch": 0.1}, _TONGUE_TIP, 0.05, 0.04),
    "N": Viseme({"jawOpen": 0.14, "mouthStretch": 0.08}, _TONGUE_TIP, 0.05, 0.04),
    "L": Viseme({"jawOpen": 0.20, "mouthLowerDown": 0.05}, _TONGUE_TIP, 0.05, 0.05),
    "S": Viseme({"jawOpen": 0.06, "mouthStretch": 0.25, "mouthSmile": 0.05, "mouthUpperUp": 0.05},
                _SIBILANT, 0.06, 0.05),
    "Z": Viseme({"jawOpen": 0.06, "mouthStretch": 0.22, "mouthSmile": 0.05}, _SIBILANT, 0.06, 0.05),
    "SH": Viseme({"jawOpen": 0.10, "mouthFunnel": 0.5, "mouthPucker": 0.2, "mouthShrugUpper": 0.15},
                 _POSTALVEOLAR, 0.08, 0.06),
    "ZH": Viseme({"jawOpen": 0.10, "mouthFunnel": 0.45, "mouthPucker": 0.2, "mouthShrugUpper": 0.12},
                 _POSTALVEOLAR, 0.08, 0.06),
    "CH": Viseme({"jawOpen": 0.12, "mouthFunnel": 0.45, "mouthPucker": 0.2, "mouthShrugUpper": 0.12},
                 _POSTALVEOLAR, 0.08, 0.06),
    "JH": Viseme({"jawOpen": 0.12, "mouthFunnel": 0.4, "mouthPucker": 0.2, "mouthShrugUpper": 0.1},
                 _POSTALVEOLAR, 0.08, 0.06),
    "K": Viseme({"jawOpen": 0.20}, _VELAR, 0.05, 0.04),
    "G": Viseme({"jawOpen": 0.20}, _VELAR, 0.05, 0.04),
    "NG": Viseme({"jawOpen": 0.18}, _VELAR, 0.05, 0.04),
    "HH": Viseme({"jawOpen": 0.25}, _GLOTTAL, 0.05, 0.04),
    "R": Viseme({"jawOpen": 0.15, "mouthPucker": 0.35, "mouthFunnel": 0.2}, _ROUND_GLIDE, 0.09, 0.06),
    "W": Viseme({"jawOpen": 0.08, "mouthPucker": 0.75, "mouthFunnel": 0.2}, _ROUND_GLIDE, 0.1, 0.06),
    "Y": Viseme({"jawOpen": 0.12, "mouthStretch": 0.2, "mouthSmile": 0.05}, _TONGUE_TIP, 0.06, 0.05),
    "SIL": Viseme(dict(REST_TARGETS), _SILENCE, 0.08, 0.1),
}

# Diphthong → (first shape, second shape, share of the duration where the glide is centred).
DIPHTHONG_GLIDES: dict[str, tuple[str, str, float]] = {
    "AW": ("AA", "UH", 0.6),
    "AY": ("AA", "IH", 0.6),
    "EY": ("EH", "IY", 0.55),
    "OW": ("AO", "UH", 0.5),
    "OY": ("AO", "IY", 0.6),
}

# Phones that must bring the lips into contact (the engine enforces it on top of the blend).
LIP_CLOSING_PHONES = BILABIALS
