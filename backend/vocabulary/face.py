"""Face channel vocabularies: ARKit's 52 blendshapes in Apple order (the Live Link Face CSV column order),
the Oculus/Meta 15 visemes with their phone classes, and VRM's expressions with the VRM 0.x and VRoid names.
The conversions between them live in formats/face_formats.py."""
from __future__ import annotations

ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawRight", "jawLeft", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker",
    "mouthRight", "mouthLeft", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp",
    "browOuterUpLeft", "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight", "tongueOut",
)
NUM_ARKIT = len(ARKIT_NAMES)  # 52
ARKIT_INDEX: dict[str, int] = {name: i for i, name in enumerate(ARKIT_NAMES)}
assert NUM_ARKIT == 52

OCULUS_VISEMES: tuple[str, ...] = (
    "viseme_sil", "viseme_PP", "viseme_FF", "viseme_TH", "viseme_DD", "viseme_kk", "viseme_CH", "viseme_SS",
    "viseme_nn", "viseme_RR", "viseme_aa", "viseme_E", "viseme_I", "viseme_O", "viseme_U",
)
# Oculus Lipsync's phone classes in ARPAbet.
OCULUS_PHONES: dict[str, tuple[str, ...]] = {
    "viseme_PP": ("P", "B", "M"), "viseme_FF": ("F", "V"), "viseme_TH": ("TH", "DH"),
    "viseme_DD": ("T", "D"), "viseme_kk": ("K", "G", "NG"), "viseme_CH": ("CH", "JH", "SH", "ZH"),
    "viseme_SS": ("S", "Z"), "viseme_nn": ("N", "L"), "viseme_RR": ("R", "ER"),
    "viseme_aa": ("AA", "AE", "AH"), "viseme_E": ("EH",), "viseme_I": ("IH", "IY", "Y"),
    "viseme_O": ("AO",), "viseme_U": ("UH", "UW", "W"),
}

# VRM 1.0 expression names; the VRM 0.x preset and VRoid's shape key for each.
VRM_EXPRESSIONS: tuple[str, ...] = ("aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight",
                                    "happy", "angry", "sad", "relaxed", "surprised")
VRM_VOWEL_PHONES: dict[str, tuple[str, ...]] = {
    "aa": ("AA", "AE", "AH"), "ih": ("IH", "IY", "Y"), "ou": ("UH", "UW", "W"), "ee": ("EH",), "oh": ("AO",),
}
VRM0_PRESETS: dict[str, str] = {"aa": "a", "ih": "i", "ou": "u", "ee": "e", "oh": "o", "blink": "blink",
                                "blinkLeft": "blink_l", "blinkRight": "blink_r", "happy": "joy", "angry": "angry",
                                "sad": "sorrow", "relaxed": "fun", "surprised": "surprised"}
VROID_KEYS: dict[str, str] = {"aa": "Fcl_MTH_A", "ih": "Fcl_MTH_I", "ou": "Fcl_MTH_U", "ee": "Fcl_MTH_E",
                              "oh": "Fcl_MTH_O", "blink": "Fcl_EYE_Close", "blinkLeft": "Fcl_EYE_Close_L",
                              "blinkRight": "Fcl_EYE_Close_R", "happy": "Fcl_ALL_Joy", "angry": "Fcl_ALL_Angry",
                              "sad": "Fcl_ALL_Sorrow", "relaxed": "Fcl_ALL_Fun", "surprised": "Fcl_ALL_Surprised"}


def lip_aperture(arkit):
    """Lip aperture per frame: jawOpen − mouthClose (ARKit convention), ≥ 0 means open.

    arkit: (T, 52) array → (T,) array.
    """
    return arkit[:, ARKIT_INDEX["jawOpen"]] - arkit[:, ARKIT_INDEX["mouthClose"]]
