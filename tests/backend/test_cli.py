"""`python -m backend generate` end to end on real speech, and its one-line errors with exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.app.cli import main
from backend.app.crash_log import write_crash_log
from backend.formats.livelink_csv import read_livelink_csv
from backend.formats.motion_npz import read_motion_npz
from backend.vocabulary.face import ARKIT_INDEX

from .audio_fixtures import speechlike, write_wav

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "backend", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def generated(tmp_path_factory, lj_clip, lj_transcripts):
    out = tmp_path_factory.mktemp("gen")
    proc = run_cli("generate", lj_clip, "-o", out, "--transcript", lj_transcripts["LJ001-0001"],
                   "--json", "--bvh", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(proc.stdout)


def test_generate_writes_standard_files(generated):
    out, summary = generated
    assert summary["phone_source"] == "transcript" and summary["phone_count"] > 50
    take = summary["takes"][0]
    motion = read_motion_npz(take["motion"])
    raw = np.load(take["motion"], allow_pickle=False)
    assert set(raw.files) >= {"poses", "trans", "expressions", "betas", "gender", "mocap_frame_rate",
                              "model", "arkit", "arkit_names"}
    assert motion.n_frames == summary["frames"] == round(summary["seconds"] * 30)
    assert motion.fps == 30 and motion.model == "smplx2020"
    assert np.all(motion.expressions == 0), "no ARKit→FLAME mapping given"
    curves = read_livelink_csv(take["face_csv"])
    assert curves.arkit.shape == (motion.n_frames, 52)
    np.testing.assert_allclose(curves.arkit, motion.arkit, atol=1e-5)
    assert Path(take["bvh"]).read_text().startswith("HIERARCHY")
    assert json.loads((out / "summary.json").read_text())["frames"] == summary["frames"]


def test_jaw_and_eyes_follow_the_face(generated):
    motion = read_motion_npz(generated[1]["takes"][0]["motion"])
    jaw_open = motion.arkit[:, ARKIT_INDEX["jawOpen"]]
    assert np.corrcoef(motion.poses[:, 22, 0], jaw_open)[0, 1] > 0.99
    look_out = motion.arkit[:, ARKIT_INDEX["eyeLookOutLeft"]] - motion.arkit[:, ARKIT_INDEX["eyeLookInLeft"]]
    if np.ptp(look_out) > 0.01:
        assert np.corrcoef(motion.poses[:, 23, 1], look_out)[0, 1] > 0.99


def test_same_seed_same_output_and_takes_differ(tmp_path, lj_clip):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["generate", str(lj_clip), "-o", str(a), "--seed", "3", "--takes", "2", "-q"]) == 0
    assert main(["generate", str(lj_clip), "-o", str(b), "--seed", "3", "--takes", "2", "-q"]) == 0
    for k in (1, 2):
        ma, mb = read_motion_npz(a / f"take_{k}/motion.npz"), read_motion_npz(b / f"take_{k}/motion.npz")
        np.testing.assert_array_equal(ma.poses, mb.poses)
        np.testing.assert_array_equal(ma.arkit, mb.arkit)
    t1, t2 = read_motion_npz(a / "take_1/motion.npz"), read_motion_npz(a / "take_2/motion.npz")
    upper = [16, 17, 18, 19, 20, 21]
    assert np.mean(np.abs(t1.poses[:, upper] - t2.poses[:, upper])) > 0.05, "takes must differ clearly"


def test_arkit_to_flame_mapping_fills_expressions(tmp_path, lj_clip):
    matrix = np.random.default_rng(0).normal(size=(52, 100)).astype(np.float32)
    np.save(tmp_path / "map.npy", matrix)
    assert main(["generate", str(lj_clip), "-o", str(tmp_path / "o"), "--arkit-to-flame",
                 str(tmp_path / "map.npy"), "-q"]) == 0
    motion = read_motion_npz(tmp_path / "o" / "motion.npz")
    np.testing.assert_allclose(motion.expressions, motion.arkit @ matrix, atol=1e-4)


@pytest.mark.parametrize("kind", ["silence", "short", "noise", "8k", "48k_stereo"])
def test_odd_but_valid_audio_still_generates(tmp_path, kind):
    rng = np.random.default_rng(1)
    if kind == "silence":
        path = write_wav(tmp_path / "a.wav", np.zeros(16000 * 3, np.float32), 16000)
    elif kind == "short":
        path = write_wav(tmp_path / "a.wav", speechlike(0.2), 16000)
    elif kind == "noise":
        path = write_wav(tmp_path / "a.wav", (rng.normal(size=16000 * 3) * 0.2).astype(np.float32), 16000)
    elif kind == "8k":
        path = write_wav(tmp_path / "a.wav", speechlike(3, 8000), 8000)
    else:
        mono = speechlike(3, 48000)
        path = write_wav(tmp_path / "a.flac", np.stack([mono, 0.5 * mono], axis=1), 48000, "PCM_24")
    assert main(["generate", str(path), "-o", str(tmp_path / "o"), "-q"]) == 0
    motion = read_motion_npz(tmp_path / "o" / "motion.npz")
    duration = sf.info(str(path)).duration
    assert motion.n_frames == max(1, round(duration * 30))
    assert np.all(np.isfinite(motion.poses)) and np.all((motion.arkit >= 0) & (motion.arkit <= 1))


def write_bad_inputs(tmp_path: Path, lj_clip: Path) -> dict[str, list[str]]:
    """name → CLI arguments that must fail with exit code 2 and one line."""
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("this is not audio\n" * 20)
    data = lj_clip.read_bytes()
    (tmp_path / "truncated.wav").write_bytes(data[:30])
    (tmp_path / "dir.wav").mkdir()
    (tmp_path / "bad_map.npy").write_bytes(b"nope")
    np.save(tmp_path / "wrong_map.npy", np.zeros((52, 3)))
    (tmp_path / "a_file").write_text("x")
    out = str(tmp_path / "out")
    clip = str(lj_clip)
    return {
        "missing": ["generate", str(tmp_path / "nope.wav"), "-o", out],
        "empty": ["generate", str(tmp_path / "empty.wav"), "-o", out],
        "not_audio": ["generate", str(tmp_path / "text.wav"), "-o", out],
        "truncated": ["generate", str(tmp_path / "truncated.wav"), "-o", out],
        "directory": ["generate", str(tmp_path / "dir.wav"), "-o", out],
        "intensity": ["generate", clip, "-o", out, "--intensity", "1.5"],
        "takes": ["generate", clip, "-o", out, "--takes", "0"],
        "engine": ["generate", clip, "-o", out, "--engine", "magic"],
        "empty_transcript": ["generate", clip, "-o", out, "--transcript", "  "],
        "transcript_file": ["generate", clip, "-o", out, "--transcript-file", str(tmp_path / "none.txt")],
        "map_missing": ["generate", clip, "-o", out, "--arkit-to-flame", str(tmp_path / "none.npy")],
        "map_garbage": ["generate", clip, "-o", out, "--arkit-to-flame", str(tmp_path / "bad_map.npy")],
        "map_shape": ["generate", clip, "-o", out, "--arkit-to-flame", str(tmp_path / "wrong_map.npy")],
        "output_is_file": ["generate", clip, "-o", str(tmp_path / "a_file")],
        "batch_missing_dir": ["batch", str(tmp_path / "nowhere"), "-o", out],
    }


def test_bad_input_gives_one_line_and_exit_2(tmp_path, lj_clip, capsys):
    for name, args in write_bad_inputs(tmp_path, lj_clip).items():
        code = main(args + ["-q"] if args[0] == "generate" else args)
        err = capsys.readouterr().err.strip()
        assert code == 2, f"{name}: exit {code}, stderr {err!r}"
        assert err.startswith("error: ") and "\n" not in err, f"{name}: {err!r}"
        assert "Traceback" not in err
    assert not (tmp_path / "out" / "motion.npz").exists(), "nothing half-written"


def test_usage_errors_exit_2_from_a_real_process(lj_clip, tmp_path):
    proc = run_cli("generate", lj_clip, "-o", tmp_path, "--emotion", "bored")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = run_cli("generate", tmp_path / "missing.wav", "-o", tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("error:")


def test_crash_log_keeps_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("ORATOR_LOG_DIR", str(tmp_path))
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        path = write_crash_log(exc)
    text = path.read_text()
    assert path.parent == tmp_path and "Traceback" in text and "RuntimeError: boom" in text


def test_info_reports_versions_and_engines():
    proc = run_cli("info", "--json")
    assert proc.returncode == 0
    info = json.loads(proc.stdout)
    assert info["orator"] and info["device"].startswith(("cpu", "cuda"))
    assert "builtin" in info["body_engines"] and info["torch"].startswith("2.")


@pytest.mark.parametrize("command", [
    ["train-face", "--out", "{tmp}/face.pt"],
    ["train-body", "--out", "{tmp}/body.pt"],
    ["personalize", "--audio", "{tmp}/a.wav", "--reference", "{tmp}/r.csv", "-o", "{tmp}/s.orstyle"],
])
def test_training_commands_follow_the_one_device_rule(command, tmp_path, capsys):
    """train-face, train-body and personalize resolve --device with engines/device.py like generate does:
    CUDA asked for on a machine without it is one line and exit 2, before any data is read."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the answer of a machine without CUDA")
    code = main([part.format(tmp=tmp_path) for part in command] + ["--device", "cuda"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no CUDA GPU is available" in err[0], err
