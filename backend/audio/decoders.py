"""The pocketsphinx 5 decoders shared by recognition and forced alignment: their settings (with the measurements
that chose them), one instance of each per process, how audio is fed to them, and their output as Phones."""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import numpy as np

from ..analysis import Phone
from ..progress import JobControl
from ..vocabulary.rates import AUDIO_RATE as SR

PS_RATE = 100                 # pocketsphinx frames per second
FEED_SAMPLES = 1600           # 0.1 s per process_raw call: cancel latency ≪ 0.5 s
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
# Then (issue 10 follow-up, 215 s = all 32 clips once, ~200 p/b/m, two pause/order draws, hits against the
# per-sentence alignment the tests use): 3 words per frame 87.7 / 87.1 %; 5 words 89.7 / 89.6 % (+0.002 s/s);
# 8 words 90.1 / 90.0 %; 5 words with recognition chunks of ≤ 6 s instead of 10 s (recognition.MAX_CHUNK_S)
# 91.1 / 92.0 % at the same cost (0.065-0.066 s/s decoder CPU under load); 15,000 words 91.1 / 91.5 % but
# +0.007 s/s; a wider phone loop, no phone loop, 1500 HMMs or lw 5-8 / wip 0.2-2 gained nothing.
WORD_RECOGNITION_CONFIG = dict(fwdflat=False, bestpath=False, topn=1, maxhmmpf=2000, maxwpf=5, cmn="batch")
RECOGNITION_VOCABULARY = 10000
# Chunk alignment: the narrow search first; fast speech (LJSpeech played 1.15x) kills it on ~1 sentence in 8,
# the default beams (1e-48, all 4 Gaussians) then align it at ~1.4x the cost.
WIDE_ALIGNMENT_CONFIG = dict(beam=1e-48, pbeam=1e-48, topn=4)

_decoders: dict[str, object] = {}
decoder_lock = threading.Lock()


def shared_decoder(kind: str, control: JobControl | None = None):
    """Shared pocketsphinx decoder of `kind` ('allphone', 'words', 'align' or 'align_wide'), created once
    per process. All but 'allphone' use a batch cepstral mean: each chunk is decoded as one utterance."""
    from pocketsphinx import Decoder, get_model_path

    if kind not in _decoders:
        if kind == "allphone":
            d = Decoder(allphone=get_model_path("en-us/en-us-phone.lm.bin"), loglevel="FATAL",
                        **RECOGNITION_CONFIG)
        elif kind == "words":
            d = new_word_decoder(control)
        elif kind == "align_wide":
            d = Decoder(lm=None, loglevel="FATAL", bestpath=False, cmn="batch", **WIDE_ALIGNMENT_CONFIG)
        else:
            d = Decoder(lm=None, loglevel="FATAL", bestpath=False, cmn="batch", **ALIGNMENT_CONFIG)
        _decoders[kind] = d
    return _decoders[kind]


def new_word_decoder(control: JobControl | None = None, cmn: str = "batch"):
    """A pocketsphinx word decoder over the recognition vocabulary with WORD_RECOGNITION_CONFIG; cmn 'batch' for
    whole chunks (the shared one), 'live' for a stream fed block by block (backend/live)."""
    from pocketsphinx import Decoder

    with _vocabulary_file(RECOGNITION_VOCABULARY, control or JobControl()) as vocabulary:
        return Decoder(loglevel="FATAL", dict=vocabulary, **{**WORD_RECOGNITION_CONFIG, "cmn": cmn})


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
    values = np.fromiter(prob.values(), np.int64, len(prob))
    if size < len(values):   # sort only the words at or above the size-th best score (0.12 s → 0.01 s)
        bar = np.partition(values, len(values) - size)[len(values) - size]
        candidates = [w for w, v in zip(prob, values) if v >= bar]
    else:
        candidates = list(prob)
    keep = set(sorted(candidates, key=lambda w: (-prob[w], w))[:size])
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


def clean_word(name: str) -> str:
    return re.sub(r"\(\d+\)$", "", name)


def is_word(name: str) -> bool:
    return not (name in NOISE_WORDS or name[:1] in "<[+")

def alignment_phones(alignment, offset: float) -> list[Phone]:
    """A pocketsphinx phone alignment → Phones (times + offset seconds); fillers and noise become SIL."""
    phones: list[Phone] = []
    for w in alignment:
        word = clean_word(w.name)
        for p in w:
            label = "SIL" if (word in NOISE_WORDS or p.name.startswith("+")) else p.name.upper()
            phones.append(Phone(label, offset + p.start / PS_RATE, offset + (p.start + p.duration) / PS_RATE,
                                -1, "" if label == "SIL" else word))
    return phones
