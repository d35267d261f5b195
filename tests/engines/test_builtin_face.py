"""Built-in face engine and face metrics.

Synthetic analyses (hand-built phones, loudness, formants) test each behaviour in isolation; the
acceptance tests run the real audio analysis on the LJSpeech clips with their transcripts.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from backend.analysis import Phone, SpeechAnalysis
from backend.engines.builtin.face import FaceParams, generate_face
from backend.errors import Cancelled
from backend.metrics.face import bilabial_closure_rate, blink_rate, jitter, mean_aperture, phone_frames
from backend.progress import JobControl
from backend.vocabulary.face import ARKIT_INDEX, ARKIT_NAMES, lip_aperture
from backend.vocabulary.phonemes import BILABIALS, VOWELS
from backend.vocabulary.rates import MOTION_FPS as FPS

OPEN_VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY")
MOUTH = [i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("jaw", "mouth", "tongue"))]
EYE_LOOK = [i for i, n in enumerate(ARKIT_NAMES) if n.startswith("eyeLook")]
# rough adult formants (F1, F2) in Hz, enough to drive the acoustic mouth
FORMANTS = {"AA": (750, 1100), "AE": (700, 1700), "AH": (620, 1200), "AO": (570, 850), "EH": (550, 1800),
            "ER": (480, 1350), "IH": (400, 2000), "IY": (290, 2300), "UH": (450, 1000), "UW": (320, 850),
            "AW": (700, 1150), "AY": (700, 1500), "EY": (450, 2000), "OW": (480, 900), "OY": (550, 1300)}
FRICATIVES = {"S", "Z", "SH", "ZH", "F", "V", "TH", "DH", "CH", "JH", "HH"}
LABELS = "P AA M B IY UW F AE T SH OW W AH N D S K AY AW V L R EH IH ER G Z".split()


def col(name: str) -> int:
    return ARKIT_INDEX[name]


def make_analysis(phones: list[tuple[str, float]], pause_after: frozenset[int] = frozenset(),
                  lead_in: float = 0.5, pause: float = 0.6, tail: float = 0.6, loud_scale: float = 1.0,
                  with_phones: bool = True) -> SpeechAnalysis:
    """A SpeechAnalysis for phones spoken back to back ((label, duration) pairs), with a silent
    pause after the phone indices in `pause_after`; loudness, voicing, formants and frication
    follow the phones, a pitch accent sits on the first vowel of every phrase."""
    out, segments, t, seg_start = [], [], lead_in, lead_in
    for i, (label, dur) in enumerate(phones):
        out.append(Phone(label, t, t + dur))
        t += dur
        if i in pause_after and i != len(phones) - 1:
            segments.append((seg_start, t))
            t += pause
            seg_start = t
    segments.append((seg_start, t))
    duration = t + tail
    n = int(round(duration * FPS))
    loud = np.zeros(n)
    voiced = np.zeros(n, bool)
    formants = np.zeros((n, 2))
    fric = np.zeros(n)
    speech = np.zeros(n, bool)

    def frames(start, end):
        return slice(int(np.ceil(start * FPS)), int(np.ceil(end * FPS)))

    for s, e in segments:
        speech[frames(s, e)] = True
    for ph in out:
        m = frames(ph.start, ph.end)
        if ph.label in VOWELS:
            loud[m], voiced[m], formants[m] = 0.85, True, FORMANTS[ph.label]
        else:
            loud[m] = 0.15 if ph.label in BILABIALS else 0.4
            fric[m] = 0.8 if ph.label in FRICATIVES else 0.1
    accents = [next(p.start for p in out if p.label in VOWELS and p.start >= s) for s, e in segments
               if any(p.label in VOWELS and s <= p.start < e for p in out)]
    return SpeechAnalysis(
        duration=duration, n_frames=n, loudness=(loud * loud_scale).astype(np.float32), speech=speech,
        voiced=voiced, f0=np.where(voiced, 120.0, 0.0).astype(np.float32),
        onset_strength=np.zeros(n, np.float32), formants=formants.astype(np.float32),
        fricative=fric.astype(np.float32), onsets=np.zeros(0), pitch_accents=np.array(accents, float),
        accent_strength=np.full(len(accents), 0.8), stresses=np.zeros(0), stress_strength=np.zeros(0),
        segments=segments, phones=out if with_phones else [],
        phone_source="transcript" if with_phones else "acoustic", phone_confidence=1.0 if with_phones else 0.0)


def random_speech(n_phones: int, seed: int, phrase_len: int = 30, with_phones: bool = True) -> SpeechAnalysis:
    """Random phone string with realistic durations and a pause every ~phrase_len phones."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(LABELS, n_phones)
    durs = np.where(np.isin(labels, list(VOWELS)), rng.uniform(0.07, 0.17, n_phones), rng.uniform(0.035, 0.1, n_phones))
    pauses = frozenset(int(i) for i in np.cumsum(rng.integers(phrase_len // 2, phrase_len * 3 // 2, n_phones))
                       if i < n_phones)
    return make_analysis(list(zip(labels.tolist(), durs.tolist())), pauses, with_phones=with_phones)


def face(analysis, emotion="neutral", intensity=0.5, seed=0, **kw):
    return generate_face(analysis, emotion, intensity, np.random.default_rng(seed), **kw)


@pytest.fixture(scope="module")
def speech_3min():
    return random_speech(1800, seed=3)


# ------------------------------------------------------------------------------- output contract

@pytest.mark.parametrize("emotion", ["neutral", "happy", "sad", "angry", "surprised"])
def test_output_shape_range_and_finite(speech_3min, emotion):
    out = face(speech_3min, emotion, 1.0)
    assert out.shape == (speech_3min.n_frames, 52) and out.dtype == np.float32
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_unknown_emotion_rejected(speech_3min):
    with pytest.raises(ValueError, match="emotion"):
        face(speech_3min, "bored")


def test_zero_frames():
    a = make_analysis([("AA", 0.1)], lead_in=0.0, tail=0.0)
    a = replace(a, n_frames=0, duration=0.0, phones=[], loudness=np.zeros(0, np.float32), speech=np.zeros(0, bool),
                voiced=np.zeros(0, bool), f0=np.zeros(0, np.float32), formants=np.zeros((0, 2), np.float32),
                fricative=np.zeros(0, np.float32), onset_strength=np.zeros(0, np.float32), segments=[],
                pitch_accents=np.zeros(0), accent_strength=np.zeros(0))
    assert face(a).shape == (0, 52)


# ------------------------------------------------------------------------------- mouth from phones

def test_bilabials_close_and_open_vowels_open(speech_3min):
    out = face(speech_3min)
    assert bilabial_closure_rate(out, speech_3min.phones) >= 0.99
    pbm = mean_aperture(out, speech_3min.phones, BILABIALS)
    open_ = mean_aperture(out, speech_3min.phones, OPEN_VOWELS)
    assert open_ >= 3.0 * pbm and open_ > 0.2


def test_very_short_bilabial_between_open_vowels_still_seals():
    # 25 ms /p/ between two wide vowels: shorter than a frame, the jaw barely has time to close
    a = make_analysis([("AA", 0.15), ("P", 0.025), ("AA", 0.15), ("M", 0.03), ("AE", 0.15)])
    out = face(a)
    assert bilabial_closure_rate(out, a.phones) == 1.0
    # the seal presses the lips; it does not just snap the jaw shut
    p = a.phones[1]
    k = phone_frames(p, FPS, a.n_frames)
    assert out[k, col("mouthPressLeft")].max() > 0.1


def test_stress_digits_and_unknown_labels_do_not_shut_the_mouth():
    plain = make_analysis([("HH", 0.06), ("AA", 0.16), ("T", 0.06), ("AA", 0.16)])
    stressed = replace(plain, phones=[replace(p, label=l) for p, l in zip(plain.phones, ["HH", "AA1", "T", "AA0"])])
    np.testing.assert_array_equal(face(plain), face(stressed))
    odd = make_analysis([("HH", 0.06), ("AA", 0.16), ("XX", 0.2), ("AA", 0.16)])
    unknown = phone_frames(odd.phones[2], FPS, odd.n_frames)
    assert lip_aperture(face(odd)[unknown]).min() > 0.15


def test_fv_roll_lower_lip_and_rounded_vowels_pucker():
    a = make_analysis([("AH", 0.12), ("F", 0.09), ("AH", 0.12), ("V", 0.09), ("AH", 0.12), ("UW", 0.16),
                       ("T", 0.06), ("OW", 0.18), ("D", 0.06), ("IY", 0.16), ("T", 0.06), ("AE", 0.14)])
    out = face(a)

    def mean_at(label, channel):
        frames = np.concatenate([phone_frames(p, FPS, a.n_frames) for p in a.phones if p.label == label])
        return float(out[frames, col(channel)].mean())

    assert mean_at("F", "mouthRollLower") > 0.25 and mean_at("V", "mouthRollLower") > 0.25
    assert mean_at("F", "mouthUpperUpLeft") > mean_at("AH", "mouthUpperUpLeft")
    assert mean_at("UW", "mouthPucker") > 0.3 and mean_at("OW", "mouthFunnel") > 0.15
    assert mean_at("UW", "mouthPucker") > 3 * mean_at("IY", "mouthPucker")
    assert mean_at("IY", "mouthStretchLeft") > 2 * mean_at("UW", "mouthStretchLeft")


def test_coarticulation_anticipates_and_carries_over():
    # the /s/ before /uw/ is already rounded compared with the /s/ before /iy/ (anticipation);
    # the /t/ after /uw/ is still rounded compared with the /t/ after /iy/ (carry-over)
    rounded = make_analysis([("AH", 0.12), ("S", 0.09), ("UW", 0.16), ("T", 0.07), ("AH", 0.12)])
    spread = make_analysis([("AH", 0.12), ("S", 0.09), ("IY", 0.16), ("T", 0.07), ("AH", 0.12)])
    r, s = face(rounded), face(spread)
    s_mid = rounded.frame_of(0.5 * (rounded.phones[1].start + rounded.phones[1].end))
    t_mid = rounded.frame_of(0.5 * (rounded.phones[3].start + rounded.phones[3].end))
    pucker = col("mouthPucker")
    assert r[s_mid, pucker] > s[s_mid, pucker] + 0.1
    assert r[t_mid, pucker] > s[t_mid, pucker] + 0.1
    # curves move continuously through phone boundaries instead of holding a value per phone
    seg = r[rounded.frame_of(0.5):rounded.frame_of(1.1), pucker]
    assert len(np.unique(np.round(seg, 4))) > 0.8 * len(seg)


def test_mouth_is_smooth_and_a_stepwise_mouth_is_not(speech_3min):
    out = face(speech_3min)
    mouth_jitter = jitter(out[:, MOUTH])
    assert mouth_jitter.max() < 0.04 and mouth_jitter.mean() < 0.012
    # the same targets held per phone (no coarticulation) would fail the bound
    held = np.zeros_like(out)
    for p in speech_3min.phones:
        k = phone_frames(p, FPS, speech_3min.n_frames)
        held[k, col("jawOpen")] = 0.5 if p.label in VOWELS else 0.05
    assert jitter(held[:, col("jawOpen")]) > 0.04


def test_jaw_opening_scales_with_loudness():
    phones = [(l, 0.12 if l in VOWELS else 0.07) for l in "HH AA L AA T AE N AH S AA".split()]
    loud, quiet = face(make_analysis(phones, loud_scale=1.0)), face(make_analysis(phones, loud_scale=0.4))
    jaw = col("jawOpen")
    assert loud[:, jaw].mean() > 1.2 * quiet[:, jaw].mean()


def test_silence_relaxes_the_mouth_closed():
    a = make_analysis([("AA", 0.15), ("T", 0.06), ("AA", 0.15)] * 3, pause_after=frozenset({2}),
                      pause=3.0, tail=2.0)
    out = face(a)
    pause_frames = np.arange(a.frame_of(a.segments[0][1] + 0.4), a.frame_of(a.segments[1][0] - 0.4))
    tail_frames = np.arange(a.frame_of(a.segments[-1][1] + 0.4), a.n_frames)
    for frames in (pause_frames, tail_frames):
        aperture = lip_aperture(out[frames])
        assert np.abs(aperture).max() < 0.015
        assert out[np.ix_(frames, MOUTH)].max() < 0.06


# ------------------------------------------------------------------------------- emotion

def test_emotions_change_the_face_in_the_expected_direction(speech_3min):
    neutral = face(speech_3min, "neutral", 0.8)
    happy, sad = face(speech_3min, "happy", 0.8), face(speech_3min, "sad", 0.8)
    angry, surprised = face(speech_3min, "angry", 0.8), face(speech_3min, "surprised", 0.8)

    def m(arr, *names):
        return float(arr[:, [col(n) for n in names]].mean())

    assert m(happy, "mouthSmileLeft", "mouthSmileRight") > m(neutral, "mouthSmileLeft", "mouthSmileRight") + 0.2
    assert m(happy, "cheekSquintLeft") > m(neutral, "cheekSquintLeft") + 0.15
    assert m(sad, "browInnerUp") > m(neutral, "browInnerUp") + 0.2
    assert m(sad, "mouthFrownLeft", "mouthFrownRight") > m(neutral, "mouthFrownLeft", "mouthFrownRight") + 0.15
    assert m(sad, "jawOpen") < 0.9 * m(neutral, "jawOpen")  # less energy
    assert m(angry, "browDownLeft", "browDownRight") > m(neutral, "browDownLeft", "browDownRight") + 0.3
    assert m(angry, "noseSneerLeft") > m(neutral, "noseSneerLeft") + 0.15
    assert m(angry, "mouthPressLeft") > m(neutral, "mouthPressLeft") + 0.1
    assert m(surprised, "eyeWideLeft", "eyeWideRight") > m(neutral, "eyeWideLeft", "eyeWideRight") + 0.25
    assert m(surprised, "browOuterUpLeft") > m(neutral, "browOuterUpLeft") + 0.25
    assert m(surprised, "jawOpen") > m(neutral, "jawOpen") + 0.05
    # every emotion still seals the lips on p/b/m
    for arr in (happy, sad, angry, surprised):
        assert bilabial_closure_rate(arr, speech_3min.phones) >= 0.99


def test_intensity_scales_emotion_and_zero_is_neutral(speech_3min):
    neutral = face(speech_3min, "neutral", 0.5)
    smiles = [face(speech_3min, "happy", i)[:, col("mouthSmileLeft")].mean() for i in (0.0, 0.5, 1.0)]
    assert smiles[0] < smiles[1] < smiles[2]
    for emotion in ("happy", "sad", "angry", "surprised"):
        np.testing.assert_allclose(face(speech_3min, emotion, 0.0), neutral, atol=1e-6)


# ------------------------------------------------------------------------------- eyes and brows

def test_blinks_rate_shape_and_clustering():
    a = random_speech(3600, seed=11)  # ~6 min
    out = face(a, seed=5)
    rate = blink_rate(out)
    assert 12.0 <= rate <= 24.0, rate
    left, right = out[:, col("eyeBlinkLeft")], out[:, col("eyeBlinkRight")]
    np.testing.assert_array_equal(left, right)
    closed = left >= 0.5
    starts = np.flatnonzero(closed[1:] & ~closed[:-1]) + 1
    ends = np.flatnonzero(closed[:-1] & ~closed[1:]) + 1
    lengths = ends[: len(starts)] - starts[: len(ends)] if starts[0] < ends[0] else ends[1:] - starts[: len(ends) - 1]
    assert lengths.max() <= 4  # ≤ ~130 ms below half-open: a blink, not a nap
    assert left.max() > 0.9
    gaps = np.diff(starts) / FPS
    assert np.any(gaps < 0.45), "expected some double blinks"
    # more blinking just after phrase ends than on average
    after_phrase = np.zeros(a.n_frames, bool)
    for _, e in a.segments[:-1]:
        after_phrase[a.frame_of(e):a.frame_of(e + 0.5)] = True
    assert closed[after_phrase].mean() > 2.0 * closed.mean()


def test_gaze_channels_consistent_saccadic_and_averted_more_while_speaking():
    a = random_speech(3600, seed=12)
    speaking = np.asarray(a.speech)
    away_speaking, away_pausing = [], []
    for seed in range(4):
        out = face(a, seed=seed)
        look = {n: out[:, col(n)] for n in ARKIT_NAMES if n.startswith("eyeLook")}
        np.testing.assert_array_equal(look["eyeLookOutLeft"], look["eyeLookInRight"])
        np.testing.assert_array_equal(look["eyeLookInLeft"], look["eyeLookOutRight"])
        np.testing.assert_array_equal(look["eyeLookUpLeft"], look["eyeLookUpRight"])
        assert not np.any((look["eyeLookInLeft"] > 0) & (look["eyeLookOutLeft"] > 0))
        assert not np.any((look["eyeLookUpLeft"] > 0) & (look["eyeLookDownLeft"] > 0))
        yaw = look["eyeLookOutLeft"] - look["eyeLookInLeft"]
        pitch = look["eyeLookUpLeft"] - look["eyeLookDownLeft"]
        blink = out[:, col("eyeBlinkLeft")]
        pitch = pitch + FaceParams().blink_gaze_dip * blink  # undo the blink's downward roll
        speed = np.hypot(np.diff(yaw), np.diff(pitch))
        # fast saccades then fixation: most frames nearly still, the shifts happen in 1–3 frames
        assert np.median(speed) < 0.01
        assert np.percentile(speed, 99.5) > 0.08
        magnitude = np.hypot(yaw, pitch)
        away_speaking.append(np.mean(magnitude[speaking] > 0.1))
        away_pausing.append(np.mean(magnitude[~speaking] > 0.1))
    assert np.mean(away_speaking) > np.mean(away_pausing) + 0.1


def test_brows_rise_on_pitch_accents():
    a = random_speech(1200, seed=13)
    out = face(a)
    brow = out[:, col("browOuterUpLeft")]
    near = np.zeros(a.n_frames, bool)
    for t in a.pitch_accents:
        near[a.frame_of(t):a.frame_of(t + 0.2)] = True
    assert brow[near].mean() > 3.0 * brow[~near].mean() + 0.05
    assert np.allclose(out[:, col("browOuterUpLeft")], out[:, col("browOuterUpRight")])


# ------------------------------------------------------------------------------- determinism, rng

def test_deterministic_per_seed_and_seed_changes_eyes_not_mouth(speech_3min):
    a, b, c = face(speech_3min, seed=7), face(speech_3min, seed=7), face(speech_3min, seed=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, MOUTH], c[:, MOUTH])
    assert not np.array_equal(a[:, col("eyeBlinkLeft")], c[:, col("eyeBlinkLeft")])
    assert not np.array_equal(a[:, EYE_LOOK], c[:, EYE_LOOK])


# ------------------------------------------------------------------------------- acoustic fallback

def test_acoustic_mouth_follows_loudness_and_formants():
    a = random_speech(900, seed=21, with_phones=False)
    assert a.phones == [] and a.phone_source == "acoustic"
    out = face(a)
    jaw = out[:, col("jawOpen")]
    assert np.corrcoef(jaw, a.loudness)[0, 1] > 0.6
    assert jitter(out[:, MOUTH]).max() < 0.04
    # silence closes; rounded vowels (low F2) pucker more than spread ones (high F2)
    silent = ~np.asarray(a.speech)
    silent[: a.frame_of(0.3)] = False
    assert np.abs(lip_aperture(out[silent])).mean() < 0.02
    f2 = a.formants[:, 1]
    low, high = (f2 > 0) & (f2 < 1000), f2 > 1900
    assert out[low, col("mouthPucker")].mean() > out[high, col("mouthPucker")].mean() + 0.1


# ------------------------------------------------------------------------------- long input, speed, cancel

@pytest.mark.slow  # an hour of face curves (8 s)
def test_one_hour_is_finite_and_checks_for_cancel_throughout():
    # speed per audio minute is measured by benchmarks/bench_builtin.py, not asserted here
    a = random_speech(38000, seed=31)  # ~61 min
    assert a.n_frames >= 108_000
    checks = []

    class Counting(JobControl):
        def check(self):
            checks.append(len(checks))
            super().check()

    out = face(a, "happy", 0.7, control=Counting())
    assert out.shape == (a.n_frames, 52) and np.isfinite(out).all()
    assert len(checks) >= 5


def test_cancel_raises():
    control = JobControl()
    control.cancel_event.set()
    with pytest.raises(Cancelled):
        face(random_speech(300, seed=1), control=control)


# ------------------------------------------------------------------------------- metrics themselves

def test_metrics_on_hand_made_curves():
    phones = [Phone("AA", 0.0, 0.2), Phone("P", 0.2, 0.3), Phone("AA", 0.3, 0.5), Phone("M", 0.5, 0.6)]
    arkit = np.zeros((18, 52), np.float32)
    arkit[:, col("jawOpen")] = 0.4
    assert bilabial_closure_rate(arkit, phones) == 0.0
    arkit[7:9, col("mouthClose")] = 0.4  # the /p/ (frames 6–9) seals, the /m/ does not
    assert bilabial_closure_rate(arkit, phones) == 0.5
    assert mean_aperture(arkit, phones, ["AA"]) == pytest.approx(0.4)
    assert np.isnan(bilabial_closure_rate(arkit, [Phone("AA", 0.0, 0.5)]))
    assert np.isnan(mean_aperture(arkit, phones, ["IY"]))
    # a 20 ms phone between frame times still owns the nearest frame
    assert list(phone_frames(Phone("P", 0.105, 0.125), FPS, 18)) == [3, 4]
    rng = np.random.default_rng(0)
    smooth = np.sin(np.linspace(0, 20, 600))
    assert jitter(smooth) < 0.01 < jitter(smooth + rng.normal(0, 0.05, 600))
    lids = np.zeros((300, 52))
    lids[[30, 31, 100, 200, 201, 202], col("eyeBlinkLeft")] = 1.0
    lids[[30, 31, 100, 200, 201, 202], col("eyeBlinkRight")] = 1.0
    assert blink_rate(lids) == pytest.approx(3 / (10 / 60))


# ------------------------------------------------------------------------------- acceptance on real speech

def _pooled(items):
    """Concatenate (analysis, arkit) pairs into one timeline → (arkit (T, 52), phones)."""
    phones, offset = [], 0.0
    for a, out in items:
        phones += [replace(p, start=p.start + offset, end=p.end + offset) for p in a.phones]
        offset += out.shape[0] / FPS
    return np.concatenate([out for _, out in items]), phones


@pytest.fixture(scope="module")
def lj_faces(shared_dir, lj_transcripts, analysed):
    """Every LJSpeech clip analysed for real (forced alignment where metadata.csv has the words,
    phone recognition elsewhere) and animated: clip id → (analysis, arkit)."""
    wavs = sorted((shared_dir / "data" / "speech" / "ljspeech").glob("*.wav"))
    assert len(wavs) >= 8
    out = {}
    for i, wav in enumerate(wavs):
        _, a = analysed(wav, lj_transcripts.get(wav.stem), "en")
        out[wav.stem] = (a, face(a, seed=i))
    return out


def test_lj_forced_aligned_bilabials_close_and_open_vowels_open(lj_faces, lj_transcripts):
    aligned = [v for k, v in lj_faces.items() if k in lj_transcripts]
    assert len(aligned) >= 8 and all(a.phone_source == "transcript" for a, _ in aligned)
    arkit, phones = _pooled(aligned)
    n_bilabial = sum(p.label in BILABIALS for p in phones)
    assert n_bilabial >= 30
    rate = bilabial_closure_rate(arkit, phones)
    ratio = mean_aperture(arkit, phones, OPEN_VOWELS) / mean_aperture(arkit, phones, BILABIALS)
    print(f"LJSpeech forced-aligned: {n_bilabial} p/b/m, closure {rate:.3f}, open/pbm aperture ratio {ratio:.1f}")
    assert rate >= 0.95
    assert ratio >= 3.0


def test_lj_all_clips_close_on_whatever_phones_were_found(lj_faces):
    with_phones = [(a, out) for a, out in lj_faces.values() if a.phones]
    assert len(with_phones) >= 0.75 * len(lj_faces)
    arkit, phones = _pooled(with_phones)
    assert bilabial_closure_rate(arkit, phones) >= 0.95
    assert mean_aperture(arkit, phones, OPEN_VOWELS) >= 3.0 * mean_aperture(arkit, phones, BILABIALS)
    assert jitter(arkit[:, MOUTH]).max() < 0.04
    assert 8.0 <= blink_rate(arkit) <= 30.0  # ~3.7 min pooled
    assert np.isfinite(arkit).all() and arkit.min() >= 0.0 and arkit.max() <= 1.0


def test_real_acoustic_fallback_follows_loudness(shared_dir, analysed):
    for wav in sorted((shared_dir / "data" / "speech" / "ljspeech").glob("*.wav"))[:3]:
        _, a = analysed(wav, None, "other")
        assert a.phones == [] and a.phone_source == "acoustic"
        out = face(a)
        assert np.corrcoef(out[:, col("jawOpen")], a.loudness)[0, 1] > 0.6
        silent = ~np.asarray(a.speech)
        if silent.any():
            assert np.abs(lip_aperture(out[silent])).mean() < 0.03
        assert jitter(out[:, MOUTH]).max() < 0.04
