"""Inputs for the hostile-input suite: a 60 s real-speech file built from LJSpeech at test time."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="session")
def speech60(shared_dir, tmp_path_factory) -> Path:
    """60 s of conversational-length read speech (LJSpeech clips back to back), 22.05 kHz PCM_16."""
    parts, rate = [], 22050
    for path in sorted((shared_dir / "data" / "speech" / "ljspeech").glob("*.wav"))[:12]:
        x, rate = sf.read(str(path), dtype="float32")
        parts.append(x)
    x = np.concatenate(parts)
    while len(x) < 60 * rate:
        x = np.concatenate([x, x])
    out = tmp_path_factory.mktemp("speech") / "speech60.wav"
    sf.write(str(out), x[:60 * rate], rate, subtype="PCM_16")
    return out
