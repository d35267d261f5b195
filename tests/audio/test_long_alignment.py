"""Transcripts of any length: 60 s and 5 min of real speech align, a missing sentence costs only itself,
the warnings say what was done where, and Mandarin with language 'auto' gets no English words.

The reference for lip timing is the per-sentence forced alignment (each LJSpeech sentence aligned alone to
its own stretch of the joined file, with the metadata's normalised text): what a user gets from short clips.
"""
from __future__ import annotations

import numpy as np
import pytest

from backend.audio.analyze import analyze_speech
from backend.audio.forced_alignment import align_transcript
from backend.audio.io import LoadedAudio, load_audio
from backend.audio.phone_timing import describe_phone_timing
from backend.audio.transcript_text import normalize_transcript
from backend.progress import JobControl
from backend.vocabulary.phonemes import BILABIALS
from tests.audio.speech_material import long_speech
from tests.conftest import ljspeech_transcripts


def audio_of(x: np.ndarray) -> LoadedAudio:
    return LoadedAudio(np.asarray(x, np.float32), 16000, 16000, 1, "WAV PCM_16")


_reference_cache: dict[str, list] = {}


def per_sentence_reference(speech) -> list:
    """Per-sentence alignment of every sentence (one alignment per distinct clip: the same samples with the
    same margins align the same wherever they sit, the cepstral mean being per utterance)."""
    spoken = ljspeech_transcripts()
    out = []
    for s in speech.sentences:
        a, b = int((s.start - 0.1) * 16000), int((s.end + 0.1) * 16000)
        if s.clip_id not in _reference_cache:
            phones, _ = align_transcript(speech.samples[a:b], normalize_transcript(spoken[s.clip_id]),
                                           JobControl())
            _reference_cache[s.clip_id] = [(p.label, p.start, p.end) for p in phones]
        out += [(label, t0 + a / 16000, t1 + a / 16000) for label, t0, t1 in _reference_cache[s.clip_id]]
    return out


def bilabial_hits(phones, reference, within: tuple[float, float] | None = None) -> tuple[int, int]:
    """(reference p/b/m with a p/b/m of `phones` within 60 ms, reference p/b/m), optionally in a time range."""
    ref = np.array([(a + b) / 2 for label, a, b in reference if label in BILABIALS])
    if within is not None:
        ref = ref[(ref >= within[0]) & (ref < within[1])]
    got = np.array([(p.start + p.end) / 2 for p in phones if p.label in BILABIALS])
    hits = sum(bool(len(got)) and float(np.abs(got - r).min()) < 0.06 for r in ref)
    return hits, len(ref)


@pytest.fixture(scope="module")
def minute():
    speech = long_speech(60)
    return speech, per_sentence_reference(speech)


@pytest.fixture(scope="module")
def five_minutes():
    speech = long_speech(300)
    return speech, per_sentence_reference(speech)


def _check_aligned(speech, reference) -> None:
    a = analyze_speech(audio_of(speech.samples), speech.transcript(), "auto")
    assert a.phone_source == "transcript" and a.language == "en"
    assert not any("could not be aligned" in w or "matches no transcript" in w or "not heard" in w
                   for w in a.warnings), a.warnings
    assert {m for _, _, m in a.phone_spans} == {"forced alignment"}
    assert describe_phone_timing(a.phone_source, a.phone_spans) == "forced alignment of the transcript"
    covered = sum(e - s for s, e, _ in a.phone_spans)
    assert covered >= 0.9 * sum(s.end - s.start for s in speech.sentences)
    hits, total = bilabial_hits(a.phones, reference)
    assert total >= 0.8 * speech.duration and hits >= 0.95 * total, (hits, total)


@pytest.mark.slow  # a minute of forced alignment (8 s)
def test_a_minute_of_speech_aligns_to_its_transcript(minute):
    _check_aligned(*minute)


@pytest.mark.slow  # 5 min of forced alignment
def test_five_minutes_of_speech_align_to_their_transcript(five_minutes):
    _check_aligned(*five_minutes)


@pytest.mark.slow  # a minute of forced alignment, twice (8 s)
def test_a_missing_and_an_unspoken_sentence_cost_only_themselves(minute):
    """Sentence 3 is left out of the transcript; a sentence nobody says is added before sentence 6."""
    speech, reference = minute
    gone = 3
    lost = speech.sentences[gone]
    extra = "Nobody ever said this sentence about seven purple elephants walking to the market."
    texts = [s.text for s in speech.sentences]
    transcript = " ".join(texts[:gone] + texts[gone + 1:6] + [extra] + texts[6:])
    a = analyze_speech(audio_of(speech.samples), transcript, "en")
    assert a.phone_source == "transcript"
    recognised = [(s, e) for s, e, m in a.phone_spans if m != "forced alignment"]
    assert recognised, a.phone_spans
    for s, e in recognised:               # only the missing sentence falls back to recognition
        assert lost.start - 1.0 <= s and e <= lost.end + 1.0, (recognised, lost)
    # the warnings name that stretch and say what was done there, and which words were left out
    notes = [w for w in a.warnings if "matches no transcript words" in w]
    assert len(notes) == 1 and "recognised words" in notes[0], a.warnings
    s, e = recognised[0]
    assert f"{s:.1f}–{e:.1f} s" in notes[0]
    assert describe_phone_timing(a.phone_source, a.phone_spans) == \
        f"forced alignment of the transcript; word recognition {s:.1f}–{e:.1f} s"
    left_out = [w for w in a.warnings if "not heard" in w]
    assert len(left_out) == 1 and "nobody ever said" in left_out[0], a.warnings
    assert "elephants" not in {p.word for p in a.phones}
    assert not any("could not be aligned" in w for w in a.warnings), a.warnings
    # the rest keeps the transcript's lip timing (measured 46/49: the words next to the unspoken sentence
    # are where the cut may land a word off)
    hits = total = 0
    for k, sentence in enumerate(speech.sentences):
        if k != gone:
            h, t = bilabial_hits(a.phones, reference, (sentence.start, sentence.end))
            hits, total = hits + h, total + t
    assert hits >= 0.9 * total, (hits, total)


def test_a_transcript_that_fits_nowhere_says_so():
    speech = long_speech(12)
    a = analyze_speech(audio_of(speech.samples), "hello zorblatt", "en")
    assert a.phone_source == "recognized"
    assert {m for _, _, m in a.phone_spans} == {"word recognition"}
    assert any("could not be aligned to the audio anywhere" in w and "recognised words" in w for w in a.warnings)
    assert not any("recognising phones" in w for w in a.warnings)   # it runs word recognition, says so


@pytest.fixture(scope="module")
def mandarin(shared_dir):
    return load_audio(shared_dir / "data" / "face" / "facegood" / "1114_2_01.wav")


@pytest.mark.parametrize("transcript", [None, "ni hao this is not what she says"])
def test_mandarin_with_auto_gets_no_english_words(mandarin, transcript):
    a = analyze_speech(mandarin, transcript, "auto")
    assert a.phones == [] and a.phone_source == "acoustic" and a.language == "other"
    assert describe_phone_timing(a.phone_source, a.phone_spans) == "acoustic mouth (no phone timing)"
    assert any("does not sound like English" in w for w in a.warnings), a.warnings
    assert a.speech.mean() > 0.3 and len(a.stresses) > 10    # the acoustic mouth still has speech to follow


@pytest.mark.parametrize("clip, start_s", [("1114_2_02", 0), ("1114_2_03", 30), ("1114_2_04", 60), ("1114_2_05", 80)])
def test_every_mandarin_clip_with_auto_gets_no_english_words(shared_dir, clip, start_s):
    """The other FACEGOOD recordings, judged from a later start than the first 20 s the threshold was set on."""
    audio = load_audio(shared_dir / "data" / "face" / "facegood" / f"{clip}.wav")
    a = analyze_speech(audio_of(audio.samples[start_s * 16000:]), None, "auto")
    assert a.phones == [] and a.phone_source == "acoustic" and a.language == "other", a.warnings
    assert any("no English words were used" in w for w in a.warnings), a.warnings


def test_english_with_auto_is_english(minute):
    speech, _ = minute
    a = analyze_speech(audio_of(speech.samples[: 25 * 16000]), None, "auto")
    assert a.phone_source == "recognized" and a.language == "en"
    assert {m for _, _, m in a.phone_spans} == {"word recognition"}
    assert describe_phone_timing(a.phone_source, a.phone_spans) == "word recognition"
