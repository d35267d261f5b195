"""train-body, generate --engine neural and evaluate through the real command line entry point."""
from __future__ import annotations

import math

import numpy as np
import torch

from backend.app.cli import main
from backend.engines.neural_body.infer import DEFAULT_CHECKPOINT
from backend.formats.motion_npz import read_motion_npz


def _check_motion(path, n_min: int) -> None:
    m = read_motion_npz(path)
    assert m.poses.shape[0] >= n_min and m.poses.shape[1:] == (55, 3)
    assert np.all(np.isfinite(m.poses)) and np.all(np.isfinite(m.trans))
    assert m.poses[:, 16:22].std(axis=0).mean() > 1e-3  # the arms move


def test_generate_with_shipped_checkpoint(lj_clip, tmp_path):
    assert DEFAULT_CHECKPOINT.is_file() and DEFAULT_CHECKPOINT.stat().st_size < 8.5e6
    assert main(["generate", str(lj_clip), "-o", str(tmp_path), "--engine", "neural", "-q"]) == 0
    _check_motion(tmp_path / "motion.npz", 280)


def test_generate_with_trained_checkpoint_and_takes(trained, lj_clip, tmp_path):
    assert main(["generate", str(lj_clip), "-o", str(tmp_path), "--engine", "neural", "--checkpoint",
                 str(trained[0]), "--takes", "2", "-q"]) == 0
    a, b = (read_motion_npz(tmp_path / f"take_{k}" / "motion.npz").poses for k in (1, 2))
    assert np.abs(a - b).mean() > 1e-3


def test_speaker_choice(trained, lj_clip, tmp_path, capsys):
    common = ["generate", str(lj_clip), "--engine", "neural", "--checkpoint", str(trained[0]), "-q"]
    assert main(common + ["-o", str(tmp_path / "default")]) == 0
    assert main(common + ["-o", str(tmp_path / "one"), "--speaker", "1"]) == 0  # the data's only speaker
    a, b = (read_motion_npz(tmp_path / d / "motion.npz").poses for d in ("default", "one"))
    np.testing.assert_array_equal(a, b)
    assert main(common + ["-o", str(tmp_path / "three"), "--speaker", "3"]) == 2
    assert "not trained on speaker 3: choose one of 1" in capsys.readouterr().err
    assert main(["generate", str(lj_clip), "-o", str(tmp_path / "x"), "--speaker", "1"]) == 2
    assert "--engine neural" in capsys.readouterr().err


def test_checkpoint_needs_neural_engine(trained, lj_clip, tmp_path, capsys):
    assert main(["generate", str(lj_clip), "-o", str(tmp_path), "--checkpoint", str(trained[0])]) == 2
    assert "--engine neural" in capsys.readouterr().err


def test_train_body_resumes(beat2_dir, tmp_path, capsys):
    out = tmp_path / "cli.pt"
    args = ["train-body", "--data", str(beat2_dir), "--config", "tiny", "--out", str(out), "--vq-steps", "4",
            "--batch", "4", "--threads", "1", "--log-every", "2"]
    assert main(args + ["--transformer-steps", "2"]) == 0
    assert main(args + ["--transformer-steps", "4", "--resume", "--ship", str(tmp_path / "ship.pt")]) == 0
    err = capsys.readouterr().err
    assert "resuming cli.pt at stage done" in err and "ETA" in err
    full = torch.load(out, weights_only=True)
    assert full["meta"]["transformer_steps_done"] == 4 and "optimizer" in full["train"]
    shipped = torch.load(tmp_path / "ship.pt", weights_only=True)
    assert "train" not in shipped and shipped["config"]["vq"]["codebook"] == 32


def test_evaluate_prints_metrics(beat2_dir, trained, capsys):
    assert main(["evaluate", str(beat2_dir), "--checkpoint", str(trained[0]), "--takes", "2",
                 "--fgd-steps", "20", "--json"]) == 0
    import json
    report = json.loads(capsys.readouterr().out)
    for engine in ("builtin", "neural"):
        scores = report["engines"][engine]
        for key in ("BC", "FGD", "FD_g", "FD_k", "L1div", "take_variance"):
            assert math.isfinite(scores[key]), (engine, key)
        assert 0.0 <= scores["BC"] <= 1.0
    assert report["real_halves"]["FD_g"] >= 0.0
    assert main(["evaluate", str(beat2_dir), "--engines", "builtin", "--fgd-steps", "5"]) == 0
    text = capsys.readouterr().out
    assert "BC" in text and "FGD" in text and "builtin" in text
