"""Streaming speech analysis: 16 kHz blocks in, 100 Hz acoustic tracks and recognised phones out, causally.

Acoustic tracks reuse backend/audio/features.compute_frame_features on a short sliding window (the newest
hops plus CONTEXT_S of history), so the live tracks are the offline ones: a hop is final once FUTURE_S of
audio after its centre has arrived (the 25 ms window and YIN's 8 kHz frame reach 29 ms ahead).

Voice activity and loudness follow backend/audio/analyze.voice_activity and loudness_track with running
statistics instead of whole-clip percentiles: the noise floor tracks the quiet frames (falls at once, rises
3 dB/s), the speech level the loud ones (rises at once, decays 1 dB/s), the threshold is the offline rule
floor + max(0.3 × span, 3 dB) with the same 0.3 s hangover.

Phones: pocketsphinx word recognition (the offline default, WORD_RECOGNITION_CONFIG with a live cepstral
mean) decoded incrementally; each call reads the partial hypothesis, and words are spread into their
dictionary phones. Utterances end at pauses or after MAX_UTTERANCE_S so the decoder's tables stay small.
At the ≤ 0.1 s look-ahead the newest word is often still wrong: measured on LJSpeech, a bilabial in the
partial hypothesis lands inside only 27 % of the transcript's p/b/m at 80 ms look-ahead (67 % at 0.3 s).
The lips therefore also close on the acoustic sign of a closure, a fast dip of the vowel-band energy inside
speech (see ClosureDetector), which the face stream gates with the phones it has.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..analysis import Phone
from ..audio import features as F
from ..audio.analyze import MAX_APERIODICITY, loudness_track
from ..audio.voice_activity import ABS_SILENCE_DB, MIN_RANGE_DB, PHRASE_GAP_S

SR = F.SR
HOP = F.HOP
HOP_S = HOP / SR
FUTURE_S = 0.03                 # a hop needs this much audio after its centre (window + YIN frame)
CONTEXT_S = 0.12                # history recomputed with each block (resampler and window edge effects)
MAX_UTTERANCE_S = 8.0           # longer speech is cut into utterances of at most this length
UTTERANCE_GAP_S = 0.25          # a pause this long ends a recognition utterance
FLOOR_RISE_DB_S = 3.0
LEVEL_DECAY_DB_S = 1.0


@dataclass(frozen=True)
class Hop:
    """One 10 ms analysis frame, centred at `t` seconds of stream time."""
    t: float
    level_db: float
    nucleus_db: float
    hf_share: float
    f0: float
    voiced: bool
    speech: bool
    loudness: float


class AcousticTracker:
    """Per-hop features of a growing signal. `push(samples)` → list of new final Hops."""

    def __init__(self) -> None:
        self._buf = np.zeros(0, np.float32)
        self._buf_start = 0             # stream sample index of _buf[0]
        self._next_hop = 0              # next hop index to emit
        self.floor_db = None
        self.level_db = None
        self._active_since = None
        self._hang = 0                  # hops of hangover left
        self._voiced_recent: deque[bool] = deque(maxlen=10)

    def push(self, samples: np.ndarray) -> list[Hop]:
        self._buf = np.concatenate([self._buf, np.asarray(samples, np.float32)])
        end = self._buf_start + len(self._buf)
        last_final = int((end - FUTURE_S * SR) // HOP)          # hops up to here have all their audio
        if last_final < self._next_hop:
            return []
        w0 = max(0, self._next_hop * HOP - int(CONTEXT_S * SR))  # window start (stream samples)
        w0 -= w0 % HOP
        window = self._buf[w0 - self._buf_start:]
        feats = F.compute_frame_features(window)
        first = self._next_hop - w0 // HOP
        count = last_final - self._next_hop + 1
        hops = [self._hop(self._next_hop + i, feats, first + i) for i in range(count)]
        self._next_hop = last_final + 1
        keep_from = max(0, self._next_hop * HOP - int(CONTEXT_S * SR) - HOP)
        if keep_from > self._buf_start:
            self._buf = self._buf[keep_from - self._buf_start:]
            self._buf_start = keep_from
        return hops

    def _hop(self, k: int, feats: F.FrameFeatures, i: int) -> Hop:
        dt = HOP_S
        lvl = float(feats.level_db[i])
        voiced = bool(feats.aperiodicity[i] < MAX_APERIODICITY and feats.f0[i] > 0)
        if self.floor_db is None:
            self.floor_db, self.level_db = lvl, lvl + 20.0
        self.floor_db = min(lvl, self.floor_db + FLOOR_RISE_DB_S * dt) if lvl > ABS_SILENCE_DB - 30 else \
            self.floor_db
        self.level_db = max(lvl, self.level_db - LEVEL_DECAY_DB_S * dt, self.floor_db + 20.0)
        span = self.level_db - self.floor_db
        thr = self.floor_db + max(0.3 * span, MIN_RANGE_DB)
        self._voiced_recent.append(voiced)
        loud_enough = lvl > thr and lvl > ABS_SILENCE_DB
        if loud_enough and sum(self._voiced_recent) >= 2:
            self._hang = int(PHRASE_GAP_S / dt)
        elif self._hang > 0:
            self._hang -= 1
        speech = self._hang > 0
        loud = float(loudness_track(np.array([lvl]), self.level_db - 3.0)[0])
        return Hop(k * dt, lvl, float(feats.nucleus_db[i]), float(feats.hf_share[i]),
                   float(feats.f0[i]) if voiced else 0.0, voiced, speech, loud)


class ClosureDetector:
    """Acoustic lip-closure candidates: inside speech, the vowel-band energy (300–2500 Hz) falls
    DIP_DB below its peak of the last 0.15 s within 60 ms. A stop or nasal closure does this (p/b/m, but
    also t/d/k/g/n: the face stream keeps those whose phones allow a bilabial)."""

    DIP_DB = 10.0

    def __init__(self) -> None:
        self._recent: deque[float] = deque(maxlen=15)

    def push(self, hop: Hop) -> bool:
        self._recent.append(hop.nucleus_db)
        peak = max(self._recent)
        return bool(hop.speech and hop.nucleus_db < peak - self.DIP_DB)


@dataclass
class _Utterance:
    start: float                                   # stream seconds of its first sample
    samples: int = 0


class StreamingPhones:
    """Incremental pocketsphinx word recognition → phones with stream times.

    `feed(pcm16, speech)` after every block; `phones(t0)` the committed + partial phones ending after t0.
    """

    def __init__(self) -> None:
        from ..audio.decoders import new_word_decoder

        self._d = new_word_decoder(cmn="live")
        self._utt: _Utterance | None = None
        self._clock = 0.0                   # stream seconds fed so far
        self._silence = 0.0
        self._committed: deque[Phone] = deque()
        self._partial: list[Phone] = []
        self._pron: dict[str, list[str]] = {}

    def feed(self, pcm16: bytes, speech: bool) -> None:
        n = len(pcm16) // 2
        self._silence = 0.0 if speech else self._silence + n / SR
        if self._utt is None and speech:
            self._d.start_utt()
            self._utt = _Utterance(self._clock)
        if self._utt is not None:
            self._d.process_raw(pcm16, False, False)
            self._utt.samples += n
        self._clock += n / SR
        if self._utt is not None:
            if self._silence >= UTTERANCE_GAP_S or self._utt.samples >= MAX_UTTERANCE_S * SR:
                self._d.end_utt()
                self._committed.extend(self._read())
                self._partial = []
                self._utt = None
            else:
                self._partial = self._read()
        while self._committed and self._committed[0].end < self._clock - 3.0:
            self._committed.popleft()  # bounded memory: the face looks back < 1 s

    def skip(self, n_samples: int) -> None:
        """Let n_samples pass undecoded (catching up with real time): the utterance ends here."""
        if self._utt is not None:
            self._d.end_utt()
            self._committed.extend(self._read())
            self._partial = []
            self._utt = None
        self._clock += n_samples / SR
        self._silence = 0.0

    def _read(self) -> list[Phone]:
        from ..audio.decoders import PS_RATE, clean_word, is_word

        out: list[Phone] = []
        t0 = self._utt.start
        for sg in self._d.seg() or ():
            word = clean_word(sg.word)
            if not is_word(word):
                continue
            labels = self._pron.get(sg.word)
            if labels is None:
                labels = (self._d.lookup_word(sg.word) or self._d.lookup_word(word) or "").upper().split()
                if len(self._pron) > 20000:
                    self._pron.clear()
                self._pron[sg.word] = labels
            start, end = t0 + sg.start_frame / PS_RATE, t0 + (sg.end_frame + 1) / PS_RATE
            step = (end - start) / max(len(labels), 1)
            out += [Phone(lab, start + i * step, start + (i + 1) * step, -1, word) for i, lab in enumerate(labels)]
        return out

    def phones(self, since: float) -> list[Phone]:
        return [p for p in list(self._committed) + self._partial if p.end > since]

    def close(self) -> None:
        if self._utt is not None:
            self._d.end_utt()
            self._utt = None
