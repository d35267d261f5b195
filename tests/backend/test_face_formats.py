"""Oculus visemes and VRM expressions from ARKit curves, on real speech and on a long random phone string:
the lips close on p/b/m (viseme_PP owns the mouth; VRM vowels fade out), open vowels pick their viseme,
weights stay in range; `--face-format` writes the curves beside face_arkit.csv."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from backend.app.cli import main
from backend.formats.face_formats import arkit_to_oculus, arkit_to_vrm, face_curves
from backend.metrics.face import phone_frames
from backend.options import GenerateOptions
from backend.generation.pipeline import generate, write_generation
from backend.vocabulary.face import OCULUS_VISEMES, VRM_EXPRESSIONS
from backend.vocabulary.phonemes import BILABIALS

from ..engines.test_builtin_face import face, random_speech

OPENING = [OCULUS_VISEMES.index(v) for v in ("viseme_aa", "viseme_E", "viseme_I", "viseme_O", "viseme_U",
                                             "viseme_DD", "viseme_kk", "viseme_nn", "viseme_TH")]
PP = OCULUS_VISEMES.index("viseme_PP")
VOWELS_VRM = [VRM_EXPRESSIONS.index(v) for v in ("aa", "ih", "ou", "ee", "oh")]


@pytest.fixture(scope="module")
def real_speech(lj_clip, lj_transcripts):
    """One generation on LJ001-0001 (9.7 s) with its transcript: the phones and the ARKit curves."""
    options = GenerateOptions(transcript=lj_transcripts[lj_clip.stem], seed=1)
    gen = generate(lj_clip, options)
    return gen, options


def closure_checks(arkit, phones, fps=30):
    oculus, vrm = arkit_to_oculus(arkit), arkit_to_vrm(arkit)
    bilabials = [phone_frames(p, fps, len(arkit)) for p in phones if p.label.upper() in BILABIALS]
    bilabials = [f for f in bilabials if len(f)]
    pp_closed = np.mean([oculus[f, PP].max() >= 0.9 and oculus[f][:, OPENING].sum(1).min() <= 0.1 for f in bilabials])
    vrm_closed = np.mean([vrm[f][:, VOWELS_VRM].sum(1).min() <= 0.1 for f in bilabials])
    return oculus, vrm, pp_closed, vrm_closed


def test_real_speech_closes_on_pbm_and_opens_on_vowels(real_speech):
    gen, _ = real_speech
    arkit = gen.takes[0].arkit
    oculus, vrm, pp_closed, vrm_closed = closure_checks(arkit, gen.analysis.phones)
    print(f"LJ001-0001: viseme_PP seals {pp_closed:.0%} of p/b/m, VRM vowels close on {vrm_closed:.0%}")
    assert pp_closed >= 0.9 and vrm_closed >= 0.9
    open_frames = np.concatenate([phone_frames(p, 30, len(arkit)) for p in gen.analysis.phones
                                  if p.label.upper() in ("AA", "AE", "AH")])
    assert oculus[open_frames, OCULUS_VISEMES.index("viseme_aa")].mean() > 0.3
    assert vrm[open_frames, VRM_EXPRESSIONS.index("aa")].mean() > 0.3
    np.testing.assert_allclose(oculus.sum(1), 1.0, atol=1e-6)
    assert oculus.min() >= 0.0 and vrm.min() >= 0.0 and vrm.max() <= 1.0


def test_long_random_speech_picks_each_vowels_viseme():
    analysis = random_speech(900, seed=5)
    arkit = face(analysis)
    oculus, vrm, pp_closed, vrm_closed = closure_checks(arkit, analysis.phones)
    assert pp_closed >= 0.95 and vrm_closed >= 0.95
    for phone, viseme, vrm_name in (("AA", "viseme_aa", "aa"), ("IY", "viseme_I", "ih"), ("UW", "viseme_U", "ou"),
                                    ("EH", "viseme_E", "ee"), ("F", "viseme_FF", None), ("S", "viseme_SS", None)):
        frames = np.concatenate([phone_frames(p, 30, len(arkit)) for p in analysis.phones if p.label == phone])
        assert OCULUS_VISEMES[1 + int(np.argmax(oculus[frames, 1:].mean(0)))] == viseme, phone
        if vrm_name:
            assert VRM_EXPRESSIONS[int(np.argmax(vrm[frames][:, VOWELS_VRM].mean(0)))] == vrm_name, phone


def test_vrm_blinks_and_emotions():
    arkit = np.zeros((4, 52))
    arkit[1, [0, 7]] = 1.0                 # both eyes closed
    arkit[2, 0] = 1.0                      # a left wink
    arkit[3, [47, 48]] = 0.4               # cheekSquint of a full-intensity happy style
    vrm = arkit_to_vrm(arkit)
    col = {n: i for i, n in enumerate(VRM_EXPRESSIONS)}
    assert vrm[1, col["blink"]] == 1.0 and vrm[1, col["blinkLeft"]] == 0.0
    assert vrm[2, col["blink"]] == 0.0 and vrm[2, col["blinkLeft"]] == 1.0
    assert vrm[3, col["happy"]] == pytest.approx(1.0)
    assert not vrm[:, col["relaxed"]].any()
    with pytest.raises(ValueError):
        face_curves(arkit, "mpeg4")


@pytest.mark.parametrize("face_format", ["oculus", "vrm"])
def test_generation_writes_face_format_csv(real_speech, tmp_path, face_format):
    gen, options = real_speech
    options = GenerateOptions(**{**options.__dict__, "face_format": face_format}).validated()
    summary = write_generation(gen, tmp_path, options)
    path = summary.takes[0].face_format_csv
    assert path.endswith(f"face_{face_format}.csv")
    rows = list(csv.reader(open(path, encoding="utf-8")))
    names = OCULUS_VISEMES if face_format == "oculus" else VRM_EXPRESSIONS
    assert rows[0] == ["Time", *names]
    assert len(rows) - 1 == len(gen.takes[0].arkit)
    assert float(rows[2][0]) == pytest.approx(1 / 30, abs=1e-6)
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_allclose(values, face_curves(gen.takes[0].arkit, face_format)[1], atol=1e-5)


def test_unknown_face_format_is_a_usage_error(lj_clip, tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["generate", str(lj_clip), "-o", str(tmp_path), "--face-format", "mpeg4"])
    assert raised.value.code == 2
    assert "--face-format" in capsys.readouterr().err
