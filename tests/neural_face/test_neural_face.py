"""Neural face engine: model mechanics, training/resume, personalisation on a synthetic style, safe
style and checkpoint files, one-line errors for bad references, and the shipped checkpoint on real speech."""
from __future__ import annotations

import datetime

import numpy as np
import pytest
import soundfile as sf
import torch

from backend.analysis import Phone
from backend.app.cli import main
from backend.errors import UserError
from backend.formats.livelink_csv import write_livelink_csv
from backend.engines.neural_face.channels import SPEECH_CHANNELS, SPEECH_INDEX
from backend.engines.neural_face.data import english_clip, lip_contact_weights
from backend.engines.neural_face.engine import SHIPPED_CHECKPOINT, NeuralFaceEngine, compose_face
from backend.engines.neural_face.model import FaceModelConfig, NeuralFaceModel, load_checkpoint, save_checkpoint
from backend.engines.neural_face.personalize import (FaceStyle, PersonalizeParams, fit_style, load_style,
                                                     matched_reference, read_reference_curves, save_style)
from backend.engines.neural_face.training import TrainParams, face_losses, train_face
from backend.metrics.face import bilabial_closure_rate, jitter
from backend.vocabulary.face import ARKIT_INDEX, lip_aperture

TINY = FaceModelConfig(d_model=16, n_heads=4, ff_dim=32, encoder_channels=32, encoder_kernel=5,
                       attention_window=20, n_styles=1, hidden=32, decoder_layers=2)
TRAIN_IDS = ("LJ001-0001", "LJ001-0003", "LJ001-0005")
HELDOUT_ID = "LJ001-0004"
SMILE = [SPEECH_CHANNELS.index("mouthSmileLeft")]
JAW = SPEECH_CHANNELS.index("jawOpen")


@pytest.fixture(autouse=True)
def _two_threads():
    torch.set_num_threads(2)


@pytest.fixture(scope="module")
def lj_clips(shared_dir, lj_transcripts):
    folder = shared_dir / "data" / "speech" / "ljspeech"
    return {i: english_clip(folder / f"{i}.wav", lj_transcripts[i]) for i in TRAIN_IDS + (HELDOUT_ID,)}


@pytest.fixture(scope="module")
def tiny_model(lj_clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "tiny.pt"
    return train_face([lj_clips[i] for i in TRAIN_IDS], out, ["english"],
                      TrainParams(steps=150, batch=8, window=90, lr=3e-3, warmup=10, log_every=1000), TINY)


def synthetic_style(mouth: np.ndarray) -> np.ndarray:
    """Another speaker: jaw opening ×1.5, and a one-sided (left) smile that grows with the jaw."""
    out = mouth.copy()
    out[:, JAW] *= 1.5
    out[:, SMILE] += 0.15 + 0.8 * mouth[:, [JAW]]
    return np.clip(out, 0.0, 1.0)


def test_chunked_inference_equals_one_pass():
    torch.manual_seed(0)
    model = NeuralFaceModel(TINY).eval()
    x = torch.randn(1, 230, TINY.n_mels)
    with torch.no_grad():
        whole = model.visemes(x, chunk=1000)
        chunked = model.visemes(x, chunk=37)
    assert torch.allclose(whole, chunked, atol=1e-5)


def test_decoder_is_causal_beyond_the_encoder_lookahead():
    torch.manual_seed(0)
    model = NeuralFaceModel(TINY).eval()
    x = torch.randn(1, 120, TINY.n_mels)
    y = x.clone()
    y[:, 80:] += 1.0  # changing the future must not change frames before 80 − lookahead
    lookahead = 2 * (TINY.encoder_kernel // 2)
    with torch.no_grad():
        a, b = model.visemes(x), model.visemes(y)
    assert torch.allclose(a[:, :80 - lookahead], b[:, :80 - lookahead], atol=1e-6)
    assert not torch.allclose(a[:, 80:], b[:, 80:])


def test_lip_contact_loss_wants_closed_lips_at_bilabials():
    target = torch.zeros(1, 10, 27)
    weight = torch.zeros(1, 10)
    weight[0, 5] = 1.0
    open_mouth = target.clone()
    open_mouth[0, 5, JAW] = 0.3
    assert face_losses(open_mouth, target, weight)["lip"] > 0.05
    assert face_losses(target, target, weight)["lip"] == 0.0
    phones = [Phone("AA", 0.0, 0.2), Phone("M", 0.2, 0.3), Phone("AA", 0.3, 0.5)]
    mouth = np.full((15, 27), 0.2, np.float32)
    mouth[7, JAW] = 0.0  # the closure frame (aperture minimum) inside /m/
    w = lip_contact_weights(phones, mouth)
    assert w.argmax() == 7 and w.max() == pytest.approx(1.0) and w[0] < 1e-3


def test_training_resumes_to_the_same_weights(lj_clips, tmp_path):
    clips = [lj_clips["LJ001-0001"]]
    params = TrainParams(steps=12, batch=2, window=40, warmup=2, log_every=100, save_every=6)
    straight = train_face(clips, tmp_path / "a.pt", ["en"], params, TINY)
    calls = []

    def interrupt_after_six_steps():
        calls.append(1)
        if len(calls) > 7:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train_face(clips, tmp_path / "b.pt", ["en"], params, TINY, check=interrupt_after_six_steps)
    resumed = train_face(clips, tmp_path / "b.pt", ["en"], params, TINY, resume=True)
    for (k, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k
    with pytest.raises(UserError, match="nothing to resume"):
        train_face(clips, tmp_path / "c.pt", ["en"], params, TINY, resume=True)


def test_checkpoint_round_trips_and_loads_weights_only(tiny_model, tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", tiny_model, ["english"], {"note": "test"})
    raw = torch.load(path, weights_only=True)
    assert raw["config"]["d_model"] == 16 and raw["style_names"] == ["english"]
    model, payload = load_checkpoint(path)
    x = torch.randn(1, 50, TINY.n_mels)
    with torch.no_grad():
        assert torch.equal(model(x, torch.tensor([0])), tiny_model.eval()(x, torch.tensor([0])))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="not a readable face checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")


def test_personalisation_reduces_error_on_held_out_speech(tiny_model, lj_clips):
    ref, held = lj_clips["LJ001-0001"], lj_clips[HELDOUT_ID]
    style, report = fit_style(tiny_model, ref.features, synthetic_style(ref.mouth),
                              PersonalizeParams(embedding_steps=150, basis_steps=150))
    assert report["error_embedding"] < report["error_generic"]
    assert report["error_basis"] <= report["error_embedding"] * 1.02
    target = synthetic_style(held.mouth)
    x = torch.from_numpy(held.features)[None]
    with torch.no_grad():
        v = tiny_model.visemes(x)
        generic = tiny_model.decode_motion(v, tiny_model.styles.weight[:1])[0].clamp(0, 1).numpy()
        personal = tiny_model.decode_motion(v, style.embedding[None], tiny_model.basis.weight + style.basis_weight_delta,
                                            tiny_model.basis.bias + style.basis_bias_delta)[0].clamp(0, 1).numpy()
    err_generic, err_personal = np.mean((generic - target) ** 2), np.mean((personal - target) ** 2)
    assert err_personal < 0.7 * err_generic, (err_generic, err_personal)
    # the style really is learned: the left smile exceeds the right one on held-out speech
    right = SPEECH_CHANNELS.index("mouthSmileRight")
    assert personal[:, SMILE[0]].mean() > personal[:, right].mean() + 0.1


def test_style_files_round_trip_and_refuse_bad_content(tiny_model, tmp_path):
    style = FaceStyle(torch.randn(16), torch.randn(27, 32) * 0.01, torch.randn(27) * 0.01, {"reference": "x.csv"})
    path = save_style(tmp_path / "s.orstyle", style, TINY)
    back = load_style(path, TINY)
    assert torch.equal(back.embedding, style.embedding) and back.meta["reference"] == "x.csv"
    assert torch.equal(back.basis_weight_delta, style.basis_weight_delta)
    torch.load(path, weights_only=True)  # plain tensors and values only
    with pytest.raises(UserError, match="does not fit this face model"):
        load_style(path, FaceModelConfig())
    (tmp_path / "junk.orstyle").write_bytes(b"\x00garbage")
    with pytest.raises(UserError, match="not a readable face style"):
        load_style(tmp_path / "junk.orstyle", TINY)
    torch.save({"format": "something-else"}, tmp_path / "other.orstyle")
    with pytest.raises(UserError, match="not an Orator face style"):
        load_style(tmp_path / "other.orstyle", TINY)

    # arbitrary pickled objects (anything beyond tensors and plain values) are refused, never run
    torch.save({"format": "orator-face-style", "x": datetime.date(2020, 1, 1)}, tmp_path / "evil.orstyle")
    with pytest.raises(UserError, match="not a readable face style"):
        load_style(tmp_path / "evil.orstyle", TINY)
    bad = {**torch.load(path, weights_only=True), "embedding": torch.full((16,), float("nan"))}
    torch.save(bad, tmp_path / "nan.orstyle")
    with pytest.raises(UserError, match="NaN"):
        load_style(tmp_path / "nan.orstyle", TINY)


def _reference_files(tmp_path, seconds=3.0, ref_seconds=None, seed=0):
    rng = np.random.default_rng(seed)
    wav = tmp_path / "ref.wav"
    sf.write(wav, (0.1 * rng.normal(size=int(seconds * 16000))).astype(np.float32), 16000)
    n = int(round((ref_seconds or seconds) * 30))
    return wav, np.clip(rng.uniform(0, 0.5, size=(n, 52)), 0, 1).astype(np.float32)


def test_reference_readers_accept_csv_and_npz(tmp_path):
    _, arkit = _reference_files(tmp_path)
    csv_path = write_livelink_csv(tmp_path / "ref.csv", arkit)
    np.savez(tmp_path / "ref.npz", arkit=arkit)
    np.savez(tmp_path / "ref60.npz", arkit=np.repeat(arkit, 2, axis=0), mocap_frame_rate=np.array(60))
    a, b, c = (read_reference_curves(p) for p in (csv_path, tmp_path / "ref.npz", tmp_path / "ref60.npz"))
    assert a.shape == b.shape == (90, 52) and np.allclose(a, b, atol=1e-4)
    assert abs(len(c) - 90) <= 1
    assert matched_reference(b, 3.0).shape == (90, 52)
    assert matched_reference(b[:85], 3.0).shape == (90, 52)  # within 10 %: padded to the audio


@pytest.mark.parametrize("case, message", [
    ("no_arkit_columns", "no ARKit blendshape columns"),
    ("empty_csv", "is empty"),
    ("nan", "NaN"),
    ("too_short", "too short"),
    ("length_mismatch", "must be the same take"),
    ("npz_without_arkit", "no 'arkit' array"),
    ("npz_wrong_shape", r"must be \(T, 52\)"),
    ("wrong_suffix", "Live Link Face .csv or an .npz"),
])
def test_malformed_references_give_one_line_errors(case, message, tmp_path, capsys):
    seconds, ref_seconds = (1.5, None) if case == "too_short" else (4.0, 3.0 if case == "length_mismatch" else None)
    wav, arkit = _reference_files(tmp_path, seconds, ref_seconds)
    ref = tmp_path / "ref.npz"
    if case == "no_arkit_columns":
        ref = tmp_path / "ref.csv"
        ref.write_text("Timecode,Foo,Bar\n00:00:00:00.000,1,2\n")
    elif case == "empty_csv":
        ref = tmp_path / "ref.csv"
        ref.write_text("")
    elif case == "nan":
        arkit[10, 3] = np.nan
        np.savez(ref, arkit=arkit)
    elif case == "npz_without_arkit":
        np.savez(ref, poses=np.zeros((10, 165)))
    elif case == "npz_wrong_shape":
        np.savez(ref, arkit=arkit[:, :40])
    elif case == "wrong_suffix":
        ref = tmp_path / "ref.txt"
        ref.write_text("hello")
    else:
        np.savez(ref, arkit=arkit)
    code = main(["personalize", "--audio", str(wav), "--reference", str(ref), "-o", str(tmp_path / "s.orstyle"),
                 "--embedding-steps", "2", "--basis-steps", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("error: ") and len(err) == 1, err
    assert __import__("re").search(message, err[-1]), err[-1]


def test_compose_keeps_built_in_layers_and_seals_bilabials():
    n = 30
    mouth = np.zeros((n, 27), np.float32)
    mouth[:, JAW] = 0.4
    base = np.zeros((n, 52), np.float32)
    base[:, ARKIT_INDEX["eyeBlinkLeft"]] = 0.7
    phones = [Phone("AA", 0.0, 0.4), Phone("M", 0.4, 0.55), Phone("AA", 0.55, 1.0)]
    happy = compose_face(mouth, base, "happy", 1.0, phones)
    assert np.all(happy[:, ARKIT_INDEX["eyeBlinkLeft"]] == pytest.approx(0.7))
    assert happy[:, ARKIT_INDEX["mouthSmileLeft"]].min() > 0.4  # the emotion's mouth offset is on top
    assert bilabial_closure_rate(happy, phones) == 1.0
    assert lip_aperture(happy)[2] > 0.3 and lip_aperture(happy).min() >= 0.0


@pytest.fixture(scope="module")
def shipped():
    return NeuralFaceEngine(SHIPPED_CHECKPOINT)


@pytest.mark.slow  # forced alignment + the shipped model over a clip (21 s)
def test_shipped_checkpoint_generates_lip_synced_curves_for_real_speech(shipped, lj_clip, lj_transcripts):
    from backend.audio.analyze import analyze_speech
    from backend.audio.io import load_audio
    from backend.engines.interface import EngineRequest

    assert SHIPPED_CHECKPOINT.stat().st_size < 5_000_000
    torch.load(SHIPPED_CHECKPOINT, weights_only=True)
    audio = load_audio(lj_clip)
    analysis = analyze_speech(audio, lj_transcripts["LJ001-0001"], "en")
    analysis.samples = audio.samples
    face = shipped.generate_face(EngineRequest(analysis, "neutral", 0.5, np.random.default_rng(0))).arkit
    assert face.shape == (analysis.n_frames, 52) and np.all(np.isfinite(face))
    assert face.min() >= 0.0 and face.max() <= 1.0
    assert bilabial_closure_rate(face, analysis.phones) >= 0.95
    assert face[:, ARKIT_INDEX["eyeBlinkLeft"]].max() > 0.5  # built-in blinks are kept
    mouth = face[:, SPEECH_INDEX]
    assert mouth[:, JAW].std() > 0.03  # the jaw moves with the speech
    assert float(np.mean(jitter(mouth))) < 0.01


@pytest.mark.slow  # trains through the CLI (21 s)
def test_train_face_command_writes_a_resumable_checkpoint(shared_dir, tmp_path, capsys):
    data = tmp_path / "data" / "speech" / "ljspeech"
    data.mkdir(parents=True)
    lj = shared_dir / "data" / "speech" / "ljspeech"
    lines = [line for line in (lj / "metadata.csv").read_text().splitlines() if line.startswith("LJ001-0002")]
    (data / "metadata.csv").write_text("\n".join(lines) + "\n")
    (data / "LJ001-0002.wav").write_bytes((lj / "LJ001-0002.wav").read_bytes())
    out = tmp_path / "m.pt"
    common = ["train-face", "--out", str(out), "--data-dir", str(tmp_path), "--no-facegood", "--holdout-lj", "",
              "--batch", "2", "--log-every", "2"]
    assert main(common + ["--steps", "4"]) == 0
    err = capsys.readouterr().err
    assert "step 4/4" in err and "ETA" in err
    model, payload = load_checkpoint(out)
    assert payload["meta"]["steps_done"] == 4 and payload["style_names"] == ["english-builtin"]
    assert main(common + ["--steps", "6", "--resume"]) == 0
    assert "resuming at step 4/6" in capsys.readouterr().err
    assert torch.load(out, weights_only=True)["meta"]["steps_done"] == 6


def test_generate_with_the_neural_engine_and_a_style_file(shipped, lj_clip, lj_transcripts, tmp_path):
    from backend.formats.livelink_csv import read_livelink_csv

    model = shipped.model
    facegood = FaceStyle(model.styles.weight[1].detach().clone(), torch.zeros_like(model.basis.weight),
                         torch.zeros_like(model.basis.bias), {})
    style = save_style(tmp_path / "fg.orstyle", facegood, model.config)
    outs = {}
    for name, extra in (("default", []), ("styled", ["--face-style", str(style)])):
        code = main(["generate", str(lj_clip), "-o", str(tmp_path / name), "--face-engine", "neural", "-q",
                     "--transcript", lj_transcripts["LJ001-0001"], *extra])
        assert code == 0
        outs[name] = read_livelink_csv(tmp_path / name / "face_arkit.csv").arkit
    jaw = ARKIT_INDEX["jawOpen"]
    # the FACEGOOD style barely opens the jaw (its data never does); the default English style does
    assert outs["default"][:, jaw].mean() > 2 * outs["styled"][:, jaw].mean()
    assert np.allclose(outs["default"][:, ARKIT_INDEX["eyeBlinkLeft"]], outs["styled"][:, ARKIT_INDEX["eyeBlinkLeft"]],
                       atol=1e-3)  # style changes the mouth only
