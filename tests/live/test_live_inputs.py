"""Bad and unusual live input: no microphone, malformed formats, stalls that recover, stray bytes, NaNs,
other sample rates; the OSC/VMC encoding read back."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def _live(*args, **kw):
    return subprocess.run([sys.executable, "-m", "backend", "live", *args], capture_output=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300, **kw)


@pytest.fixture(scope="module")
def clip(shared_dir):
    from backend.audio import load_audio

    return load_audio(shared_dir / "data" / "speech" / "ljspeech" / "LJ001-0002.wav").samples  # 1.9 s


def _frames(stdout: bytes):
    return [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]


def test_no_microphone_is_one_actionable_line():
    """This machine has no PortAudio (or, where it has, no input device): either way one line, exit 2."""
    out = _live()
    err = out.stderr.decode().strip()
    assert out.returncode == 2 and "\n" not in err and err.startswith("error: ")
    assert "microphone" in err and ("--input" in err or "--device" in err)
    assert out.stdout == b""


@pytest.mark.parametrize("spec", ["s16le", "wav:16000", "s16le:fast", "s16le:4000", "s16be:16000"])
def test_bad_stdin_format_is_one_line(spec):
    out = _live("--stdin-format", spec, input=b"")
    err = out.stderr.decode().strip()
    assert out.returncode == 2 and "\n" not in err and "--stdin-format" in err


def test_bad_option_combinations_are_one_line(tmp_path):
    for args in (["--realtime"], ["--input", str(tmp_path / "missing.wav")],
                 ["--stdin-format", "s16le:16000", "--livelink", "no-port"],
                 ["--stdin-format", "s16le:16000", "--livelink", "no-such-host.invalid:11111"]):
        out = _live(*args, input=b"")
        err = out.stderr.decode().strip()
        assert out.returncode == 2 and "\n" not in err and err.startswith("error: "), (args, err)


def test_stalled_stdin_is_reported_and_the_stream_recovers(clip, tmp_path):
    pcm = (clip * 32767).round().astype("<i2").tobytes()
    out_file, err_file = open(tmp_path / "out", "w+b"), open(tmp_path / "err", "w+b")
    proc = subprocess.Popen([sys.executable, "-m", "backend", "live", "--stdin-format", "s16le:16000"],
                            stdin=subprocess.PIPE, stdout=out_file, stderr=err_file, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    proc.stdin.write(pcm); proc.stdin.flush()
    deadline = time.monotonic() + 120
    while (tmp_path / "out").read_bytes().count(b"\n") < 40 and time.monotonic() < deadline:
        time.sleep(0.05)                                    # the first part is being streamed
    time.sleep(1.5)                                         # then the sender stalls
    proc.stdin.write(pcm[:len(pcm) // 2 * 2 - 1])           # returns, and ends inside a sample
    proc.stdin.close()
    proc.wait(timeout=300)
    out = (tmp_path / "out").read_bytes()
    err = (tmp_path / "err").read_text()
    assert proc.returncode == 0, err
    assert "input stalled" in err and "input resumed" in err and "stray bytes dropped" in err
    frames = _frames(out)
    total = (2 * len(pcm) - 1) // 2 / 16000
    assert abs(len(frames) - (total - 0.08) * 30) <= 2      # every sample before and after the stall is used
    assert [f["frame"] for f in frames] == list(range(len(frames)))


def test_non_finite_float_samples_become_silence(clip):
    x = clip.copy()
    x[4000:4100] = np.nan
    out = _live("--stdin-format", "f32le:16000", input=x.astype("<f4").tobytes())
    assert out.returncode == 0, out.stderr
    assert "non-finite samples" in out.stderr.decode()
    frames = _frames(out.stdout)
    assert len(frames) >= 50 and np.isfinite([f["weights"] for f in frames]).all()


def test_48khz_stdin_is_resampled_like_a_file(clip):
    from backend.audio.io import make_resampler

    x48 = make_resampler(16000, 48000).resample(clip)
    out48 = _live("--stdin-format", "s16le:48000", "--no-recognition", input=(x48 * 32767).round().astype("<i2").tobytes())
    out16 = _live("--stdin-format", "s16le:16000", "--no-recognition", input=(clip * 32767).round().astype("<i2").tobytes())
    assert out48.returncode == 0 and out16.returncode == 0
    a, b = _frames(out48.stdout), _frames(out16.stdout)
    assert abs(len(a) - len(b)) <= 1
    n = min(len(a), len(b))
    jaw48 = np.array([f["weights"][17] for f in a[:n]])
    jaw16 = np.array([f["weights"][17] for f in b[:n]])
    print("jaw correlation 48 kHz vs 16 kHz", np.corrcoef(jaw48, jaw16)[0, 1])
    assert np.corrcoef(jaw48, jaw16)[0, 1] > 0.95  # (the recogniser, on, may hear other words: 0.89)


def test_stream_resampler_equals_whole_signal_resampling():
    from backend.audio.io import make_resampler
    from backend.live.sources import StreamResampler

    rng = np.random.default_rng(0)
    for rate in (44100, 48000, 22050, 8000):
        x = (0.1 * rng.standard_normal(rate)).astype(np.float32)
        r, pieces, i = StreamResampler(rate), [], 0
        while i < len(x):
            n = int(rng.integers(1, 3000))
            pieces.append(r.push(x[i:i + n]))
            i += n
        y = np.concatenate(pieces)
        whole = make_resampler(rate, 16000).resample(x)
        held = 2 * r.r.context * 16000 / rate + 1               # only the filter's context (≤ 2 × 20 ms at
        assert len(whole) - len(y) <= held                       # 22.05 kHz, 1.4 ms at 48 kHz) is held back
        np.testing.assert_allclose(y, whole[:len(y)], atol=1e-6)


def test_vmc_osc_bundle_reads_back():
    from backend.vocabulary.face import ARKIT_NAMES
    from backend.live.face import LiveFrame
    from backend.live.outputs import encode_vmc, head_quaternion, parse_osc

    w = np.linspace(0, 1, 52).astype(np.float32)
    frame = LiveFrame(3, 0.1, w, np.array([0.1, -0.2, 0.05], np.float32), np.zeros((2, 2)))
    msgs = parse_osc(encode_vmc(frame))
    vals = {args[0]: args[1] for addr, args in msgs if addr == "/VMC/Ext/Blend/Val"}
    assert list(vals) == list(ARKIT_NAMES)
    np.testing.assert_allclose([vals[n] for n in ARKIT_NAMES], w, atol=1e-6)
    head = next(args for addr, args in msgs if addr == "/VMC/Ext/Bone/Pos")
    assert head[0] == "Head" and np.linalg.norm(head[4:]) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(head[4:], head_quaternion(frame.head), atol=1e-6)
    assert msgs[-1][0] == "/VMC/Ext/Blend/Apply"


def test_livelink_decoder_refuses_malformed_packets():
    from backend.live.face import LiveFrame
    from backend.live.outputs import decode_livelink, encode_livelink

    frame = LiveFrame(7, 7 / 30, np.full(52, 0.25, np.float32), np.zeros(3, np.float32), np.zeros((2, 2)))
    packet = encode_livelink(frame, "Subj", "dev-1")
    d = decode_livelink(packet)
    assert d["frame"] == 7 and d["subject"] == "Subj" and d["device_id"] == "dev-1"
    for bad in (packet[:-1], packet + b"\0", b"", packet[:10]):
        with pytest.raises(ValueError):
            decode_livelink(bad)


def test_a_starved_stream_pauses_recognition_and_resumes(clip, capsys):
    """Blocks that arrive 1 s late (a process starved of CPU) pause word recognition with one line; once
    blocks are fresh again it resumes; every frame is still made."""
    from backend.live.stream import run_stream

    x = np.concatenate([clip, clip, clip])

    def source():
        for i in range(0, len(x), 320):
            late = 1.0 if len(clip) <= i < 2 * len(clip) else 0.0
            yield x[i:i + 320], time.monotonic() - late

    frames = [f for f, _ in run_stream(source())]
    err = capsys.readouterr().err
    assert err.count("falling behind real time") == 1 and err.count("caught up with real time") == 1
    assert [f.index for f in frames] == list(range(len(frames)))
    assert abs(len(frames) - (len(x) / 16000 - 0.08) * 30) <= 2


def test_closing_stdin_ends_a_recording_with_a_take(shared_dir, tmp_path):
    """How the add-on stops Live Record: it closes the child's stdin; the child ends the stream, writes the
    take of what it heard so far and exits 0."""
    wav = shared_dir / "data" / "speech" / "ljspeech" / "LJ001-0001.wav"   # 9.7 s
    out_file = open(tmp_path / "out", "w+b")
    proc = subprocess.Popen([sys.executable, "-m", "backend", "live", "--input", str(wav), "--realtime",
                             "--until-stdin-closes", "--record", str(tmp_path / "take")],
                            stdin=subprocess.PIPE, stdout=out_file, stderr=subprocess.PIPE, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 120
    while (tmp_path / "out").read_bytes().count(b"\n") < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.stdin.close()
    proc.wait(timeout=300)
    err = proc.stderr.read().decode()
    assert proc.returncode == 0, err
    n = len(_frames((tmp_path / "out").read_bytes()))
    assert 60 <= n < 250                                     # stopped early, not at the file's end (288)
    from backend.formats.motion_npz import read_motion_npz

    motion = read_motion_npz(tmp_path / "take" / "motion.npz")
    assert abs(motion.arkit.shape[0] - n) <= 3 and "recorded take" in err
