"""Windowed inference and decoding of the published EMAGE audio model, as its official code does it.

Windows of `pose_length` (64) frames start every 60 frames; each one's first `seed_frames` (4) frames are
"given": a channel the user gave wins, otherwise the previous window's decoded last 4 frames (window 0:
the user's motion or the identity pose). A window at 30 fps takes audio[s·533 : s·533 + n·533] (533 =
16000 // 30, so frame f reads audio f/3 samples early, as in training). Frames kept: all but the last 4
of each full window, then a final window of 4 + remain frames when remain = (T − 4) % 60 > 4; so the
output has T frames, or fewer (down to a multiple of 60) when remain ≤ 4, and T ≤ 8 is an error.
After the loop the kept latents are decoded once over the whole sequence; the global-motion net reads
the raw lower-body decode and its (vx, y, vz) channels give the root path (x, z integrated at 1/30 s).

What differs from the official code, with outputs inside the golden tolerances (tests/emage):
- the audio encoders of all windows run batched before the loop (they never see the motion), in chunks
  so memory stays flat on long clips;
- the per-window decode that only makes the next window's seeds decodes just the last frames it needs
  plus the decoders' receptive field;
- the face classifier head is skipped unless asked for (the face takes the latent path), and the face
  decoder's first self-attention block, whose input is a constant, is computed once per window length;
- index-path parts may sample their code from the classifier (temperature / top-k) for extra takes.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ...errors import UserError
from ...vocabulary.rates import AUDIO_RATE, MOTION_FPS
from ...vocabulary.skeleton import HAND_JOINTS, JAW_JOINT, LOWER_JOINTS, NUM_JOINTS, UPPER_JOINTS
from .checkpoint import PARTS, EmageWeights
from .network import AudioFeatures, conv_decoder, conv_encoder, decoder_reach, encode_audio, window_forward
from .rotations import axis_angle_to_rot6d, rot6d_to_axis_angle

SAMPLES_PER_FRAME = AUDIO_RATE // MOTION_FPS   # 533, not 533.33: the published framing
MOTION_DIMS = 337
TRANS = slice(330, 333)
CONTACT = slice(333, 337)
PART_JOINTS = {"upper": UPPER_JOINTS, "hands": HAND_JOINTS, "lower": LOWER_JOINTS}
SINGLE_THREAD_MAX_PARAMS = 10_000_000
AUDIO_BATCH = 8           # windows per audio-encoder batch: ~25 MB of activations per window at full size


@dataclass(frozen=True)
class Sampling:
    """How index-path parts pick their code per frame: temperature 0 = argmax (the official model)."""
    temperature: float = 0.0
    top_k: int = 0            # 0 = all codes


@dataclass
class Windows:
    starts: list[int]
    sizes: list[int]
    kept: list[int]           # frames of each window that go to the output
    n_frames: int             # T = L·30 // 16000
    n_out: int


def plan_windows(n_samples: int, window: int, seed: int) -> Windows:
    t = n_samples * MOTION_FPS // AUDIO_RATE
    hop = window - seed
    rounds, remain = divmod(t - seed, hop) if t >= seed else (0, 0)
    starts = [i * hop for i in range(rounds)]
    sizes, kept = [window] * rounds, [hop] * rounds
    if remain > seed:
        starts.append(rounds * hop)
        sizes.append(seed + remain)
        kept.append(seed + remain)
    if not starts:
        raise UserError(f"the audio is too short for EMAGE: {n_samples / AUDIO_RATE:.2f} s gives {t} frames, "
                        f"it needs more than {2 * seed} (≥ {(2 * seed + 1) / MOTION_FPS:.2f} s)")
    return Windows(starts, sizes, kept, t, sum(kept))


def identity_motion(t: int, device) -> torch.Tensor:
    """(t, 337): every joint at identity (6D 1,0,0,0,1,0), zero translation and contacts."""
    m = torch.zeros(t, MOTION_DIMS, device=device)
    m[:, 0:330:6] = 1.0
    m[:, 4:330:6] = 1.0
    return m


def nearest_codes(latent: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """(…, C) latents → (…) code indices, with the published |z|² + |e|² − 2 z·e distance (float32)."""
    z = latent.reshape(-1, codebook.shape[1])
    d = (z ** 2).sum(1, keepdim=True) + (codebook ** 2).sum(1) - 2 * z @ codebook.t()
    return d.argmin(1).reshape(latent.shape[:-1])


def pick_codes(logits: torch.Tensor, sampling: Sampling, generator: torch.Generator | None) -> torch.Tensor:
    """(B, N, C) classifier logits → (B, N) codes: argmax of log-softmax, or a tempered top-k draw."""
    if sampling.temperature <= 0:
        return F.log_softmax(logits, dim=2).argmax(2)
    x = logits.float().cpu() / sampling.temperature
    if 0 < sampling.top_k < x.shape[-1]:
        kth = x.topk(sampling.top_k, dim=-1).values[..., -1:]
        x = x.masked_fill(x < kth, float("-inf"))
    probs = torch.softmax(x, dim=-1).reshape(-1, x.shape[-1])
    return torch.multinomial(probs, 1, generator=generator).reshape(x.shape[:-1]).to(logits.device)


@dataclass
class Inference:
    """Kept latents/logits (1, T_out, C) per part and the codes chosen for index-path parts (1, T_out)."""
    rec: dict[str, torch.Tensor]
    cls: dict[str, torch.Tensor]
    codes: dict[str, torch.Tensor]
    windows: Windows
    traces: list[dict] = field(default_factory=list)


class EmageModel:
    """Loaded EMAGE weights + the published inference procedure."""

    def __init__(self, weights: EmageWeights) -> None:
        self.weights = weights
        self.cfg = weights.main_cfg
        self.w = weights.main
        self.vq = weights.vq
        self.vq_cfg = weights.vq_cfg
        self.device = self.w["mask_embedding"].device
        self.paths = {p: self.cfg.path(p) for p in PARTS}
        self.const_cache: dict = {}   # window-independent parts of the face decoder, per (length, speaker)
        n_params = sum(t.numel() for t in self.w.values()) + sum(t.numel() for d in self.vq.values() for t in d.values())
        # Small models on CPU: a second thread only adds OpenMP synchronisation (golden fixture, LJ001-0001 on the
        # loaded 2-core machine: 0.46 s wall / 0.15 s CPU with 1 thread, 8-19 s wall / 2-5 s CPU with 2).
        self.threads = 1 if self.device.type == "cpu" and n_params < SINGLE_THREAD_MAX_PARAMS else None

    @contextmanager
    def _thread_policy(self):
        before = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    # ---- decoding --------------------------------------------------------------------------------------

    def part_codes(self, part: str, latent: torch.Tensor | None, codes: torch.Tensor | None) -> torch.Tensor:
        if self.paths[part] == "latent":
            return nearest_codes(latent, self.vq[part]["quantizer.embedding.weight"])
        return codes

    def decode_part(self, part: str, codes: torch.Tensor) -> torch.Tensor:
        """(1, T) code indices → (1, T, dim) raw VQ-decoder output."""
        z = F.embedding(codes, self.vq[part]["quantizer.embedding.weight"])
        return conv_decoder(z, self.vq[part], "decoder", self.vq_cfg[part].layers)

    def assemble(self, dec: dict[str, torch.Tensor | None], t: int) -> dict[str, torch.Tensor]:
        """Raw part decodes → axis-angle (1, T, 165), expression, 337-ch motion (the next window's seeds)."""
        dev = self.device
        aa = torch.zeros(1, t, NUM_JOINTS, 3, device=dev)
        for part, joints in PART_JOINTS.items():
            d = dec.get(part)
            if d is not None:
                width = 6 * len(joints)
                aa[:, :, list(joints)] = rot6d_to_axis_angle(d[..., :width].reshape(1, t, len(joints), 6))
        if dec.get("face") is not None:
            aa[:, :, JAW_JOINT] = rot6d_to_axis_angle(dec["face"][..., :6])
            expression = dec["face"][..., 6:]
        else:
            expression = torch.zeros(1, t, 100, device=dev)
        lower = dec.get("lower")
        transfoot = lower[..., 54:61] if lower is not None else torch.zeros(1, t, 7, device=dev)
        rot6d = axis_angle_to_rot6d(aa).reshape(1, t, 330)
        return {"axis_angle": aa.reshape(1, t, 3 * NUM_JOINTS), "expression": expression,
                "motion": torch.cat([rot6d, transfoot], dim=2)}

    def lower_mix(self, dec_lower: torch.Tensor | None, t: int) -> torch.Tensor:
        if dec_lower is not None:
            return dec_lower
        zero6d = identity_motion(t, self.device)[:, :54]
        return torch.cat([zero6d, torch.zeros(t, 7, device=self.device)], dim=1)[None]

    def global_motion(self, lower_mix: torch.Tensor, ref_trans: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(1, T, 61) raw lower decode → (global AE output (1, T, 61), trans (1, T, 3)); ref_trans (3,)."""
        g = self.vq["global"]
        layers = self.vq_cfg["global"].layers
        rec = conv_decoder(conv_encoder(lower_mix, g, "encoder", layers), g, "decoder", layers)
        v = rec[0, :, 54:57]
        steps = torch.cat([ref_trans[None, [0, 2]], v[:-1, [0, 2]] * (1 / MOTION_FPS)], dim=0)
        xz = torch.cumsum(steps, dim=0)
        trans = torch.stack([xz[:, 0], v[:, 1], xz[:, 1]], dim=1)[None]
        return rec, trans

    @torch.inference_mode()
    def decode(self, inf: Inference, ref_trans: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Whole-sequence decode of kept latents/codes: the official final step (test_emage_audio L34-47)."""
        with self._thread_policy():
            return self._decode(inf, ref_trans)

    def _decode(self, inf: Inference, ref_trans: torch.Tensor | None) -> dict[str, torch.Tensor]:
        t = inf.windows.n_out
        dec, codes = {}, {}
        for part in PARTS:
            if self.paths[part] == "none":
                dec[part] = None
                continue
            codes[part] = self.part_codes(part, inf.rec[part], inf.codes.get(part))
            dec[part] = self.decode_part(part, codes[part])
        out = self.assemble(dec, t)
        ref = torch.zeros(3, device=self.device) if ref_trans is None else ref_trans.to(self.device).float()
        grec, trans = self.global_motion(self.lower_mix(dec["lower"], t), ref)
        out.update(trans=trans, global_rec=grec, codes=codes, vqdec=dec)
        return out

    def _seeds(self, out: dict, codes: dict, n: int, full: bool) -> tuple[torch.Tensor, dict]:
        """The next window's seeds (1, S, 337) from this window's decode; decodes only the tail unless full."""
        s = self.cfg.seed_frames
        lo = 0 if full else max(0, n - s - max(decoder_reach(v.layers) for v in self.vq_cfg.values()))
        dec = {}
        for part in PARTS:
            if self.paths[part] == "none":
                dec[part] = None
            else:
                c = self.part_codes(part, out[f"rec_{part}"][:, lo:], None if codes.get(part) is None
                                    else codes[part][:, lo:])
                dec[part] = self.decode_part(part, c)
        motion = self.assemble(dec, n - lo)["motion"]
        return motion[:, -s:], {"motion": motion, "dec": dec}

    # ---- the windowed loop ---------------------------------------------------------------------------------

    @torch.inference_mode()
    def infer(self, audio: torch.Tensor, masked_motion: torch.Tensor | None = None, mask: torch.Tensor | None = None,
              sampling: Sampling = Sampling(), generator: torch.Generator | None = None, speaker: int = 0,
              trace: bool = False, want_face_cls: bool = True, control=None) -> Inference:
        """audio (L,) float32 16 kHz; masked_motion/mask (K, 337), 1 = unknown, overwrite the first K frames."""
        with self._thread_policy():
            return self._infer(audio, masked_motion, mask, sampling, generator, speaker, trace, want_face_cls, control)

    def _infer(self, audio, masked_motion, mask, sampling, generator, speaker, trace, want_face_cls, control):
        cfg = self.cfg
        if not 0 <= speaker < cfg.speaker_dims:
            raise UserError(f"EMAGE speaker must be 0..{cfg.speaker_dims - 1}, got {speaker}")
        audio = audio.to(self.device, torch.float32).reshape(-1)
        plan = plan_windows(audio.shape[0], cfg.pose_length, cfg.seed_frames)
        t, s = plan.n_frames, cfg.seed_frames
        motion = identity_motion(t, self.device)
        full_mask = torch.ones(t, MOTION_DIMS, device=self.device)
        if masked_motion is not None:
            k = min(t, masked_motion.shape[0])
            motion[:k] = masked_motion[:k].to(self.device, torch.float32)
        if mask is not None:
            k = min(t, mask.shape[0])
            full_mask[:k] = mask[:k].to(self.device, torch.float32)

        body_parts = [p for p in PARTS if self.paths[p] == "index"]
        kept = {k: [] for k in ("rec", "cls", "codes")}
        traces = []
        last = motion[:s][None]
        feats: dict[int, AudioFeatures] = {}
        for i, (start, n, keep) in enumerate(zip(plan.starts, plan.sizes, plan.kept)):
            if control is not None:
                control.report(i / len(plan.starts), "EMAGE body")
            if i not in feats:
                feats = self._audio_batch(audio, plan, i)
            w_motion = motion[start:start + n].clone()[None]
            w_mask = full_mask[start:start + n].clone()[None]
            w_motion[:, :s] = torch.where(w_mask[:, :s] == 0, motion[None, start:start + s], last)
            w_mask[:, :s] = 0
            tr = {} if trace else None
            out = window_forward(w_motion, w_mask, feats.pop(i), self.w, cfg, speaker,
                                 want_face_cls=want_face_cls or trace or self.paths["face"] == "index", trace=tr,
                                 const_cache=self.const_cache)
            codes = {p: pick_codes(out[f"cls_{p}"], sampling, generator) for p in body_parts}
            last_full = i == len(plan.starts) - 1
            if not last_full or trace:
                last, seed_info = self._seeds(out, codes, n, full=trace)
            if trace:
                tr.update(audio=audio[start * SAMPLES_PER_FRAME:(start + n) * SAMPLES_PER_FRAME],
                          masked_motion_in=w_motion, mask_in=w_mask, out=out, codes=codes,
                          decode_all_motion4inference=seed_info["motion"], seed_out_last4=last)
                traces.append(tr)
            kept["rec"].append({p: out[f"rec_{p}"][:, :keep] for p in PARTS})
            kept["cls"].append({p: out[f"cls_{p}"][:, :keep] for p in PARTS if f"cls_{p}" in out})
            kept["codes"].append({p: c[:, :keep] for p, c in codes.items()})
        cat = lambda parts: {p: torch.cat([d[p] for d in parts], dim=1) for p in parts[0]}  # noqa: E731
        return Inference(cat(kept["rec"]), cat(kept["cls"]), cat(kept["codes"]) if body_parts else {}, plan, traces)

    def _audio_batch(self, audio: torch.Tensor, plan: Windows, first: int) -> dict[int, AudioFeatures]:
        """Audio features of windows first … first + AUDIO_BATCH − 1 that share a length, in one batch."""
        n = plan.sizes[first]
        idx = [j for j in range(first, min(first + AUDIO_BATCH, len(plan.starts))) if plan.sizes[j] == n]
        span = n * SAMPLES_PER_FRAME
        wave = torch.stack([audio[plan.starts[j] * SAMPLES_PER_FRAME:plan.starts[j] * SAMPLES_PER_FRAME + span]
                            for j in idx])
        f = encode_audio(wave, self.w, self.cfg)
        return {j: AudioFeatures(f.face[b:b + 1], f.body[b:b + 1],
                                 [type(kv)(kv.k[b:b + 1], kv.v[b:b + 1]) for kv in f.body_kv])
                for b, j in enumerate(idx)}
