"""Shape-key name matching for ARKit and FLAME expression curves."""
from __future__ import annotations

import numpy as np

from backend.vocabulary.face import ARKIT_INDEX, ARKIT_NAMES
from rigs.face_map import (canonical_shape_key, match_arkit_shape_keys, match_expression_keys,
                           shape_key_values)


def _snake(name: str) -> str:
    import re
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def test_all_naming_styles_match_every_arkit_name():
    styles = {
        "camel": list(ARKIT_NAMES),
        "pascal": [n[0].upper() + n[1:] for n in ARKIT_NAMES],
        "snake": [_snake(n) for n in ARKIT_NAMES],
        "suffix_L": [n.replace("Left", "_L").replace("Right", "_R") for n in ARKIT_NAMES],
        "suffix_dotL": [n.replace("Left", ".L").replace("Right", ".R") for n in ARKIT_NAMES],
        "suffix_l": [n.replace("Left", "_l").replace("Right", "_r") for n in ARKIT_NAMES],
        "suffix_bareL": [n.replace("Left", "L").replace("Right", "R") for n in ARKIT_NAMES],
        "namespaced": ["blendShape1." + n for n in ARKIT_NAMES],
        "upper": [n.upper() for n in ARKIT_NAMES],
    }
    for style, names in styles.items():
        keys = ["Basis", "Key 1", *names]
        matched = match_arkit_shape_keys(keys)
        assert matched == {i: names[i] for i in range(52)}, style


def test_sides_never_swap_and_similar_names_stay_apart():
    assert canonical_shape_key("eye_blink_left") == ("eyeblink", "left")
    assert canonical_shape_key("EyeBlink.R") == ("eyeblink", "right")
    assert canonical_shape_key("mouthFunnel") == ("mouthfunnel", "")   # trailing 'l' is not a side
    assert canonical_shape_key("jawLeft") == ("jaw", "left")
    matched = match_arkit_shape_keys(["mouthLeft", "mouth_L", "mouthSmile_L", "mouthRollLower"])
    assert matched[ARKIT_INDEX["mouthLeft"]] == "mouthLeft"      # exact wins over the alias
    assert matched[ARKIT_INDEX["mouthSmileLeft"]] == "mouthSmile_L"
    assert ARKIT_INDEX["mouthSmileRight"] not in matched
    assert matched[ARKIT_INDEX["mouthRollLower"]] == "mouthRollLower"


def test_expression_keys_and_values():
    keys = ["Basis", *[f"Exp{i:03d}" for i in range(100)], "Shape000", "exp_5_extra"]
    matched = match_expression_keys(keys)
    assert len(matched) == 100 and matched[7] == "Exp007"
    assert match_expression_keys(["expression12", "Exp150"], 100) == {12: "expression12"}
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 100))
    values = shape_key_values(w, matched)
    np.testing.assert_array_equal(values["Exp042"], w[:, 42])
