"""Phone timing without a transcript: pocketsphinx recognition chunk by chunk (cut at pauses, time linear in
length), word recognition with a phone alignment of the heard words (default) or the all-phone search, the
second core in a forked process, and the English check of language 'auto'.

Each chunk is decoded as one utterance with its own (batch) cepstral mean; `control.check()` runs between
chunks and between the decoder's passes, so a cancel lands within one chunk's decoding (≤ 6 s of audio,
about 0.3 s of CPU). The all-phone search feeds small buffers with a primed live mean.
"""
from __future__ import annotations

import json
import math
import os
import select
import signal
import sys

import numpy as np

from ..analysis import Phone
from ..progress import JobControl
from ..subprocesses import die_with_parent
from .decoders import (PS_RATE, SR, alignment_phones, clean_word, decode_whole, feed, is_word, prime_cmn,
                       shared_decoder, to_pcm16)
from .voice_activity import runs

MAX_CHUNK_S = 6.0             # recognition chunks are cut at pauses, at most this long (6 s: +2-4 % p/b/m vs 10 s,
#                               each chunk's own cepstral mean follows the speaker closer; decoders.py)
CHUNK_PAD_S = 0.15            # silence kept around each recognised chunk


def chunk_bounds(speech: np.ndarray, rate: int, n_samples: int, max_s: float = MAX_CHUNK_S
                 ) -> list[tuple[int, int]]:
    """Sample ranges to decode: speech phrases grouped up to max_s seconds, cut inside pauses.

    speech (K,) bool at `rate` frames/s → [(start, stop)] in samples at 16 kHz.
    """
    pad = int(CHUNK_PAD_S * rate)
    max_len = int(max_s * rate)
    pieces: list[tuple[int, int]] = []
    for s, e in runs(speech):
        while e - s > max_len:            # a phrase without pauses: cut hard
            pieces.append((s, s + max_len))
            s += max_len
        pieces.append((s, e))
    chunks: list[list[int]] = []
    for s, e in pieces:
        if chunks and e - chunks[-1][0] <= max_len and s - chunks[-1][1] < 2 * pad + rate:
            chunks[-1][1] = e
        else:
            chunks.append([s, e])
    hop = SR // rate
    return [(max(0, (s - pad) * hop), min(n_samples, (e + pad) * hop)) for s, e in chunks]


PARALLEL_MIN_S = 20.0          # below this much audio a second decoder process is not worth its start


def _decode_chunks(d, x: np.ndarray, bounds: list[tuple[int, int]], control: JobControl,
                   span: tuple[float, float] | None, recognizer: str,
                   scores: list[tuple[int, float]] | None = None) -> list[Phone]:
    """Recognise each chunk with decoder `d` (of kind `recognizer`); progress (if `span`) runs over
    span[0]..span[1]. Word recognition appends (frames, per-frame log score) of each chunk to `scores`."""
    total = sum(b - a for a, b in bounds) or 1
    done = 0
    phones: list[Phone] = []
    for a, b in bounds:
        f0 = done / total
        done += b - a
        progress = None
        if span is not None:
            lo, hi = span
            control.report(lo + (hi - lo) * f0, f"recognising {recognizer}")
            progress = (lo + (hi - lo) * f0, lo + (hi - lo) * done / total, f"recognising {recognizer}")
        pcm, offset = to_pcm16(x[a:b]), a / SR
        if recognizer == "words":
            phones += _recognize_words_chunk(d, pcm, offset, control, scores)
            continue
        feed(d, pcm, control, progress)
        for s in d.seg() or ():
            label = s.word.upper()
            if label.startswith("+") or label in ("SIL", "<SIL>", "<S>", "</S>"):
                label = "SIL"
            phones.append(Phone(label, offset + s.start_frame / PS_RATE, offset + (s.end_frame + 1) / PS_RATE))
    return phones


def _recognize_words_chunk(d, pcm: bytes, offset: float, control: JobControl,
                           scores: list[tuple[int, float]] | None = None) -> list[Phone]:
    """Words with the language model, then a second pass over the same audio aligning their phones.

    Phones inside recognised words come from the dictionary, so a bilabial lands where the word has one
    (all-phone search, free to emit any phone anywhere, misplaces most of them). A chunk where the narrow
    word search dies (no hypothesis) gets the all-phone search instead.
    """
    decode_whole(d, pcm, control)
    hyp = d.hyp()
    if hyp is None:
        return _allphone_chunk(pcm, offset, control)
    if scores is not None and d.n_frames() > 0 and hyp.score > 0:
        scores.append((d.n_frames(), math.log(hyp.score) / d.n_frames()))
    segments = [sg for sg in d.seg() or () if is_word(clean_word(sg.word))]
    if not segments:
        return []  # nothing said here: tidy_phones fills the chunk with SIL
    try:
        d.set_alignment()
        decode_whole(d, pcm, control)
        alignment = d.get_alignment()
    except RuntimeError:
        alignment = None
    finally:
        d.activate_search()  # back to the language-model search for the next chunk
    if alignment is not None:
        return alignment_phones(alignment, offset)
    return _spread_word_phones(d, segments, offset)


def _allphone_chunk(pcm: bytes, offset: float, control: JobControl) -> list[Phone]:
    a = shared_decoder("allphone")
    a.reinit_feat()
    return [Phone(p.label, p.start + offset, p.end + offset)
            for p in _decode_chunks(a, np.frombuffer(pcm, "<i2").astype(np.float32) / 32767.0,
                                    [(0, len(pcm) // 2)], control, None, "phones")]


def _spread_word_phones(d, segments, offset: float) -> list[Phone]:
    """Fallback when the phone pass fails: each word's dictionary phones spread evenly over the word."""
    phones: list[Phone] = []
    for sg in segments:
        word = clean_word(sg.word)
        labels = (d.lookup_word(sg.word) or d.lookup_word(word) or "").split()
        start, end = offset + sg.start_frame / PS_RATE, offset + (sg.end_frame + 1) / PS_RATE
        step = (end - start) / max(len(labels), 1)
        phones += [Phone(lab.upper(), start + i * step, start + (i + 1) * step, -1, word)
                   for i, lab in enumerate(labels)]
    return phones


def _split_for_two(bounds: list[tuple[int, int]], parent_share: float = 0.5) -> int:
    """Index that splits the chunks into two contiguous parts, the first holding `parent_share` of the audio."""
    sizes = np.cumsum([b - a for a, b in bounds])
    return int(np.clip(np.searchsorted(sizes, sizes[-1] * parent_share), 1, len(bounds) - 1))


def _decode_in_child(d, x: np.ndarray, bounds: list[tuple[int, int]], recognizer: str) -> tuple[int, int]:
    """Fork a process that decodes `bounds` with its copy of the (already loaded, primed) decoder.

    pocketsphinx holds the GIL, so a second core needs a second process; forking shares the loaded
    model instead of paying its start-up again. Returns (pid, read fd of a pipe carrying JSON rows).
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: decode, send plain rows, leave without running the parent's exit handlers
        code = 0
        try:
            die_with_parent()  # a killed worker or CLI must not leave this decoding on (issue 19)
            os.close(read_fd)
            rows = [(p.label, p.start, p.end, p.word)
                    for p in _decode_chunks(d, x, bounds, JobControl(), None, recognizer)]
            data = json.dumps(rows).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
        except BaseException:  # noqa: BLE001 - the parent sees a short read and decodes itself
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def _collect_child(pid: int, read_fd: int, control: JobControl) -> list[Phone] | None:
    """Wait for the child's rows, checking for cancel; None if the child failed."""
    chunks = []
    try:
        while True:
            try:
                control.check()
            except BaseException:
                os.kill(pid, signal.SIGKILL)
                raise
            ready, _, _ = select.select([read_fd], [], [], 0.1)
            if ready:
                block = os.read(read_fd, 1 << 16)
                if not block:
                    break
                chunks.append(block)
    finally:
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    return [Phone(label, start, end, -1, word) for label, start, end, word in json.loads(b"".join(chunks) or b"[]")]


LANGUAGE_SAMPLE_S = 20.0       # 'auto' judges the language on the first this-many seconds of chunks
# Per-frame log score of the word search (language model + acoustics) on 6 s pieces: English (LJSpeech,
# 3 LibriSpeech speakers) -0.0059..-0.0048, Mandarin (5 FACEGOOD clips) -0.0042..-0.0034. English words fit
# English speech tightly; forced onto another language they score as if the audio were looser.
ENGLISH_MAX_SCORE = -0.0045


def recognize_phones(x: np.ndarray, speech: np.ndarray, rate: int, control: JobControl,
                     recognizer: str = "words", check_language: bool = False,
                     max_chunk_s: float = MAX_CHUNK_S) -> tuple[list[Phone], float, float | None]:
    """Recognition chunk by chunk → (phones, confidence 0..1, English score). recognizer: 'words'
    (language model, then the words' phones aligned) or 'phones' (all-phone search: faster, bilabials often
    misplaced). With check_language (words only), the first LANGUAGE_SAMPLE_S of chunks are decoded first;
    if their score says the speech is not English, recognition stops there (phones [], the score returned).

    Long inputs on Linux with 2+ cores decode their second half in a forked process at the same time.
    """
    d = shared_decoder("words" if recognizer == "words" else "allphone", control)
    bounds = chunk_bounds(speech, rate, len(x), max_chunk_s)
    if bounds and recognizer != "words":
        prime_cmn(d, to_pcm16(x[bounds[0][0]:]), control)
    phones: list[Phone] = []
    english_score = None
    if check_language and recognizer == "words" and bounds:
        sizes = np.cumsum([b - a for a, b in bounds]) / SR
        first = min(int(np.searchsorted(sizes, LANGUAGE_SAMPLE_S)) + 1, len(bounds))
        scores: list[tuple[int, float]] = []
        phones = _decode_chunks(d, x, bounds[:first], control, (0.0, float(sizes[first - 1] / sizes[-1])),
                                recognizer, scores)
        english_score = language_score(scores)
        bounds = bounds[first:]
        if english_score is not None and english_score > ENGLISH_MAX_SCORE:
            return [], 0.0, english_score
    total_s = sum(b - a for a, b in bounds) / SR
    if (len(bounds) >= 2 and total_s >= PARALLEL_MIN_S and sys.platform.startswith("linux")
            and (os.cpu_count() or 1) >= 2):
        cut = _split_for_two(bounds, 0.5 if recognizer == "words" else 0.55)  # allphone: the parent primed
        pid, read_fd = _decode_in_child(d, x, bounds[cut:], recognizer)
        try:
            phones += _decode_chunks(d, x, bounds[:cut], control, (0.0, 1.0), recognizer)
        except BaseException:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            raise
        rest = _collect_child(pid, read_fd, control)
        if rest is None:  # the child failed: decode its half here
            rest = _decode_chunks(d, x, bounds[cut:], control, None, recognizer)
        phones += rest
    else:
        phones += _decode_chunks(d, x, bounds, control, (0.0, 1.0), recognizer)
    confidence = recognition_confidence(phones, speech, rate)
    return phones, confidence, english_score


def language_score(scores: list[tuple[int, float]]) -> float | None:
    """Frame-weighted mean per-frame log score of the word search over chunks of ≥ 1.5 s; None if none."""
    kept = [(n, v) for n, v in scores if n >= 150]
    if not kept:
        return None
    n = np.array([k[0] for k in kept], float)
    return float((n * np.array([k[1] for k in kept])).sum() / n.sum())


def speech_coverage(phones: list[Phone], speech: np.ndarray, rate: int) -> float:
    """Share of the detected speech frames (K,) inside non-SIL phones, 0..1."""
    if not speech.any():
        return 0.0
    inside = np.zeros(len(speech), bool)
    for p in phones:
        if p.label != "SIL":
            inside[int(round(p.start * rate)):int(round(p.end * rate))] = True
    return float((inside & speech).sum() / speech.sum())


def recognition_confidence(phones: list[Phone], speech: np.ndarray, rate: int) -> float:
    """How plausible recognised phones are as English speech, 0..1.

    Combines: share of detected speech covered by real (non-SIL) phones, and a phone rate in the
    range of English speech (8–16 phones/s of speech).
    """
    speech_s = float(speech.sum()) / rate
    if speech_s <= 0:
        return 0.0
    real = [p for p in phones if p.label != "SIL"]
    covered = sum(p.end - p.start for p in real)
    coverage = min(covered / speech_s, 1.0)
    per_s = len(real) / speech_s
    rate_ok = float(np.clip(1.0 - max(0.0, 8.0 - per_s) / 6.0 - max(0.0, per_s - 18.0) / 8.0, 0.0, 1.0))
    return float(np.clip(coverage * rate_ok, 0.0, 1.0))
