"""The live loop: source blocks → acoustic tracker, closure detector, phone recogniser → face frames.

Frame k (t = k / 30) is made as soon as audio up to t + LOOKAHEAD_S has arrived, so its latency is the
look-ahead, at most one block (20 ms) of waiting and the processing time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from .analysis import AcousticTracker, ClosureDetector, StreamingPhones
from .sources import SR, note
from .face import FPS, LOOKAHEAD_S, FaceStream, LiveFrame

# Word recognition is ~55 % of the stream's CPU (0.08 of 0.14 CPU s per audio s). When the process gets too
# little CPU to keep up (seen: load average 11 on 2 cores, latency creeping to 3 s), it pauses recognition
# until the backlog is gone; lips still close on the acoustic closures meanwhile.
BEHIND_S = 0.35
CAUGHT_UP_S = 0.15


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
    catching_up = False
    try:
        for block, arrival in source:
            if len(block) == 0:
                continue
            heard += len(block)
            end_t = heard / SR
            arrivals.append((end_t, arrival))
            del arrivals[:-64]
            hops = tracker.push(block)
            for h in hops:
                face.push_hop(h, closures.push(h))
            behind = time.monotonic() - arrival
            if not catching_up and behind > BEHIND_S:
                catching_up = True
                note(f"falling behind real time by {behind:.1f} s (too little CPU): word recognition paused "
                     f"until caught up")
            elif catching_up and behind < CAUGHT_UP_S:
                catching_up = False
                note("caught up with real time: word recognition resumed")
            if phones is not None:
                speech = hops[-1].speech if hops else face._speaking
                pcm = (np.clip(block, -1, 1) * 32767).round().astype("<i2").tobytes()
                if catching_up:
                    phones.skip(len(block))
                else:
                    phones.feed(pcm, speech)
            while (face.frame / FPS) + LOOKAHEAD_S <= end_t - 0.5 / SR:
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
