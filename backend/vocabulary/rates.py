"""Sampling rates: the one place they are defined."""
from __future__ import annotations

MOTION_FPS = 30      # every motion array the backend makes or reads (BEAT2's rate, EMAGE's framing)
AUDIO_RATE = 16000   # every waveform the analysis and the engines see (mono float32; audio.io resamples to it)
