"""`generate --engine emage`: --raw reproduces the official output file; bad folders are one line, exit 2,
before any audio is analysed; the normal path writes Orator's usual outputs."""
from __future__ import annotations

import json
from pathlib import Path
import numpy as np
import pytest
import soundfile as sf
import torch

from backend.app.cli import main

from .conftest import ATOL_FACE_TRANS, ATOL_ROTATION, GOLDEN, golden_folder_with

RAW_CASES = {"synth4s": "input_synth4s.npy", "synth2p2s_edge": "input_synth2p2s_edge.npy",
             "synth2p65s_shortfinal": "input_synth2p65s_shortfinal.npy", "lj001_0001": "input_lj001_0001_16k.npy"}


def wav16k(tmp_path, case: str):
    path = tmp_path / f"{case}.wav"
    sf.write(path, np.load(GOLDEN / RAW_CASES[case]), 16000, subtype="FLOAT")
    return path


def test_16k_audio_passes_through_unresampled(tmp_path):
    from backend.audio.io import load_audio
    np.testing.assert_array_equal(load_audio(wav16k(tmp_path, "lj001_0001")).samples,
                                  np.load(GOLDEN / RAW_CASES["lj001_0001"]))


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_raw_reproduces_the_official_npz(tmp_path, case, capsys):
    out = tmp_path / "out"
    rc = main(["generate", str(wav16k(tmp_path, case)), "-o", str(out), "--engine", "emage",
               "--checkpoint", str(GOLDEN / "weights"), "--raw", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["raw"] and summary["takes"][0]["motion"] == str(out / "motion.npz")
    with np.load(out / "motion.npz", allow_pickle=False) as got, \
            np.load(GOLDEN / f"expected_{case}_output.npz", allow_pickle=False) as want:
        assert sorted(got.files) == sorted(want.files)
        assert got["poses"].shape == want["poses"].shape
        np.testing.assert_allclose(got["poses"], want["poses"], rtol=0, atol=ATOL_ROTATION)
        np.testing.assert_allclose(got["expressions"], want["expressions"], rtol=0, atol=ATOL_FACE_TRANS)
        np.testing.assert_allclose(got["trans"], want["trans"], rtol=0, atol=ATOL_FACE_TRANS)
        for key in ("betas", "model", "gender", "mocap_frame_rate"):
            np.testing.assert_array_equal(got[key], want[key])


class Result:
    def __init__(self, rc, err):
        self.returncode, self.stderr = rc, err


@pytest.fixture
def run_cli(capsys):
    """The CLI entry point in-process (a subprocess per call costs ~5 s of torch import here)."""
    def run(*args):
        capsys.readouterr()
        rc = main(list(args))
        return Result(rc, capsys.readouterr().err)
    return run


SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "LJ001-0001.wav"


def test_bad_folder_is_one_line_exit_2_before_the_audio(tmp_path, run_cli):
    """A real recording: the folder's problem is reported before the audio is analysed."""
    folder = golden_folder_with(tmp_path / "m", "bin")
    state = torch.load(GOLDEN / "weights" / "pytorch_model.bin", weights_only=True)
    state["face_out_proj.weight"] = state["face_out_proj.weight"].t().contiguous()
    (folder / "pytorch_model.bin").unlink()
    torch.save(state, folder / "pytorch_model.bin")
    for extra in ([], ["--raw"]):
        r = run_cli("generate", str(SAMPLE), "-o", str(tmp_path / "o"), "--engine", "emage",
                    "--checkpoint", str(folder), *extra)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "face_out_proj.weight" in lines[0] and "[96, 64]" in lines[0], r.stderr


def test_emage_options_are_checked(tmp_path, run_cli):
    r = run_cli("generate", "x.wav", "-o", str(tmp_path), "--engine", "emage")
    assert r.returncode == 2 and "--checkpoint DIR" in r.stderr
    r = run_cli("generate", "x.wav", "-o", str(tmp_path), "--raw")
    assert r.returncode == 2 and "need the EMAGE engine" in r.stderr
    r = run_cli("generate", "x.wav", "-o", str(tmp_path), "--engine", "emage", "--checkpoint",
                str(GOLDEN / "weights"), "--raw", "--takes", "2")
    assert r.returncode == 2 and "--takes 1" in r.stderr
