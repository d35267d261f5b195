"""load_audio: every readable format, odd-but-valid input, seamless block resampling, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from backend.audio import io
from backend.audio.io import load_audio
from backend.errors import AudioError, UserError


def tone(rate: int, seconds: float = 1.0, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize("fmt,subtype,ext,tol", [
    ("WAV", "PCM_U8", "wav", 2e-2), ("WAV", "PCM_16", "wav", 1e-3), ("WAV", "PCM_24", "wav", 1e-3),
    ("WAV", "PCM_32", "wav", 1e-3), ("WAV", "FLOAT", "wav", 1e-3), ("WAV", "DOUBLE", "wav", 1e-3),
    ("FLAC", "PCM_16", "flac", 1e-3), ("OGG", "VORBIS", "ogg", 0.1), ("MP3", "MPEG_LAYER_III", "mp3", 0.1),
])
def test_formats_load_as_16k_mono(tmp_path, fmt, subtype, ext, tol):
    x = tone(22050)
    path = tmp_path / f"t.{ext}"
    sf.write(path, x, 22050, format=fmt, subtype=subtype)
    a = load_audio(path)
    assert a.sample_rate == 16000 and a.source_rate == 22050 and a.source_channels == 1
    assert a.samples.dtype == np.float32 and a.samples.ndim == 1
    assert abs(a.duration - 1.0) < 0.08           # mp3 adds encoder padding
    assert fmt in a.source_format
    ref = resample_poly(x, 320, 441)
    # compare RMS (codecs shift phase a little); the level must survive conversion
    mid = slice(2000, 12000)
    assert abs(np.sqrt(np.mean(a.samples[mid] ** 2)) - np.sqrt(np.mean(ref[mid] ** 2))) < tol


def test_format_names(tmp_path):
    sf.write(tmp_path / "a.wav", tone(16000), 16000, subtype="PCM_24")
    sf.write(tmp_path / "a.ogg", tone(16000), 16000, format="OGG", subtype="VORBIS")
    sf.write(tmp_path / "a.mp3", tone(16000), 16000, format="MP3")
    assert load_audio(tmp_path / "a.wav").source_format == "WAV PCM_24"
    assert load_audio(tmp_path / "a.ogg").source_format == "OGG VORBIS"
    assert load_audio(tmp_path / "a.mp3").source_format == "MP3"


def test_8k_and_48k_stereo(tmp_path):
    sf.write(tmp_path / "n.wav", tone(8000, 2.0), 8000)
    a = load_audio(tmp_path / "n.wav")
    assert a.source_rate == 8000 and len(a.samples) == 32000
    left = tone(48000, 2.0, 300.0)
    st = np.stack([left, -0.5 * left], axis=1)      # downmix = 0.25 * left
    sf.write(tmp_path / "s.wav", st, 48000, subtype="PCM_24")
    b = load_audio(tmp_path / "s.wav")
    assert b.source_channels == 2 and len(b.samples) == 32000
    assert abs(np.abs(b.samples[4000:28000]).max() - 0.125) < 0.01


def test_antialias_removes_content_above_8k(tmp_path):
    sf.write(tmp_path / "hi.wav", tone(48000, 1.0, 12000.0), 48000)   # would alias to 4 kHz
    a = load_audio(tmp_path / "hi.wav")
    assert np.sqrt(np.mean(a.samples[1000:-1000] ** 2)) < 1e-3


@pytest.mark.parametrize("rate", [22050, 44100, 48000, 8000, 11025])
def test_blockwise_resampling_has_no_seams(rate):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(rate * 2) * 0.1).astype(np.float32)
    r = io.make_resampler(rate)
    whole = r.resample(x)
    blocks = io.resample_blocks(lambda a, b: x[a:b], len(x), r, block=3000)
    assert blocks.shape == whole.shape
    assert np.max(np.abs(blocks - whole)) < 1e-6


def test_long_file_is_read_in_blocks_equal_to_whole(tmp_path, lj_clip, monkeypatch):
    monkeypatch.setattr(io, "BLOCK_SECONDS", 0.37)     # many blocks across a real clip
    a = load_audio(lj_clip)
    x, sr = sf.read(lj_clip, dtype="float32")
    ref = io.make_resampler(sr).resample(x)
    assert np.max(np.abs(a.samples - ref)) < 1e-6


def test_real_files(lj_clip, shared_dir):
    a = load_audio(lj_clip)
    assert a.source_rate == 22050 and 9 < a.duration < 10.5
    b = load_audio(shared_dir / "data/speech/librispeech/198-209-0000.ogg")
    assert b.source_format == "OGG VORBIS" and b.duration > 5


def test_odd_but_valid(tmp_path):
    rng = np.random.default_rng(1)
    cases = {
        "silence.wav": np.zeros(16000),
        "short.wav": tone(16000, 0.2),
        "noise.wav": rng.uniform(-0.5, 0.5, 16000),
        "dc.wav": tone(16000) * 0.3 + 0.5,
        "clip.wav": np.clip(tone(16000) * 4, -1, 1),
    }
    for name, x in cases.items():
        sf.write(tmp_path / name, x, 16000)
        a = load_audio(tmp_path / name)
        assert len(a.samples) == len(x) and np.isfinite(a.samples).all()


def bad(path, match):
    with pytest.raises(AudioError, match=match) as e:
        load_audio(path)
    assert isinstance(e.value, UserError) and e.value.exit_code == 2
    assert "\n" not in str(e.value)


def test_bad_inputs(tmp_path, lj_clip):
    bad(tmp_path / "nope.wav", "not found")
    bad(tmp_path, "folder")
    (tmp_path / "empty.wav").write_bytes(b"")
    bad(tmp_path / "empty.wav", "empty")
    (tmp_path / "text.wav").write_text("hello, this is not audio\n" * 50)
    bad(tmp_path / "text.wav", "cannot read")
    raw = lj_clip.read_bytes()
    (tmp_path / "half_header.wav").write_bytes(raw[:22])
    bad(tmp_path / "half_header.wav", "cannot read|no audio")
    sf.write(tmp_path / "zero.wav", np.zeros((0,)), 16000)
    bad(tmp_path / "zero.wav", "no audio")
    x = tone(16000)
    x[5000] = np.nan
    sf.write(tmp_path / "nan.wav", x, 16000, subtype="FLOAT")
    bad(tmp_path / "nan.wav", "NaN")
    x[5000] = np.inf
    sf.write(tmp_path / "inf.wav", x, 16000, subtype="DOUBLE")
    bad(tmp_path / "inf.wav", "NaN or infinite")


def test_truncated_data_loads_what_is_there(tmp_path, lj_clip):
    raw = lj_clip.read_bytes()
    (tmp_path / "cut.wav").write_bytes(raw[: len(raw) // 2])
    a = load_audio(tmp_path / "cut.wav")
    full = load_audio(lj_clip)
    n = len(a.samples)
    assert 0 < n <= len(full.samples)
    k = min(n, len(full.samples) // 2) - 1000     # the part that is present is intact
    assert np.max(np.abs(a.samples[1000:k] - full.samples[1000:k])) < 1e-4
