"""Broken and hostile user files: each is one line on stderr and exit 2, found before the analysis (issue 19).

Everything runs in-process on tiny inputs; nothing here analyses more than a second of audio.
"""
from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.app.cli import main
from backend.errors import UserError
from backend.vocabulary.rates import AUDIO_RATE as SR


def tone(seconds=1.0, rate=SR, peak=0.3):
    t = np.arange(int(seconds * rate)) / rate
    return (peak * np.sin(2 * np.pi * 150 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def wav(path, x, rate=SR, subtype="PCM_16"):
    sf.write(str(path), x, rate, subtype=subtype)
    return path


def wav_with_header_rate(path, rate):
    """A 16 kHz PCM wav whose header claims `rate` (bytes 24..31: sample rate and byte rate)."""
    wav(path, tone(2.0))
    data = bytearray(path.read_bytes())
    data[24:28] = struct.pack("<I", rate)
    data[28:32] = struct.pack("<I", rate * 2)
    path.write_bytes(bytes(data))
    return path


def npy_declaring(shape, dtype="<f4", payload=b"\0" * 64) -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    return code, err


def assert_one_line_user_error(code, err, *words):
    assert code == 2, err
    assert err.startswith("error: ") and "\n" not in err, err
    for word in words:
        assert word in err, err


@pytest.fixture
def clip(tmp_path):
    return wav(tmp_path / "clip.wav", tone())


# --- audio ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("rate,words", [(1, "sample rate is 1 Hz"), (44101, "unusual sample rate"),
                                        (2**31 - 1, "sample rate")])
def test_damaged_header_rates_fail_at_once(tmp_path, capsys, rate, words):
    path = wav_with_header_rate(tmp_path / "bad.wav", rate)
    code, err = run_cli(capsys, "generate", path, "-o", tmp_path / "o", "-q")
    assert_one_line_user_error(code, err, words)
    assert not (tmp_path / "o").exists()  # a failed input leaves no empty folder


@pytest.mark.parametrize("peak", [1e20, 1e30])
def test_float_wavs_with_absurd_peaks_are_refused(tmp_path, capsys, peak):
    x = tone()
    x[100] = peak
    code, err = run_cli(capsys, "generate", wav(tmp_path / "f.wav", x, subtype="FLOAT"), "-o", tmp_path / "o", "-q")
    assert_one_line_user_error(code, err, "full scale")


def test_float_wavs_above_full_scale_are_scaled_not_clipped(tmp_path):
    from backend.audio.io import load_audio
    x = tone(peak=0.5)
    path = wav(tmp_path / "loud.wav", 6 * x, subtype="FLOAT")
    audio = load_audio(path)
    assert audio.gain == pytest.approx(1 / 3, rel=0.02)
    assert np.abs(audio.samples).max() == pytest.approx(1.0, abs=1e-3)
    assert len(np.unique(np.round(audio.samples, 3))) > 100  # a waveform, not a clipped square


def test_tiny_and_undecodable_audio(tmp_path, capsys):
    code, err = run_cli(capsys, "generate", wav(tmp_path / "t.wav", tone(0.0005)), "-o", tmp_path / "o", "-q")
    assert_one_line_user_error(code, err, "ms long")
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    code, err = run_cli(capsys, "generate", junk, "-o", tmp_path / "o", "-q")
    assert_one_line_user_error(code, err, "not a known audio format")


# --- output folder and usage -----------------------------------------------------------------------

def test_output_folders_that_cannot_work(tmp_path, capsys, clip):
    code, err = run_cli(capsys, "generate", clip, "-o", "", "-q")
    assert_one_line_user_error(code, err, "output folder is empty")
    code, err = run_cli(capsys, "generate", clip, "-o", "/proc/1/orator-out", "-q")
    assert_one_line_user_error(code, err, "cannot write into output folder")
    (tmp_path / "file").write_text("x")
    code, err = run_cli(capsys, "generate", clip, "-o", tmp_path / "file", "-q")
    assert_one_line_user_error(code, err, "is a file")


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "a.wav", "-o", "o", "--emotion", "giddy"])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and "\n" not in err and "invalid choice" in err


# --- matrices, prompts, checkpoints ------------------------------------------------------------------

def test_bad_arkit_to_flame_matrices(tmp_path, capsys, clip):
    cases = {
        "huge.npy": (np.full((52, 100), 3e38, np.float32), "entries reach"),
        "text.npy": (np.full((52, 100), "a"), "real numbers"),
    }
    for name, (matrix, words) in cases.items():
        np.save(tmp_path / name, matrix)
        code, err = run_cli(capsys, "generate", clip, "-o", tmp_path / "o", "-q", "--arkit-to-flame", tmp_path / name)
        assert_one_line_user_error(code, err, words)
    (tmp_path / "bomb.npy").write_bytes(npy_declaring((10**12, 100)))
    code, err = run_cli(capsys, "generate", clip, "-o", tmp_path / "o", "-q", "--arkit-to-flame", tmp_path / "bomb.npy")
    assert_one_line_user_error(code, err, "declares shape")


def _prompts_arrays(k=1):
    return {"frames": np.arange(k, dtype=np.int64) * 5, "pose_mask": np.zeros((k, 55), bool),
            "poses": np.zeros((k, 55, 3), np.float32), "trans_mask": np.zeros(k, bool),
            "trans": np.zeros((k, 3), np.float32), "arkit_mask": np.ones((k, 52), bool),
            "arkit": np.full((k, 52), 0.5, np.float32)}


def test_a_prompts_npz_with_an_inflating_member_is_not_inflated(tmp_path):
    from backend.prompts import read_prompts
    path = tmp_path / "bomb.npz"
    np.savez(path, **_prompts_arrays())
    from backend.prompts import MAX_PROMPT_BYTES
    size = MAX_PROMPT_BYTES + (16 << 20)  # a real, complete member over the limit (the attack used 3 GiB)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("junk.npy", "w", force_zip64=True) as fh:
            fh.write(npy_declaring((size,), "|u1", b""))
            block = bytes(1 << 24)
            for _ in range(size >> 24):
                fh.write(block)
    assert path.stat().st_size < 2 << 20
    import resource
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(UserError, match="junk"):
        read_prompts(path)  # declared 3 GiB, over the per-array limit: refused from its header
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # kB


@pytest.mark.parametrize("change,words", [
    ({"frames": np.array([2**64 - 1], np.uint64)}, "beyond any audio"),
    ({"poses": np.full((1, 55, 3), 1e30, np.float32)}, "axis-angle"),
    ({"arkit": np.full((1, 52), 1.5, np.float32)}, "within 0..1"),
    ({"trans": np.full((1, 3), 1e9, np.float32)}, "metres"),
])
def test_silently_wrong_prompts_are_refused(tmp_path, change, words):
    from backend.prompts import read_prompts
    np.savez(tmp_path / "p.npz", **{**_prompts_arrays(), **change})
    with pytest.raises(UserError, match=words):
        read_prompts(tmp_path / "p.npz")


def test_prompt_files_of_the_wrong_kind(tmp_path):
    from backend.prompts import read_prompts
    np.save(tmp_path / "single.npy", np.zeros(3))
    os.replace(tmp_path / "single.npy", tmp_path / "single.npz")
    with pytest.raises(UserError, match="single .npy array"):
        read_prompts(tmp_path / "single.npz")


def test_unused_prompt_rows_past_the_end_are_ignored():
    from backend.prompts import prompts_from_arrays
    arrays = _prompts_arrays(2)
    arrays["arkit_mask"][1] = False
    arrays["frames"] = np.array([3, 500])
    dense = prompts_from_arrays(arrays).dense(100)  # used to be an IndexError
    assert dense.arkit_mask[3].all() and dense.arkit_mask.sum() == 52


def test_right_tagged_checkpoints_with_bad_content_fail_before_the_analysis(tmp_path, capsys, clip):
    import torch
    good = torch.load(Path(__file__).resolve().parents[2] / "backend/checkpoints/body_small.pt", weights_only=True)
    transformer = dict(good["config"]["transformer"], hidden=10**9)
    # each value within limits, together 1.8e9 weights (7 GB): refused from the meta-device size
    combined = dict(good["config"]["transformer"], hidden=8192)
    cases = {"noconfig": ({k: v for k, v in good.items() if k != "config"}, "damaged contents"),
             "badtype": ({**good, "config": {**good["config"], "window": "abc"}}, "config.window"),
             "huge": ({**good, "config": {**good["config"], "transformer": transformer}}, "out of range"),
             "combined": ({**good, "config": {**good["config"], "transformer": combined}}, "describes"),
             "weights": ({**good, "model": {"x": torch.zeros(3)}}, "describes")}
    for name, (payload, words) in cases.items():
        torch.save(payload, tmp_path / f"{name}.pt")
        code, err = run_cli(capsys, "generate", clip, "-o", tmp_path / "o", "-q", "--engine", "neural",
                            "--checkpoint", tmp_path / f"{name}.pt")
        assert_one_line_user_error(code, err, words)


# --- rig files -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key,value,words", [
    ("v_template", np.nan, "NaN"), ("weights", np.inf, "NaN"), ("f", 10**9, "face indices"),
    ("v_template", 1j, "real numbers"),
])
def test_smplx_files_with_bad_values(tmp_path, key, value, words):
    from rigs.smplx_model import load_smplx_model, write_synthetic_smplx
    good = tmp_path / "good.npz"
    write_synthetic_smplx(good, np.random.default_rng(0), num_shape_dirs=20)
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    a = arrays[key].astype(np.complex128) if isinstance(value, complex) else arrays[key].copy()
    a.flat[0] = value
    arrays[key] = a
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(UserError, match=words):
        load_smplx_model(tmp_path / "bad.npz")


def test_flame_files_with_bad_values_and_huge_sparse_matrices(tmp_path):
    import pickle

    import scipy.sparse

    from rigs.flame_model import load_flame_model, synthetic_flame_arrays
    arrays = synthetic_flame_arrays(np.random.default_rng(0))
    arrays["v_template"] = arrays["v_template"].copy()
    arrays["v_template"][0, 0] = np.nan
    (tmp_path / "nan.pkl").write_bytes(pickle.dumps(arrays, protocol=2))
    with pytest.raises(UserError, match="NaN"):
        load_flame_model(tmp_path / "nan.pkl")
    arrays = synthetic_flame_arrays(np.random.default_rng(0))
    arrays["J_regressor"] = scipy.sparse.csc_matrix((10**6, 10**6))
    (tmp_path / "sparse.pkl").write_bytes(pickle.dumps(arrays))
    with pytest.raises(UserError, match="sparse matrix"):
        load_flame_model(tmp_path / "sparse.pkl")


# --- outputs -------------------------------------------------------------------------------------------

def test_non_finite_takes_are_never_written(tmp_path):
    from backend.performance import Performance
    from backend.generation.pipeline import check_finite
    perf = Performance(poses=np.zeros((3, 55, 3), np.float32), trans=np.zeros((3, 3), np.float32),
                       arkit=np.zeros((3, 52), np.float32), meta={"take": 1})
    check_finite(perf, None)
    perf.poses[1, 2, 0] = np.nan
    with pytest.raises(FloatingPointError, match="poses"):
        check_finite(perf, None)


def test_rerunning_generate_replaces_the_whole_previous_result(tmp_path, clip):
    from backend.options import GenerateOptions
    from backend.generation.pipeline import run_generate
    out = tmp_path / "o"
    run_generate(clip, out, GenerateOptions(takes=3, language="other"))
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "take_1", "take_2", "take_3"]
    (out / ".motion-stale.npz").write_bytes(b"")  # what a kill -9 during a write leaves
    (out / "notes.txt").write_text("mine")
    summary = run_generate(clip, out, GenerateOptions(takes=1, language="other"))
    assert sorted(p.name for p in out.iterdir()) == ["face_arkit.csv", "motion.npz", "notes.txt", "summary.json"]
    assert len(summary.takes) == 1 and summary.output_dir == str(out)
    mode = (out / "motion.npz").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
