"""ARPAbet phone timing with pocketsphinx 5: forced alignment of a transcript, or phone recognition.

Audio goes to the decoder in small buffers with `control.check()` between them, so a cancel
lands quickly. Recognition decodes phrase-sized chunks cut at pauses (time linear in length).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import numpy as np

from ..analysis import Phone
from ..options import RECOGNIZERS
from ..progress import JobControl

SR = 16000
PS_RATE = 100                 # pocketsphinx frames per second
FEED_SAMPLES = 1600           # 0.1 s per process_raw call: cancel latency ≪ 0.5 s
MAX_CHUNK_S = 10.0            # recognition chunks are cut at pauses, at most this long
CHUNK_PAD_S = 0.15            # silence kept around each recognised chunk
MIN_ALIGNED_COVERAGE = 0.6   # an alignment leaving more speech than this as SIL does not fit
MIN_CONFIDENCE = 0.45         # below this, 'auto' drops recognised phones
NOISE_WORDS = {"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]"}
# Speed/quality trade-off measured on LJSpeech, fed in 0.1 s buffers (live CMN): beams of 1e-20,
# top-2 Gaussians and at most 1500 HMMs/frame keep the default phone error rate (0.54) at ~30 %
# less time; beams of 1e-10 are faster but the search dies mid-utterance on some speakers.
RECOGNITION_CONFIG = dict(beam=1e-20, pbeam=1e-20, topn=2, maxhmmpf=1500, lw=2.0, pip=0.3)
# Alignment: top-2 Gaussians and 1e-20 beams are ~25 % faster than the defaults and move p/b/m
# boundaries by 2.5 ms on average (-ds 2 would save another third but moves them 6.5 ms).
ALIGNMENT_CONFIG = dict(beam=1e-20, pbeam=1e-20, topn=2)
# Word recognition (the default without a transcript), measured on the 8 transcribed LJSpeech clips and the
# 3 LibriSpeech clips (87 p/b/m, hit = within 60 ms of the transcript-aligned one): pocketsphinx defaults
# 100 % at 0.38 s per s of audio; no flat-lexicon second pass and the best Gaussian only: 92 % at 0.25 s/s;
# narrower beams are faster but drop to 30–80 %. The all-phone search finds 43 %.
WORD_RECOGNITION_CONFIG = dict(fwdflat=False, topn=1)


@dataclass
class PhoneResult:
    phones: list[Phone]
    source: str               # 'transcript' | 'recognized' | 'acoustic'
    confidence: float
    warnings: list[str] = field(default_factory=list)
    language: str = "en"


# ---------------------------------------------------------------- text normalisation

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " \
        "fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}


def number_to_words(n: int) -> list[str]:
    """Cardinal number in English words, 0 ≤ n < 10^12. 1905 → ['one', 'thousand', 'nine', 'hundred', 'five']."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (number_to_words(n % 100) if n % 100 else [])
    for size, name in ((10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")):
        if n >= size:
            return number_to_words(n // size) + [name] + (number_to_words(n % size) if n % size else [])
    raise ValueError(n)


def normalize_transcript(text: str) -> list[str]:
    """Lower-case words with digits spelled out and punctuation removed ("it's" keeps its apostrophe)."""
    t = text.lower()
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)          # 1,000 → 1000
    t = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", t)    # ordinals read as cardinals (approximation)

    def spell(m: re.Match) -> str:
        digits = m.group(0)
        if len(digits) > 12:
            return " ".join(_ONES[int(d)] for d in digits)
        return " ".join(number_to_words(int(digits)))

    t = re.sub(r"\d+", lambda m: f" {spell(m)} ", t)
    t = re.sub(r"[^a-z']+", " ", t)
    words = [w.strip("'") for w in t.split()]
    return [w for w in words if w]


# ---------------------------------------------------------------- letter-to-sound fallback

_GRAPHEMES = [  # longest first; a small, readable rule set for unknown words
    ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ough", "AO"), ("augh", "AO"), ("eigh", "EY"),
    ("igh", "AY"), ("tch", "CH"), ("dge", "JH"), ("sch", "S K"),
    ("ch", "CH"), ("sh", "SH"), ("th", "TH"), ("ph", "F"), ("wh", "W"), ("ck", "K"), ("ng", "NG"),
    ("qu", "K W"), ("gh", "G"), ("kn", "N"), ("wr", "R"),
    ("ee", "IY"), ("ea", "IY"), ("ie", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"), ("oa", "OW"),
    ("oi", "OY"), ("oy", "OY"), ("ai", "EY"), ("ay", "EY"), ("au", "AO"), ("aw", "AO"), ("ei", "EY"),
    ("ey", "IY"), ("ue", "UW"), ("ew", "UW"), ("ar", "AA R"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"),
    ("or", "AO R"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"), ("h", "HH"),
    ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"), ("o", "AA"), ("p", "P"),
    ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"), ("v", "V"), ("w", "W"), ("x", "K S"),
    ("y", "IY"), ("z", "Z"),
]


def letter_to_sound(word: str) -> list[str]:
    """Rule-based ARPAbet guess for a word missing from the dictionary ('zorblat' → Z AO R B L AE T)."""
    w = re.sub(r"[^a-z]", "", word.lower())
    w = re.sub(r"(.)\1", r"\1", w)                       # doubled letters sound once
    if len(w) > 2 and w.endswith("e") and w[-2] not in "aeiou":
        w = w[:-1]                                       # silent final e
    out: list[str] = []
    i = 0
    while i < len(w):
        if w[i] == "c" and i + 1 < len(w) and w[i + 1] in "eiy":
            out.append("S")
            i += 1
            continue
        if w[i] == "y" and i == 0:
            out.append("Y")
            i += 1
            continue
        for g, ph in _GRAPHEMES:
            if w.startswith(g, i):
                out += ph.split()
                i += len(g)
                break
    return out or ["AH"]


# ---------------------------------------------------------------- decoders

_decoders: dict[str, object] = {}
_decoder_lock = threading.Lock()


def _decoder(kind: str):
    """Shared pocketsphinx decoder of `kind` ('allphone' or 'align'), created once per process."""
    from pocketsphinx import Decoder, get_model_path

    if kind not in _decoders:
        if kind == "allphone":
            d = Decoder(allphone=get_model_path("en-us/en-us-phone.lm.bin"), loglevel="FATAL",
                        **RECOGNITION_CONFIG)
        elif kind == "words":
            d = Decoder(loglevel="FATAL", **WORD_RECOGNITION_CONFIG)  # the bundled US English LM + dictionary
        else:
            d = Decoder(lm=None, loglevel="FATAL", bestpath=False, **ALIGNMENT_CONFIG)
        _decoders[kind] = d
    return _decoders[kind]


def prime_cmn(decoder, pcm: bytes, control: JobControl, seconds: float = 8.0) -> None:
    """Reset feature state (determinism), then adapt the live cepstral mean to this speaker.

    Without priming the first second is decoded with a generic mean and comes out poorly.
    """
    decoder.reinit_feat()
    decoder.start_utt()
    step = FEED_SAMPLES * 2
    try:
        for i in range(0, min(len(pcm), int(seconds * SR) * 2), step):
            control.check()
            decoder.process_raw(pcm[i:i + step], True, False)
    finally:
        decoder.end_utt()


def to_pcm16(x: np.ndarray) -> bytes:
    return (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def feed(decoder, pcm: bytes, control: JobControl, progress: tuple[float, float, str] | None = None) -> None:
    """One utterance: start, feed in FEED_SAMPLES buffers (checking for cancel), end."""
    decoder.start_utt()
    step = FEED_SAMPLES * 2
    n = max(len(pcm), 1)
    try:
        for i in range(0, len(pcm), step):
            control.check()
            if progress is not None and (i // step) % 20 == 0:
                a, b, stage = progress
                control.report(a + (b - a) * i / n, stage)
            decoder.process_raw(pcm[i:i + step], False, False)
    finally:
        decoder.end_utt()


def _clean_word(name: str) -> str:
    return re.sub(r"\(\d+\)$", "", name)


def tidy_phones(phones: list[Phone], duration: float) -> list[Phone]:
    """Merge adjacent SILs, close tiny gaps, and pad the clip with SIL so phones cover 0..duration."""
    out: list[Phone] = []
    t = 0.0
    for p in sorted(phones, key=lambda p: p.start):
        start, end = max(p.start, t), min(p.end, duration)
        if end <= start:
            continue
        if start - t > 0.035:
            out.append(Phone("SIL", t, start))
        elif out and start > t:
            prev = out[-1]
            out[-1] = Phone(prev.label, prev.start, start, prev.stress, prev.word)
        elif not out:
            start = 0.0
        out.append(Phone(p.label, start, end, p.stress, p.word))
        t = end
    if duration - t > 1e-6:
        out.append(Phone("SIL", t, duration))
    merged: list[Phone] = []
    for p in out:
        if merged and p.label == "SIL" and merged[-1].label == "SIL":
            merged[-1] = Phone("SIL", merged[-1].start, p.end)
        else:
            merged.append(p)
    return merged


# ---------------------------------------------------------------- forced alignment

def align_transcript(x: np.ndarray, words: list[str], control: JobControl) -> tuple[list[Phone], list[str]]:
    """Phone-level forced alignment of `words` (normalised) to 16 kHz audio x.

    Returns (phones, warnings). Raises RuntimeError when pocketsphinx cannot align.
    """
    d = _decoder("align")
    warnings: list[str] = []
    missing = sorted({w for w in words if d.lookup_word(w) is None})
    for w in missing:
        d.add_word(w, " ".join(letter_to_sound(w)), True)
    if missing:
        shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        warnings.append(f"transcript words not in dictionary (pronunciation guessed): {shown}")
    pcm = to_pcm16(x)
    d.set_align_text(" ".join(words))   # a search must be active before priming
    prime_cmn(d, pcm, control)
    feed(d, pcm, control, (0.0, 0.5, "aligning words"))
    if d.hyp() is None:
        raise RuntimeError("no alignment found")
    d.set_alignment()
    feed(d, pcm, control, (0.5, 1.0, "aligning phones"))
    alignment = d.get_alignment()
    if alignment is None:
        raise RuntimeError("no phone alignment")
    phones = alignment_phones(alignment, 0.0)
    if not alignment_is_plausible(phones):
        raise RuntimeError("implausible alignment")
    return phones, warnings


def alignment_phones(alignment, offset: float) -> list[Phone]:
    """A pocketsphinx phone alignment → Phones (times + offset seconds); fillers and noise become SIL."""
    phones: list[Phone] = []
    for w in alignment:
        word = _clean_word(w.name)
        for p in w:
            label = "SIL" if (word in NOISE_WORDS or p.name.startswith("+")) else p.name.upper()
            phones.append(Phone(label, offset + p.start / PS_RATE, offset + (p.start + p.duration) / PS_RATE,
                                -1, "" if label == "SIL" else word))
    return phones


def alignment_is_plausible(phones: list[Phone]) -> bool:
    """A transcript that does not match the audio gets stretched: absurdly long phones."""
    real = [p.end - p.start for p in phones if p.label != "SIL"]
    return bool(real) and float(np.mean(real)) <= 0.25 and max(real) <= 1.0


# ---------------------------------------------------------------- recognition

def chunk_bounds(speech: np.ndarray, rate: int, n_samples: int) -> list[tuple[int, int]]:
    """Sample ranges to decode: speech phrases grouped up to MAX_CHUNK_S, cut inside pauses.

    speech (K,) bool at `rate` frames/s → [(start, stop)] in samples at 16 kHz.
    """
    from .analyze import runs

    pad = int(CHUNK_PAD_S * rate)
    max_len = int(MAX_CHUNK_S * rate)
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
                   span: tuple[float, float] | None, recognizer: str) -> list[Phone]:
    """Recognise each chunk with decoder `d` (of kind `recognizer`); progress (if `span`) runs over
    span[0]..span[1]."""
    total = sum(b - a for a, b in bounds) or 1
    done = 0
    phones: list[Phone] = []
    for a, b in bounds:
        f0 = done / total
        done += b - a
        progress = None
        if span is not None:
            lo, hi = span
            progress = (lo + (hi - lo) * f0, lo + (hi - lo) * done / total, f"recognising {recognizer}")
        pcm, offset = to_pcm16(x[a:b]), a / SR
        if recognizer == "words":
            phones += _recognize_words_chunk(d, pcm, offset, control, progress)
            continue
        feed(d, pcm, control, progress)
        for s in d.seg():
            label = s.word.upper()
            if label.startswith("+") or label in ("SIL", "<SIL>", "<S>", "</S>"):
                label = "SIL"
            phones.append(Phone(label, offset + s.start_frame / PS_RATE, offset + (s.end_frame + 1) / PS_RATE))
    return phones


def _is_word(name: str) -> bool:
    return not (name in NOISE_WORDS or name[:1] in "<[+")


def _recognize_words_chunk(d, pcm: bytes, offset: float, control: JobControl,
                           progress: tuple[float, float, str] | None) -> list[Phone]:
    """Words with the language model, then a second pass over the same audio aligning their phones.

    Phones inside recognised words come from the dictionary, so a bilabial lands where the word has one
    (all-phone search, free to emit any phone anywhere, misplaces most of them).
    """
    first = second = None
    if progress is not None:
        lo, hi, stage = progress
        first, second = (lo, (lo + hi) / 2, stage), ((lo + hi) / 2, hi, stage)
    feed(d, pcm, control, first)
    segments = [sg for sg in d.seg() if _is_word(_clean_word(sg.word))]
    if not segments:
        return []  # nothing said here: tidy_phones fills the chunk with SIL
    try:
        d.set_alignment()
        feed(d, pcm, control, second)
        alignment = d.get_alignment()
    except RuntimeError:
        alignment = None
    finally:
        d.activate_search()  # back to the language-model search for the next chunk
    if alignment is not None:
        return alignment_phones(alignment, offset)
    return _spread_word_phones(d, segments, offset)


def _spread_word_phones(d, segments, offset: float) -> list[Phone]:
    """Fallback when the phone pass fails: each word's dictionary phones spread evenly over the word."""
    phones: list[Phone] = []
    for sg in segments:
        word = _clean_word(sg.word)
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
    import json
    import os

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: decode, send plain rows, leave without running the parent's exit handlers
        code = 0
        try:
            from ..subprocesses import die_with_parent
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
    import json
    import os
    import select
    import signal

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


def recognize_phones(x: np.ndarray, speech: np.ndarray, rate: int, control: JobControl,
                     recognizer: str = "words") -> tuple[list[Phone], float]:
    """Recognition chunk by chunk → (phones, confidence 0..1). recognizer: 'words' (language model, then
    the words' phones aligned) or 'phones' (all-phone search: about 3× faster, bilabials often misplaced).

    Long inputs on Linux with 2+ cores decode their second half in a forked process at the same time.
    """
    import os
    import sys

    if recognizer not in RECOGNIZERS:
        raise ValueError(f"unknown recognizer {recognizer!r}")
    d = _decoder("words" if recognizer == "words" else "allphone")
    bounds = chunk_bounds(speech, rate, len(x))
    if bounds:
        prime_cmn(d, to_pcm16(x[bounds[0][0]:]), control)
    total_s = sum(b - a for a, b in bounds) / SR
    if (len(bounds) >= 2 and total_s >= PARALLEL_MIN_S and sys.platform.startswith("linux")
            and (os.cpu_count() or 1) >= 2):
        cut = _split_for_two(bounds, 0.55)  # the parent also primed the decoder
        pid, read_fd = _decode_in_child(d, x, bounds[cut:], recognizer)
        try:
            phones = _decode_chunks(d, x, bounds[:cut], control, (0.0, 1.0), recognizer)
        except BaseException:
            import signal
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            raise
        rest = _collect_child(pid, read_fd, control)
        if rest is None:  # the child failed: decode its half here
            rest = _decode_chunks(d, x, bounds[cut:], control, None, recognizer)
        phones += rest
    else:
        phones = _decode_chunks(d, x, bounds, control, (0.0, 1.0), recognizer)
    confidence = recognition_confidence(phones, speech, rate)
    return phones, confidence


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


# ---------------------------------------------------------------- entry point

def phones_for(x: np.ndarray, transcript: str | None, language: str, speech: np.ndarray, rate: int,
               control: JobControl, recognizer: str = "words") -> PhoneResult:
    """Choose and run the phone source for a clip (see analyze_speech for the language rules)."""
    duration = len(x) / SR
    if language == "other":
        return PhoneResult([], "acoustic", 0.0, [], "other")
    warnings: list[str] = []
    if transcript is not None and transcript.strip():
        words = normalize_transcript(transcript)
        if not words:
            warnings.append("the transcript has no words after normalisation; recognising phones instead")
        else:
            try:
                with _decoder_lock:
                    phones, w = align_transcript(x, words, control)
                if speech_coverage(phones, speech, rate) < MIN_ALIGNED_COVERAGE:
                    raise RuntimeError("the transcript covers too little of the speech")
                return PhoneResult(tidy_phones(phones, duration), "transcript", 1.0, warnings + w, "en")
            except RuntimeError:
                warnings.append("the transcript could not be aligned to the audio; recognising phones instead")
    with _decoder_lock:
        phones, confidence = recognize_phones(x, speech, rate, control, recognizer)
    phones = tidy_phones(phones, duration)
    if language == "auto" and confidence < MIN_CONFIDENCE:
        warnings.append(f"low phone-recognition confidence ({confidence:.2f}), using acoustic mouth")
        return PhoneResult([], "acoustic", confidence, warnings, "other")
    return PhoneResult(phones, "recognized", confidence, warnings, "en")
