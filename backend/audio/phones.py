"""ARPAbet phone timing with pocketsphinx 5: forced alignment of a transcript, or phone recognition.

Recognition decodes phrase-sized chunks cut at pauses (time linear in length), each as one utterance with
its own (batch) cepstral mean; `control.check()` runs between chunks and between the decoder's passes, so a
cancel lands within one chunk's decoding (≤ 10 s of audio, about 0.5 s of CPU). The all-phone search still
feeds small buffers with a primed live mean. Long transcripts: backend/audio/alignment.py.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ..analysis import Phone
from ..progress import JobControl
from ..vocabulary.choices import RECOGNIZERS
from ..vocabulary.rates import AUDIO_RATE as SR

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
# Word recognition (the default without a transcript). Measured on 64 s of LJSpeech sentences joined with
# 0.15-0.6 s pauses (56 p/b/m; hit = a recognised p/b/m within 60 ms of the per-sentence transcript alignment),
# decoder CPU per second of audio: pocketsphinx defaults 0.67 s/s 98 %; no flat pass + best Gaussian 0.35 s/s
# 98 %; + at most 3000 HMMs / 5 words per frame 0.22 s/s 98 %; + the 10,000 likeliest words of the bundled
# conversational LM as the vocabulary 0.10 s/s 95 % (5,000 words: 88 %; 20,000: 0.13 s/s 96 %); + batch
# cepstral mean per chunk instead of priming a live mean, 2000 HMMs / 3 words per frame, no lattice pass
# 0.075 s/s 93 %. Frame skipping (-ds 2) is faster but drops to 79-88 %; narrower beams drop to 64-88 %.
WORD_RECOGNITION_CONFIG = dict(fwdflat=False, bestpath=False, topn=1, maxhmmpf=2000, maxwpf=3, cmn="batch")
RECOGNITION_VOCABULARY = 10000
# Chunk alignment: the narrow search first; fast speech (LJSpeech played 1.15x) kills it on ~1 sentence in 8,
# the default beams (1e-48, all 4 Gaussians) then align it at ~1.4x the cost.
WIDE_ALIGNMENT_CONFIG = dict(beam=1e-48, pbeam=1e-48, topn=4)


@dataclass
class PhoneResult:
    phones: list[Phone]
    source: str               # 'transcript' (forced alignment) | 'recognized' | 'acoustic'
    confidence: float
    warnings: list[str] = field(default_factory=list)
    language: str = "en"
    spans: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, 'forced alignment' |
    #                                                                      'word recognition' | 'phone recognition')


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


_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
             "nine": "ninth", "twelve": "twelfth"}


def ordinal_words(n: int) -> list[str]:
    """21 → ['twenty', 'first']."""
    words = number_to_words(n)
    last = words[-1]
    if last in _ORDINALS:
        words[-1] = _ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


def year_words(n: int) -> list[str]:
    """How a year is read: 1455 → fourteen fifty five, 1900 → nineteen hundred, 1905 → nineteen oh five,
    2005 → two thousand five, 2024 → twenty twenty four."""
    hi, lo = divmod(n, 100)
    if 2000 <= n < 2010:
        return number_to_words(n)
    if lo == 0:
        return number_to_words(hi) + ["hundred"]
    return number_to_words(hi) + (["oh"] if lo < 10 else []) + number_to_words(lo)


def normalize_transcript(text: str) -> list[str]:
    """Lower-case words as spoken: digits spelled out (years as years, ordinals, decimals, money), punctuation
    removed ("it's" keeps its apostrophe)."""
    t = text.lower()
    t = re.sub(r"\$\s?(\d+)\.(\d\d)\b", r"\1 dollars \2 cents", t)
    t = re.sub(r"\$\s?(\d+(?:,\d{3})*)", r"\1 dollars", t)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"\b\d{1,3}(?:,\d{3})+\b",                # 1,200 is a count, never a year
               lambda m: " " + " ".join(number_to_words(int(m.group(0).replace(",", "")))) + " ", t)
    t = re.sub(r"(\d+)\.(\d+)", lambda m: f"{m.group(1)} point " + " ".join(m.group(2)), t)

    def spell_ordinal(m: re.Match) -> str:
        return " " + " ".join(ordinal_words(int(m.group(1)))) + " " if len(m.group(1)) <= 12 else m.group(1)

    t = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", spell_ordinal, t)

    def spell(m: re.Match) -> str:
        digits = m.group(0)
        if len(digits) > 12 or (len(digits) > 1 and digits[0] == "0"):
            return " " + " ".join(_ONES[int(d)] for d in digits) + " "
        n = int(digits)
        if len(digits) == 4 and (1100 <= n <= 1999 or 2000 <= n <= 2099):
            return " " + " ".join(year_words(n)) + " "
        return " " + " ".join(number_to_words(n)) + " "

    t = re.sub(r"\d+", spell, t)
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


def _decoder(kind: str, control: JobControl | None = None):
    """Shared pocketsphinx decoder of `kind` ('allphone', 'words', 'align' or 'align_wide'), created once
    per process. All but 'allphone' use a batch cepstral mean: each chunk is decoded as one utterance."""
    from pocketsphinx import Decoder, get_model_path

    if kind not in _decoders:
        if kind == "allphone":
            d = Decoder(allphone=get_model_path("en-us/en-us-phone.lm.bin"), loglevel="FATAL",
                        **RECOGNITION_CONFIG)
        elif kind == "words":
            with _vocabulary_file(RECOGNITION_VOCABULARY, control or JobControl()) as vocabulary:
                d = Decoder(loglevel="FATAL", dict=vocabulary, **WORD_RECOGNITION_CONFIG)
        elif kind == "align_wide":
            d = Decoder(lm=None, loglevel="FATAL", bestpath=False, cmn="batch", **WIDE_ALIGNMENT_CONFIG)
        else:
            d = Decoder(lm=None, loglevel="FATAL", bestpath=False, cmn="batch", **ALIGNMENT_CONFIG)
        _decoders[kind] = d
    return _decoders[kind]


@contextmanager
def _vocabulary_file(size: int, control: JobControl):
    """A temporary pronunciation dictionary holding the `size` likeliest words of the bundled language model
    (by unigram probability; all their pronunciations). A smaller lexicon tree is the largest speed-up of the
    word search that keeps the lips right (see WORD_RECOGNITION_CONFIG)."""
    import os
    import tempfile

    from pocketsphinx import Config, LogMath, NGramModel, get_model_path

    lm = NGramModel(Config(), LogMath(), get_model_path("en-us/en-us.lm.bin"))
    with open(get_model_path("en-us/cmudict-en-us.dict"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    heads = [line.split(" ", 1)[0].split("(", 1)[0] for line in lines]   # 'word(2)' → 'word'
    prob: dict[str, int] = {}
    for i, w in enumerate(dict.fromkeys(heads)):
        if i % 20000 == 0:
            control.check()    # building this takes ~0.5 s: stay cancellable
        prob[w] = lm.prob([w])
    control.check()
    keep = set(sorted(prob, key=lambda w: (-prob[w], w))[:size])
    fd, path = tempfile.mkstemp(suffix=".dict", prefix="orator-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(ln for ln, w in zip(lines, heads) if w in keep) + "\n")
        yield path
    finally:
        os.unlink(path)


def decode_whole(decoder, pcm: bytes, control: JobControl) -> None:
    """One utterance in one call (batch cepstral mean over it); a cancel lands between chunks (≤ 20 s of
    audio, well under a second of CPU for the word search)."""
    control.check()
    decoder.reinit_feat()   # else the first utterance after loading decodes differently from later ones
    decoder.start_utt()
    try:
        decoder.process_raw(pcm, False, True)
    finally:
        decoder.end_utt()


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

def add_pronunciations(d, words: list[str]) -> list[str]:
    """Give decoder `d` a guessed pronunciation for each word missing from its dictionary; return the words
    of `words` whose pronunciation is a guess (added now or by an earlier call)."""
    for w in sorted({w for w in words if d.lookup_word(w) is None}):
        d.add_word(w, " ".join(letter_to_sound(w)), True)
        _guessed.add(w)
    return sorted({w for w in words if w in _guessed})


_guessed: set[str] = set()   # words given a letter-to-sound pronunciation in this process (decoders are shared)


def align_transcript(x: np.ndarray, words: list[str], control: JobControl) -> tuple[list[Phone], list[str]]:
    """Phone-level forced alignment of `words` (normalised) to 16 kHz audio x, as one piece.

    Returns (phones, warnings). Raises RuntimeError when pocketsphinx cannot align. Long recordings go
    through backend/audio/alignment.py, which cuts them into chunks and calls align_words on each.
    """
    warnings: list[str] = []
    missing = add_pronunciations(_decoder("align"), words)
    add_pronunciations(_decoder("align_wide"), words)
    if missing:
        shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        warnings.append(f"transcript words not in dictionary (pronunciation guessed): {shown}")
    phones = align_words(to_pcm16(x), words, 0.0, control)
    if phones is None:
        raise RuntimeError("no alignment found")
    return phones, warnings


def align_words(pcm: bytes, words: list[str], offset: float, control: JobControl) -> list[Phone] | None:
    """Align `words` (all in the decoders' dictionaries) to one chunk: the narrow search, then the wide one.

    Returns phones (times + offset seconds) or None when neither finds a plausible alignment.
    """
    for kind in ("align", "align_wide"):
        d = _decoder(kind)
        d.set_align_text(" ".join(words))
        decode_whole(d, pcm, control)
        if d.hyp() is None:
            continue
        try:
            d.set_alignment()
            decode_whole(d, pcm, control)
            alignment = d.get_alignment()
        except RuntimeError:
            continue
        if alignment is None:
            continue
        phones = alignment_phones(alignment, offset)
        if alignment_is_plausible(phones):
            return phones
    return None


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

def chunk_bounds(speech: np.ndarray, rate: int, n_samples: int, max_s: float = MAX_CHUNK_S
                 ) -> list[tuple[int, int]]:
    """Sample ranges to decode: speech phrases grouped up to max_s seconds, cut inside pauses.

    speech (K,) bool at `rate` frames/s → [(start, stop)] in samples at 16 kHz.
    """
    from .analyze import runs

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


def _is_word(name: str) -> bool:
    return not (name in NOISE_WORDS or name[:1] in "<[+")


def _recognize_words_chunk(d, pcm: bytes, offset: float, control: JobControl,
                           scores: list[tuple[int, float]] | None = None) -> list[Phone]:
    """Words with the language model, then a second pass over the same audio aligning their phones.

    Phones inside recognised words come from the dictionary, so a bilabial lands where the word has one
    (all-phone search, free to emit any phone anywhere, misplaces most of them). A chunk where the narrow
    word search dies (no hypothesis) gets the all-phone search instead.
    """
    import math

    decode_whole(d, pcm, control)
    hyp = d.hyp()
    if hyp is None:
        return _allphone_chunk(pcm, offset, control)
    if scores is not None and d.n_frames() > 0 and hyp.score > 0:
        scores.append((d.n_frames(), math.log(hyp.score) / d.n_frames()))
    segments = [sg for sg in d.seg() or () if _is_word(_clean_word(sg.word))]
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
    a = _decoder("allphone")
    a.reinit_feat()
    return [Phone(p.label, p.start + offset, p.end + offset)
            for p in _decode_chunks(a, np.frombuffer(pcm, "<i2").astype(np.float32) / 32767.0,
                                    [(0, len(pcm) // 2)], control, None, "phones")]


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


LANGUAGE_SAMPLE_S = 20.0       # 'auto' judges the language on the first this-many seconds of chunks
# Per-frame log score of the word search (language model + acoustics) on 6 s pieces: English (LJSpeech,
# 3 LibriSpeech speakers) -0.0059..-0.0048, Mandarin (5 FACEGOOD clips) -0.0042..-0.0034. English words fit
# English speech tightly; forced onto another language they score as if the audio were looser.
ENGLISH_MAX_SCORE = -0.0045


def recognize_phones(x: np.ndarray, speech: np.ndarray, rate: int, control: JobControl,
                     recognizer: str = "words", check_language: bool = False
                     ) -> tuple[list[Phone], float, float | None]:
    """Recognition chunk by chunk → (phones, confidence 0..1, English score). recognizer: 'words'
    (language model, then the words' phones aligned) or 'phones' (all-phone search: faster, bilabials often
    misplaced). With check_language (words only), the first LANGUAGE_SAMPLE_S of chunks are decoded first;
    if their score says the speech is not English, recognition stops there (phones [], the score returned).

    Long inputs on Linux with 2+ cores decode their second half in a forked process at the same time.
    """
    import os
    import sys

    if recognizer not in RECOGNIZERS:
        raise ValueError(f"unknown recognizer {recognizer!r}")
    d = _decoder("words" if recognizer == "words" else "allphone", control)
    bounds = chunk_bounds(speech, rate, len(x))
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


# ---------------------------------------------------------------- entry point

def phones_for(x: np.ndarray, transcript: str | None, language: str, speech: np.ndarray, rate: int,
               control: JobControl, recognizer: str = "words") -> PhoneResult:
    """Choose and run the phone source for a clip (see analyze_speech for the language rules)."""
    from .alignment import align_long

    duration = len(x) / SR
    if language == "other":
        return PhoneResult([], "acoustic", 0.0, [], "other")
    warnings: list[str] = []
    check_language = language == "auto"
    if transcript is not None and transcript.strip():
        words = normalize_transcript(transcript)
        if not words:
            warnings.append("the transcript has no words after normalisation; the lips follow recognised words")
        else:
            with _decoder_lock:
                result = align_long(x, words, speech, rate, control, check_language)
            if result is not None:
                result.phones = tidy_phones(result.phones, duration)
                return result
            warnings.append("the speech does not sound like English: the transcript was not used, the mouth "
                            "follows the sound (set Language to English to force the alignment)")
            return PhoneResult([], "acoustic", 0.0, warnings, "other")
    with _decoder_lock:
        phones, confidence, english = recognize_phones(x, speech, rate, control, recognizer,
                                                       check_language and recognizer == "words")
    if english is not None and english > ENGLISH_MAX_SCORE:
        warnings.append("the speech does not sound like English (word-search score "
                        f"{english:.4f} > {ENGLISH_MAX_SCORE}): no English words were used, the mouth follows "
                        "the sound; set Language to English to force word recognition")
        return PhoneResult([], "acoustic", 0.0, warnings, "other")
    phones = tidy_phones(phones, duration)
    if language == "auto" and confidence < MIN_CONFIDENCE:
        warnings.append(f"low phone-recognition confidence ({confidence:.2f}), using acoustic mouth")
        return PhoneResult([], "acoustic", confidence, warnings, "other")
    method = "word recognition" if recognizer == "words" else "phone recognition"
    return PhoneResult(phones, "recognized", confidence, warnings, "en", [(0.0, duration, method)])
