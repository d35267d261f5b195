"""The golden EMAGE fixture (../shared/emage/golden): reduced-size random weights in the published layout,
fixed inputs and the official code's outputs at every stage."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(os.environ.get("ORATOR_SHARED", REPO.parent / "shared")) / "emage" / "golden"
CASES = ("synth4s", "synth2p2s_edge", "synth2p65s_shortfinal", "lj001_0001", "prompt_synth4s")
# golden/README.md "Suggested acceptance for a port"
ATOL_LATENT = 1e-4
ATOL_FACE_TRANS = 1e-5
ATOL_ROTATION = 1e-3


def golden_folder_with(tmp: Path, suffix: str) -> Path:
    """A copy of golden/weights (symlinks) holding only the .bin or only the .safetensors files."""
    src = GOLDEN / "weights"
    keep = "pytorch_model.bin" if suffix == "bin" else "model.safetensors"
    for sub in [Path("."), *(Path("emage_vq") / p for p in ("face", "upper", "hands", "lower", "global"))]:
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        for name in ("config.json", keep):
            os.symlink(src / sub / name, tmp / sub / name)
    return tmp


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    if not GOLDEN.is_dir():
        pytest.fail(f"EMAGE golden fixture not found at {GOLDEN}; set ORATOR_SHARED")
    return GOLDEN


@pytest.fixture(scope="session")
def golden_model(golden_dir):
    from backend.engines.emage.checkpoint import load_weights
    from backend.engines.emage.inference import EmageModel
    return EmageModel(load_weights(golden_dir / "weights"))


def case_inputs(case: str):
    """(audio (L,), masked_motion (K,337) | None, mask | None, ref_trans (3,) | None) as numpy."""
    e = np.load(GOLDEN / f"expected_{case}.npz")
    if not case.startswith("prompt"):
        return e["audio"], None, None, None
    mm = np.load(GOLDEN / "input_prompt_masked_motion.npy")[0]
    return e["audio"], mm, np.load(GOLDEN / "input_prompt_mask.npy")[0], mm[0, 330:333]
