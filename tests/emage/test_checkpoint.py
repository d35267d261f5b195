"""A downloaded EMAGE folder that is incomplete, mismatched or unsafe is one actionable line."""
from __future__ import annotations

import os

import pytest
import torch

from backend.engines.emage.checkpoint import check_folder, load_weights
from backend.engines.emage.inference import plan_windows
from backend.errors import UserError

from .conftest import GOLDEN, golden_folder_with


class NotATensor:
    """A class torch.load(weights_only=True) must refuse to rebuild."""

    def __init__(self):
        self.payload = "anything"


def replace_file(folder, rel, writer):
    target = folder / rel
    target.unlink()
    writer(target)


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_missing_weight_file(tmp_path):
    folder = golden_folder_with(tmp_path, "bin")
    (folder / "emage_vq" / "hands" / "pytorch_model.bin").unlink()
    with pytest.raises(UserError) as exc:
        check_folder(folder)
    assert "emage_vq/hands" in one_line(exc) and "huggingface-cli download H-Liu1997/emage_audio" in str(exc.value)


def test_missing_config(tmp_path):
    folder = golden_folder_with(tmp_path, "safetensors")
    (folder / "emage_vq" / "global" / "config.json").unlink()
    with pytest.raises(UserError) as exc:
        load_weights(folder)
    assert "emage_vq/global/config.json is missing" in one_line(exc)


def test_not_a_folder(tmp_path):
    with pytest.raises(UserError, match="EMAGE folder not found"):
        check_folder(tmp_path / "nowhere")


def test_wrong_shape_names_the_tensor(tmp_path):
    folder = golden_folder_with(tmp_path, "bin")
    state = torch.load(GOLDEN / "weights" / "emage_vq" / "upper" / "pytorch_model.bin", weights_only=True)
    state["quantizer.embedding.weight"] = state["quantizer.embedding.weight"][:10].clone()
    replace_file(folder, "emage_vq/upper/pytorch_model.bin", lambda p: torch.save(state, p))
    with pytest.raises(UserError) as exc:
        load_weights(folder)
    msg = one_line(exc)
    assert "quantizer.embedding.weight" in msg and "[10, 64]" in msg and "[64, 64]" in msg


def test_missing_tensor(tmp_path):
    folder = golden_folder_with(tmp_path, "bin")
    state = torch.load(GOLDEN / "weights" / "emage_vq" / "face" / "pytorch_model.bin", weights_only=True)
    del state["decoder.main.6.bias"]
    replace_file(folder, "emage_vq/face/pytorch_model.bin", lambda p: torch.save(state, p))
    with pytest.raises(UserError, match="decoder.main.6.bias' is missing"):
        load_weights(folder)


def test_pickle_with_code_is_refused_without_running_it(tmp_path):
    folder = golden_folder_with(tmp_path, "bin")
    replace_file(folder, "emage_vq/lower/pytorch_model.bin",
                 lambda p: torch.save({"decoder.main.0.model.0.weight": NotATensor()}, p))
    with pytest.raises(UserError) as exc:
        load_weights(folder)
    assert "not a plain tensor file" in one_line(exc)


def test_plain_pickle_that_is_not_a_state_dict(tmp_path):
    folder = golden_folder_with(tmp_path, "bin")
    replace_file(folder, "pytorch_model.bin", lambda p: torch.save([torch.zeros(3)], p))
    with pytest.raises(UserError, match="flat name → tensor state dict"):
        load_weights(folder)


def test_corrupt_safetensors(tmp_path):
    folder = golden_folder_with(tmp_path, "safetensors")
    replace_file(folder, "model.safetensors", lambda p: p.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}"))
    with pytest.raises(UserError, match="not a readable safetensors file"):
        load_weights(folder)


def test_mismatched_codebook_between_configs(tmp_path):
    folder = golden_folder_with(tmp_path, "bin")
    cfg = (GOLDEN / "weights" / "emage_vq" / "face" / "config.json").read_text()
    os.unlink(folder / "emage_vq" / "face" / "config.json")
    (folder / "emage_vq" / "face" / "config.json").write_text(cfg.replace('"vae_length": 64', '"vae_length": 32'))
    with pytest.raises(UserError, match="emage_vq/face has vae_length 32"):
        check_folder(folder)


def test_too_short_audio():
    with pytest.raises(UserError, match="too short for EMAGE"):
        plan_windows(4000, 64, 4)        # 0.25 s = 7 frames
    assert plan_windows(5000, 64, 4).n_out == 9   # 9 frames: one final window of 4 + 5
