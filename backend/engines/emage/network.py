"""The EMAGE audio model's forward pass as pure functions over its state dict (no nn.Module tree).

Shapes: B batch, N motion frames of a window, F audio frames (N, or N + 1 for short final windows, see
`window_forward`), H hidden, A audio_f, M motion_f, C codebook, D = 337 masked-motion channels.
Transformer layers are PyTorch's defaults as the published model builds them: post-norm, ReLU, 4 heads,
no masks, LayerNorm eps 1e-5; BatchNorm in eval mode.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .checkpoint import NHEAD, MainConfig, audio_blocks

BN_EPS = 1e-5
LN_EPS = 1e-5
SLOPE_AUDIO = 0.01      # nn.LeakyReLU() default in the WavEncoder blocks
SLOPE_CONV = 0.2        # motion encoder / VQ conv stacks
SLOPE_MLP = 0.1


def linear(x: torch.Tensor, w: dict, name: str) -> torch.Tensor:
    return F.linear(x, w[f"{name}.weight"], w[f"{name}.bias"])


def mlp(x: torch.Tensor, w: dict, name: str) -> torch.Tensor:
    return linear(F.leaky_relu(linear(x, w, f"{name}.fc1"), SLOPE_MLP), w, f"{name}.fc2")


def _conv(x: torch.Tensor, w: dict, name: str, stride: int = 1, padding: int = 1) -> torch.Tensor:
    return F.conv1d(x, w[f"{name}.weight"], w[f"{name}.bias"], stride=stride, padding=padding)


def _bn(x: torch.Tensor, w: dict, name: str) -> torch.Tensor:
    return F.batch_norm(x, w[f"{name}.running_mean"], w[f"{name}.running_var"], w[f"{name}.weight"],
                        w[f"{name}.bias"], training=False, eps=BN_EPS)


# ---- audio -----------------------------------------------------------------------------------------------

def wav_encoder(wave: torch.Tensor, w: dict, prefix: str, audio_f: int) -> torch.Tensor:
    """(B, L) 16 kHz waveform → (B, F, A). Six residual conv blocks, kernel 15, strides 5·6·1·6·1·3."""
    x = wave[:, None, :]
    for i, (_cin, _cout, stride, pad, ds) in enumerate(audio_blocks(audio_f)):
        b = f"{prefix}.feat_extractor.{i}"
        y = F.leaky_relu(_bn(_conv(x, w, f"{b}.conv1", stride, pad), w, f"{b}.bn1"), SLOPE_AUDIO)
        y = _bn(_conv(y, w, f"{b}.conv2", 1, 7), w, f"{b}.bn2")
        short = _bn(_conv(x, w, f"{b}.downsample.0", stride, pad), w, f"{b}.downsample.1") if ds else x
        x = F.leaky_relu(y + short, SLOPE_AUDIO)
    return x.transpose(1, 2)


def audio_frames(n_samples: int) -> int:
    """Frames the WavEncoder makes of n_samples (for checks and the short-window quirk)."""
    n = n_samples
    for _cin, _cout, stride, pad, _ds in audio_blocks(4):
        n = (n + 2 * pad - 15) // stride + 1
    return n


# ---- conv stacks -----------------------------------------------------------------------------------------

def _resblock(x: torch.Tensor, w: dict, name: str) -> torch.Tensor:
    return _conv(F.leaky_relu(_conv(x, w, f"{name}.model.0"), SLOPE_CONV), w, f"{name}.model.2") + x


def conv_encoder(x: torch.Tensor, w: dict, prefix: str, layers: int) -> torch.Tensor:
    """(B, T, D) → (B, T, width): per layer conv k3 + LeakyReLU(0.2) + residual block, no downsampling."""
    y = x.transpose(1, 2)
    for i in range(layers):
        y = _resblock(F.leaky_relu(_conv(y, w, f"{prefix}.main.{3 * i}"), SLOPE_CONV), w, f"{prefix}.main.{3 * i + 2}")
    return y.transpose(1, 2)


def conv_decoder(z: torch.Tensor, w: dict, prefix: str, layers: int) -> torch.Tensor:
    """(B, T, width) → (B, T, dim): two residual blocks, `layers` conv + LeakyReLU, a final conv."""
    y = _resblock(_resblock(z.transpose(1, 2), w, f"{prefix}.main.0"), w, f"{prefix}.main.1")
    for i in range(layers):
        y = F.leaky_relu(_conv(y, w, f"{prefix}.main.{2 + 2 * i}"), SLOPE_CONV)
    return _conv(y, w, f"{prefix}.main.{2 + 2 * layers}").transpose(1, 2)


def decoder_reach(layers: int) -> int:
    """Frames of context each side that one output frame of conv_decoder depends on (k3 convs)."""
    return 4 + layers + 1


# ---- transformer -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KV:
    """Projected keys and values of an attention memory, (B, heads, F, H/heads) each."""
    k: torch.Tensor
    v: torch.Tensor


def _heads(x: torch.Tensor) -> torch.Tensor:
    b, t, h = x.shape
    return x.view(b, t, NHEAD, h // NHEAD).transpose(1, 2)


def project_kv(memory: torch.Tensor, w: dict, name: str) -> KV:
    """Keys/values of `memory` (B, F, H) for attention `name` (its in_proj rows H:2H and 2H:3H)."""
    wt, bias = w[f"{name}.in_proj_weight"], w[f"{name}.in_proj_bias"]
    h = wt.shape[1]
    kv = F.linear(memory, wt[h:], bias[h:])
    return KV(_heads(kv[..., :h]), _heads(kv[..., h:]))


def _attend(q: torch.Tensor, kv: KV, w: dict, name: str) -> torch.Tensor:
    b, t, h = q.shape
    out = F.scaled_dot_product_attention(_heads(q), kv.k, kv.v)
    return linear(out.transpose(1, 2).reshape(b, t, h), w, f"{name}.out_proj")


def self_attention(x: torch.Tensor, w: dict, name: str) -> torch.Tensor:
    h = x.shape[-1]
    qkv = F.linear(x, w[f"{name}.in_proj_weight"], w[f"{name}.in_proj_bias"])
    return _attend(qkv[..., :h], KV(_heads(qkv[..., h:2 * h]), _heads(qkv[..., 2 * h:])), w, name)


def cross_attention(x: torch.Tensor, kv: KV, w: dict, name: str) -> torch.Tensor:
    h = x.shape[-1]
    q = F.linear(x, w[f"{name}.in_proj_weight"][:h], w[f"{name}.in_proj_bias"][:h])
    return _attend(q, kv, w, name)


def _norm(x: torch.Tensor, w: dict, name: str) -> torch.Tensor:
    return F.layer_norm(x, x.shape[-1:], w[f"{name}.weight"], w[f"{name}.bias"], LN_EPS)


def _feed_forward(x: torch.Tensor, w: dict, name: str) -> torch.Tensor:
    return linear(F.relu(linear(x, w, f"{name}.linear1")), w, f"{name}.linear2")


def encoder_layer(x: torch.Tensor, w: dict, name: str) -> torch.Tensor:
    x = _norm(x + self_attention(x, w, f"{name}.self_attn"), w, f"{name}.norm1")
    return _norm(x + _feed_forward(x, w, name), w, f"{name}.norm2")


def decoder_layer(x: torch.Tensor, kv: KV, w: dict, name: str, self_out: torch.Tensor | None = None
                  ) -> torch.Tensor:
    """self_out: this layer's self-attention block output when already known (a constant target)."""
    x = self_out if self_out is not None else _norm(x + self_attention(x, w, f"{name}.self_attn"), w, f"{name}.norm1")
    x = _norm(x + cross_attention(x, kv, w, f"{name}.multihead_attn"), w, f"{name}.norm2")
    return _norm(x + _feed_forward(x, w, name), w, f"{name}.norm3")


# ---- one window ------------------------------------------------------------------------------------------

CROSS_LAYERS = 8
FACE_LAYERS = 4


@dataclass
class AudioFeatures:
    """Per-window audio encodings: face (B, F, A), and the body memory's keys/values per cross layer."""
    face: torch.Tensor
    body: torch.Tensor
    body_kv: list[KV] | None = None


def encode_audio(wave: torch.Tensor, w: dict, cfg: MainConfig, with_kv: bool = True) -> AudioFeatures:
    """(B, L) windows of waveform → AudioFeatures. Nothing here depends on the motion, so all windows of a
    clip go through in one batch (the seeds only enter later)."""
    face = wav_encoder(wave, w, "audio_encoder_face", cfg.audio_f)
    body = wav_encoder(wave, w, "audio_encoder_body", cfg.audio_f)
    feats = AudioFeatures(face, body)
    if with_kv:
        mem = linear(body, w, "audio_body_motion_proj")
        feats.body_kv = [project_kv(mem, w, f"audio_motion_cross_attn.layers.{i}.multihead_attn")
                         for i in range(CROSS_LAYERS)]
    return feats


def face_layers(memory: torch.Tensor, target: torch.Tensor, w: dict, key: tuple, cache: dict | None) -> torch.Tensor:
    """The face decoder over `memory` (B, N, H) for the constant `target` (1, N, H) = speaker + position.

    The target does not depend on the window, so layer 0's self-attention block and its cross-attention query
    are the same in every window of a length: computed once and kept in `cache` (2.5 % of a window's work).
    """
    name = "face_motion_decoder.layers.0"
    first = cache.get(key) if cache is not None else None
    if first is None:
        x1 = _norm(target + self_attention(target, w, f"{name}.self_attn"), w, f"{name}.norm1")
        h = x1.shape[-1]
        q1 = F.linear(x1, w[f"{name}.multihead_attn.in_proj_weight"][:h], w[f"{name}.multihead_attn.in_proj_bias"][:h])
        first = (x1, q1)
        if cache is not None:
            cache[key] = first
    b = memory.shape[0]
    x1, q1 = (t.expand(b, -1, -1) for t in first)
    kv = project_kv(memory, w, f"{name}.multihead_attn")
    x = _norm(x1 + _attend(q1, kv, w, f"{name}.multihead_attn"), w, f"{name}.norm2")
    x = _norm(x + _feed_forward(x, w, name), w, f"{name}.norm3")
    for i in range(1, FACE_LAYERS):
        layer = f"face_motion_decoder.layers.{i}"
        x = decoder_layer(x, project_kv(memory, w, f"{layer}.multihead_attn"), w, layer)
    return x


def window_forward(motion: torch.Tensor, mask: torch.Tensor, audio: AudioFeatures, w: dict, cfg: MainConfig,
                   speaker: int = 0, want_face_cls: bool = True, trace: dict | None = None,
                   const_cache: dict | None = None) -> dict:
    """One window: masked motion (B, N, D) with mask (1 = unknown) and its audio → rec_*/cls_* (B, N, C).

    Reproduces a published quirk: when the audio encoder yields more frames than the window has (final
    windows of 5–25 frames), only the face features are cut to N, so the body cross-attention sees N + 1
    audio frames (the published code tests the body features but truncates the face ones twice).
    """
    n = motion.shape[1]
    x = torch.where(mask == 1, w["mask_embedding"].expand_as(motion), motion)
    hint = conv_encoder(x, w, "motion_encoder", 3)
    hint_body, hint_face = mlp(hint, w, "bodyhints_body"), mlp(hint, w, "bodyhints_face")
    face_audio = audio.face[:, :n] if audio.face.shape[1] > n else audio.face
    t = face_audio.shape[1]
    pe = w["position_embeddings.pe"][:, :t]
    spk_body = w["speaker_embedding_body.weight"][speaker].expand(1, t, -1)
    spk_face = w["speaker_embedding_face.weight"][speaker].expand(1, t, -1)
    if trace is not None:
        trace.update(sub_motion_encoder=hint, sub_audio_encoder_face=audio.face, sub_audio_encoder_body=audio.body)

    # face: a constant target (speaker + position) reads audio + body hints
    face_mem = linear(torch.cat([face_audio, hint_face], dim=2), w, "audio_face_motion_proj")
    f = face_layers(face_mem, spk_face + pe, w, (t, speaker), const_cache)
    rec_face = linear(f, w, "face_out_proj")

    # body: masked motion → self-attention → cross-attention to the audio → part heads refined jointly
    m = spk_body + (linear(hint_body, w, "moton_proj") + pe)
    m = encoder_layer(m, w, "motion_self_encoder.layers.0")
    m = (m + spk_body) + pe
    c = m
    kvs = audio.body_kv
    if kvs is None:
        mem = linear(audio.body, w, "audio_body_motion_proj")
        kvs = [project_kv(mem, w, f"audio_motion_cross_attn.layers.{i}.multihead_attn") for i in range(CROSS_LAYERS)]
    for i in range(CROSS_LAYERS):
        c = decoder_layer(c, kvs[i], w, f"audio_motion_cross_attn.layers.{i}")
    m = m + c
    lat = {p: mlp(m, w, f"motion2latent_{p}") for p in ("upper", "hands", "lower")}
    others = {"upper": lat["hands"] + lat["lower"], "hands": lat["upper"] + lat["lower"],
              "lower": lat["upper"] + lat["hands"]}
    out = {"rec_face": rec_face}
    for p in ("upper", "hands", "lower"):
        name = f"body_motion_decoder_{p}.layers.0"
        refine = decoder_layer(lat[p] + spk_body, project_kv(others[p], w, f"{name}.multihead_attn"), w, name)
        out[f"rec_{p}"] = linear(lat[p] + refine, w, f"motion_out_proj_{p}")
        out[f"cls_{p}"] = mlp(out[f"rec_{p}"], w, f"motion_cls_{p}")
    if want_face_cls:
        out["cls_face"] = mlp(rec_face, w, "face_cls")
    return out
