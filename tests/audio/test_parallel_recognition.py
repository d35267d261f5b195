"""Long recordings decode their second half in a forked process: same answer every time, cancel kills it."""
from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from backend.audio import analyze_speech, load_audio
from backend.audio import recognition
from backend.errors import Cancelled
from backend.progress import JobControl


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory, shared_dir):
    """≈ 45 s of real speech: LJSpeech clips joined with pauses, so recognition splits into chunks."""
    parts = []
    for path in sorted((shared_dir / "data" / "speech" / "ljspeech").glob("*.wav"))[:6]:
        data, rate = sf.read(str(path), dtype="float32")
        parts += [resample_poly(data, 160, rate // 100), np.zeros(8000, np.float32)]
    out = tmp_path_factory.mktemp("long") / "speech.wav"
    sf.write(str(out), np.concatenate(parts), 16000)
    return load_audio(out)


@pytest.mark.slow  # three recognitions of the long speech (13 s)
def test_parallel_recognition_is_deterministic_and_close_to_serial(long_speech, monkeypatch):
    assert long_speech.duration > recognition.PARALLEL_MIN_S
    a = analyze_speech(long_speech, None, "en")
    b = analyze_speech(long_speech, None, "en")
    assert a.phones == b.phones and a.phone_source == "recognized"
    monkeypatch.setattr(recognition, "PARALLEL_MIN_S", 1e9)
    serial = analyze_speech(long_speech, None, "en")
    # the child starts from the primed cepstral mean instead of the first half's: phones may differ a little
    assert abs(len(a.phones) - len(serial.phones)) <= 0.05 * len(serial.phones)
    real = [p for p in a.phones if p.label != "SIL"]
    assert real[-1].end > long_speech.duration - 3.0, "the second half was decoded"


def child_pids() -> set[int]:
    """This process's children, zombies included, from /proc."""
    me, out = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                out.add(int(entry))
    return out


def test_cancel_during_parallel_recognition_leaves_no_child(long_speech):
    before = child_pids()
    control = JobControl()
    stages = []

    def on_progress(fraction, stage):
        stages.append(stage)
        if stage.startswith("recognising"):
            control.cancel_event.set()

    control.on_progress = on_progress
    with pytest.raises(Cancelled):
        analyze_speech(long_speech, None, "en", control)
    first = next(i for i, s in enumerate(stages) if s.startswith("recognising"))
    assert all(s.startswith("recognising") for s in stages[first:]), stages  # stopped inside recognition
    assert child_pids() == before, "no decoder child left behind, not even a zombie"
