"""The live loop: source blocks → acoustic tracker, closure detector, phone recogniser → face frames.

Frame k (t = k / 30) is made as soon as audio up to t + LOOKAHEAD_S has arrived, so its latency is the
look-ahead, at most one block (20 ms) of waiting and the processing time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from .analysis import AcousticTracker, ClosureDetector, StreamingPhones
from .face import FPS, LOOKAHEAD_S, FaceStream, LiveFrame


@dataclass(frozen=True)
class StreamOptions:
    seed: int = 0
    emotion: str = "neutral"
    intensity: float = 0.5
    recognize: bool = True       # incremental pocketsphinx words; off: acoustics only (any language)


def run_stream(source: Iterable[tuple[np.ndarray, float]], options: StreamOptions = StreamOptions()
               ) -> Iterator[tuple[LiveFrame, float]]:
    """Yield (frame, latency seconds) for every 30 fps frame the source's audio covers.

    latency = the time the frame is ready − the time the audio at the frame's instant arrived (a block's
    arrival time is when its last sample was available).
    """
    tracker, closures = AcousticTracker(), ClosureDetector()
    phones = StreamingPhones() if options.recognize else None
    face = FaceStream(options.seed, options.emotion, options.intensity)
    heard = 0            # samples received
    arrivals: list[tuple[float, float]] = []   # (stream seconds at block end, arrival) of recent blocks
    try:
        for block, arrival in source:
            if len(block) == 0:
                continue
            heard += len(block)
            end_t = heard / 16000
            arrivals.append((end_t, arrival))
            del arrivals[:-64]
            hops = tracker.push(block)
            for h in hops:
                face.push_hop(h, closures.push(h))
            if phones is not None:
                speech = hops[-1].speech if hops else face._speaking
                phones.feed((np.clip(block, -1, 1) * 32767).round().astype("<i2").tobytes(), speech)
            while (face.frame / FPS) + LOOKAHEAD_S <= end_t - 0.5 / 16000:
                t = face.frame / FPS
                known = phones.phones(t - 0.8) if phones is not None else []
                frame = face.next_frame(known, end_t)
                yield frame, time.monotonic() - _arrival_of(t, arrivals)
    finally:
        if phones is not None:
            phones.close()


def _arrival_of(t: float, arrivals: list[tuple[float, float]]) -> float:
    """When the sample at stream time t arrived: the arrival of the first block ending at or after t."""
    for end_t, arrival in arrivals:
        if end_t >= t:
            return arrival
    return arrivals[-1][1]
