"""Audio sources for the live stream: blocks of 16 kHz mono float32 with the wall time they arrived.

Each source yields (samples, arrival) where `arrival` is time.monotonic() at which the block's last sample
was available; a source whose input stalls says so once on stderr and carries on when input returns.
"""
from __future__ import annotations

import os
import queue
import select
import sys
import time
from typing import Iterator

import numpy as np

from ..errors import UserError
from ..vocabulary.rates import AUDIO_RATE as SR

BLOCK = 320                      # 20 ms: the latency floor a block adds
STALL_S = 0.5                    # no input this long → one line on stderr


class StreamResampler:
    """Block-wise resampling to 16 kHz of an endless stream, equal to resampling it whole (the overlap/discard
    of backend/audio/io.resample_blocks kept across pushes). Holds back the filter's context and the rest of a
    `down`-sample step: up to 40 ms at 22.05/44.1 kHz (down = 441), 1.4 ms at 48 kHz — prefer 48 or 16 kHz."""

    def __init__(self, rate: int) -> None:
        from ..audio.io import make_resampler

        self.r = make_resampler(int(rate), SR)
        self._buf = np.zeros(0, np.float32)
        self._pos = 0        # input index of _buf[0]
        self._next = 0       # next input index to produce output from (a multiple of `down`)

    def push(self, x: np.ndarray) -> np.ndarray:
        r = self.r
        if r.up == r.down:
            return np.asarray(x, np.float32)
        self._buf = np.concatenate([self._buf, np.asarray(x, np.float32)])
        ctx, end = r.context, self._pos + len(self._buf)
        b = (end - ctx) // r.down * r.down
        if b <= self._next:
            return np.zeros(0, np.float32)
        lo = max(0, self._next - ctx)
        y = r.resample(self._buf[lo - self._pos:b + ctx - self._pos])
        first = (self._next - lo) * r.up // r.down
        out = y[first:first + (b - self._next) * r.up // r.down]
        self._next = b
        keep = max(0, b - ctx)
        self._buf = self._buf[keep - self._pos:]
        self._pos = keep
        return out


def note(message: str) -> None:
    print(f"live: {message}", file=sys.stderr, flush=True)


def file_source(path: str, realtime: bool) -> Iterator[tuple[np.ndarray, float]]:
    """A recording played in BLOCK pieces, at real-time pace when `realtime` (else as fast as it is read)."""
    from ..audio import load_audio

    x = load_audio(path).samples
    start = time.monotonic()
    for i in range(0, len(x), BLOCK):
        block = x[i:i + BLOCK]
        if realtime:
            due = start + (i + len(block)) / SR
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield block, due
        else:
            yield block, time.monotonic()


_FORMATS = {"s16le": ("<i2", 32768.0), "f32le": ("<f4", 1.0)}


def parse_stdin_format(spec: str) -> tuple[str, int]:
    """'s16le:16000' → ('s16le', 16000); one-line UserError otherwise."""
    name, _, rate = spec.partition(":")
    if name not in _FORMATS or not rate.isdigit():
        raise UserError(f"--stdin-format {spec!r}: expected FORMAT:RATE with FORMAT one of "
                        f"{', '.join(_FORMATS)} (mono, little-endian), e.g. s16le:16000")
    if not 8000 <= int(rate) <= 192000:
        raise UserError(f"--stdin-format {spec!r}: sample rate must be 8000..192000 Hz")
    return name, int(rate)


def stdin_source(spec: str, stream=None) -> Iterator[tuple[np.ndarray, float]]:
    """Raw mono PCM from stdin (or `stream`, a binary file with fileno). Ends at EOF."""
    name, rate = parse_stdin_format(spec)
    dtype, scale = _FORMATS[name]
    resampler = StreamResampler(rate)
    width = np.dtype(dtype).itemsize
    fd = (stream or sys.stdin.buffer).fileno()
    pending = b""
    stalled_since = None
    last = time.monotonic()
    while True:
        ready, _, _ = select.select([fd], [], [], STALL_S)
        now = time.monotonic()
        if not ready:
            if stalled_since is None and now - last >= STALL_S:
                stalled_since = last
                note(f"input stalled (no audio for {STALL_S:.1f} s); waiting for it to return")
            continue
        data = os.read(fd, BLOCK * width * 4)
        if not data:
            if len(pending):
                note(f"input ended inside a sample ({len(pending)} stray bytes dropped)")
            return
        if stalled_since is not None:
            note(f"input resumed after {now - stalled_since:.1f} s")
            stalled_since = None
        last = now
        pending += data
        usable = len(pending) - len(pending) % width
        if usable == 0:
            continue
        x = np.frombuffer(pending[:usable], dtype).astype(np.float32) / scale
        pending = pending[usable:]
        if not np.isfinite(x).all():
            note("non-finite samples in the input replaced by silence (is --stdin-format right?)")
            x = np.where(np.isfinite(x), x, 0.0).astype(np.float32)
        x = resampler.push(np.clip(x, -1.0, 1.0))
        if len(x):
            yield x, now


def _sounddevice():
    try:
        import sounddevice
    except OSError as exc:          # the module is there, the PortAudio library is not
        raise UserError("no microphone access: the PortAudio library is missing (Debian/Ubuntu: apt install "
                        "libportaudio2); use --input FILE or --stdin-format instead") from exc
    except ImportError as exc:
        raise UserError("no microphone access: the Python package sounddevice is not installed "
                        "(pip install sounddevice); use --input FILE or --stdin-format instead") from exc
    return sounddevice


def microphone_source(device: str | None = None) -> Iterator[tuple[np.ndarray, float]]:
    """The default (or named) input device at 16 kHz mono; reopens it when it goes away."""
    sd = _sounddevice()
    if device is not None and str(device).isdigit():
        device = int(device)          # `--device 3`: an index, as `python -m sounddevice` lists them
    try:
        info = sd.query_devices(device, kind="input")
    except (ValueError, sd.PortAudioError) as exc:
        raise UserError(f"no microphone: {exc} (list devices with `python -m sounddevice`; pick one with "
                        f"--device NAME)") from exc
    blocks: queue.Queue = queue.Queue(maxsize=200)

    def callback(indata, frames, _time, status):
        try:
            blocks.put_nowait((indata[:, 0].copy(), time.monotonic()))
        except queue.Full:
            pass

    rate = SR
    try:
        sd.check_input_settings(device, channels=1, dtype="float32", samplerate=SR)
    except (ValueError, sd.PortAudioError):
        rate = int(info["default_samplerate"])   # no 16 kHz mode: take the device's own and resample here
    resampler = StreamResampler(rate)

    def open_stream():
        s = sd.InputStream(samplerate=rate, channels=1, dtype="float32", blocksize=BLOCK * rate // SR,
                           device=device, callback=callback)
        s.start()
        return s

    try:
        stream = open_stream()
    except sd.PortAudioError as exc:
        raise UserError(f"cannot open the microphone {info['name']!r}: {exc} (busy in another program? close "
                        f"it or pick another with --device)") from exc
    note(f"listening on {info['name']!r}")
    try:
        while True:
            try:
                block, arrival = blocks.get(timeout=STALL_S)
                block = resampler.push(block)
                if len(block):
                    yield block, arrival
            except queue.Empty:
                note(f"microphone stalled (no audio for {STALL_S:.1f} s); reopening")
                try:
                    stream.close()
                    stream = open_stream()
                except sd.PortAudioError as exc:
                    note(f"microphone unavailable ({exc}); retrying in 1 s")
                    time.sleep(1.0)
    finally:
        stream.close()
