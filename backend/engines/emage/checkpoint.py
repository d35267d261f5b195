"""Reading a downloaded EMAGE folder (`H-Liu1997/emage_audio`, Hugging Face save_pretrained layout).

    DIR/config.json + pytorch_model.bin | model.safetensors            main model (EmageAudioModel)
    DIR/emage_vq/{face,upper,hands,lower}/config.json + weights      part VQ-VAEs (EmageVQVAEConv)
    DIR/emage_vq/global/config.json + weights                        global-motion autoencoder (EmageVAEConv)

No `transformers`: configs are plain JSON, `.bin` files are read with `torch.load(weights_only=True)`
(a pickle that holds anything but tensors is refused) and `.safetensors` with the safetensors package;
`model.safetensors` wins when both exist, as in `from_pretrained`. Only the tensors inference uses are
kept (the VQ encoders and the two prototype transformer layers are never read: 14 % of the main file),
and each is checked against the shape its config implies, so a wrong or truncated download is one
UserError naming the file and the tensor, before any audio is analysed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import UserError

if TYPE_CHECKING:  # torch is imported where tensors are read: check_folder runs in Blender's own Python
    import torch

PARTS = ("face", "upper", "hands", "lower")
VQ_FOLDERS = (*PARTS, "global")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")   # preference order, as from_pretrained
DOWNLOAD_HINT = "download the whole model with `huggingface-cli download H-Liu1997/emage_audio --local-dir DIR`"
NHEAD = 4               # hard-coded in the published model, not in config.json
MOTION_ENCODER_LAYERS = 3
KERNEL_AUDIO = 15
# Published part widths: jaw 6D + 100 FLAME; 13 upper joints; 30 finger joints; 9 lower joints + trans + contacts.
PART_DIMS = {"face": 106, "upper": 78, "hands": 180, "lower": 61, "global": 61}


@dataclass(frozen=True)
class MainConfig:
    hidden: int
    audio_f: int
    motion_f: int
    pose_dims: int          # 330 rotation channels; the masked-motion input has pose_dims + 7
    pose_length: int        # window (frames)
    seed_frames: int
    speaker_dims: int
    codebook: int           # vae_codebook_size: latent width and class count
    latent_face: bool       # path choice per part (lf/cf, …): latent path = nearest code of rec_*
    latent_upper: bool
    latent_hands: bool
    latent_lower: bool
    index_face: bool        # index path = argmax (or a sampled code) of cls_*
    index_upper: bool
    index_hands: bool
    index_lower: bool

    @property
    def motion_dims(self) -> int:
        return self.pose_dims + 7

    def path(self, part: str) -> str:
        """'index', 'latent' or 'none' for a part, the published precedence (index wins)."""
        if getattr(self, f"index_{part}"):
            return "index"
        return "latent" if getattr(self, f"latent_{part}") else "none"


@dataclass(frozen=True)
class VQConfig:
    dim: int                # vae_test_dim: channels decoded
    layers: int             # vae_layer
    width: int              # vae_length
    codebook: int           # vae_codebook_size


@dataclass
class EmageWeights:
    """Config and the inference tensors of every component; tensors are float32 on `device`."""

    folder: Path
    main_cfg: MainConfig
    vq_cfg: dict[str, VQConfig]
    main: dict[str, "torch.Tensor"]
    vq: dict[str, dict[str, "torch.Tensor"]]
    files: dict[str, str]   # component → the weight file read


def _read_json(path: Path, folder: Path) -> dict:
    if not path.is_file():
        raise UserError(f"EMAGE folder {folder}: {path.relative_to(folder)} is missing — {DOWNLOAD_HINT}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a JSON config ({exc.__class__.__name__}) — {DOWNLOAD_HINT}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a JSON object — {DOWNLOAD_HINT}")
    return data


def _int_field(cfg: dict, name: str, path: Path, default: int | None = None) -> int:
    value = cfg.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserError(f"{path}: field '{name}' must be a non-negative integer, got {value!r}")
    return value


def parse_main_config(cfg: dict, path: Path) -> MainConfig:
    f = {k: _int_field(cfg, k, path) for k in ("hidden_size", "audio_f", "motion_f", "pose_dims", "pose_length",
                                               "seed_frames", "speaker_dims", "vae_codebook_size")}
    paths = {k: _int_field(cfg, k, path, 0) for k in ("lf", "lu", "lh", "ll", "cf", "cu", "ch", "cl")}
    if f["hidden_size"] % NHEAD or f["hidden_size"] == 0:
        raise UserError(f"{path}: hidden_size {f['hidden_size']} must be a positive multiple of {NHEAD}")
    if f["audio_f"] % 4 or f["audio_f"] == 0:
        raise UserError(f"{path}: audio_f {f['audio_f']} must be a positive multiple of 4")
    if f["pose_dims"] != 330:
        raise UserError(f"{path}: pose_dims must be 330 (55 SMPL-X joints × 6D), got {f['pose_dims']}")
    if not 0 < f["seed_frames"] < f["pose_length"] or f["speaker_dims"] < 1:
        raise UserError(f"{path}: needs 0 < seed_frames < pose_length and speaker_dims ≥ 1")
    return MainConfig(
        hidden=f["hidden_size"], audio_f=f["audio_f"], motion_f=f["motion_f"], pose_dims=f["pose_dims"],
        pose_length=f["pose_length"], seed_frames=f["seed_frames"], speaker_dims=f["speaker_dims"],
        codebook=f["vae_codebook_size"],
        latent_face=paths["lf"] > 0 and paths["cf"] == 0, latent_upper=paths["lu"] > 0 and paths["cu"] == 0,
        latent_hands=paths["lh"] > 0 and paths["ch"] == 0, latent_lower=paths["ll"] > 0 and paths["cl"] == 0,
        index_face=paths["cf"] > 0, index_upper=paths["cu"] > 0, index_hands=paths["ch"] > 0,
        index_lower=paths["cl"] > 0)


def parse_vq_config(cfg: dict, path: Path, part: str) -> VQConfig:
    vq = VQConfig(dim=_int_field(cfg, "vae_test_dim", path), layers=_int_field(cfg, "vae_layer", path),
                  width=_int_field(cfg, "vae_length", path),
                  codebook=_int_field(cfg, "vae_codebook_size", path, 0))
    if vq.dim != PART_DIMS[part]:
        raise UserError(f"{path}: vae_test_dim of the {part} model must be {PART_DIMS[part]}, got {vq.dim}")
    if vq.layers < 1 or vq.width < 1:
        raise UserError(f"{path}: vae_layer and vae_length must be at least 1")
    return vq


# ---- expected tensors (name → shape) of what inference reads ----------------------------------------

def _linear(name: str, out: int, inp: int) -> dict:
    return {f"{name}.weight": (out, inp), f"{name}.bias": (out,)}


def _conv(name: str, out: int, inp: int, k: int) -> dict:
    return {f"{name}.weight": (out, inp, k), f"{name}.bias": (out,)}


def _bn(name: str, c: int) -> dict:
    return {f"{name}.{s}": (c,) for s in ("weight", "bias", "running_mean", "running_var")}


def _mlp(name: str, inp: int, mid: int, out: int) -> dict:
    return {**_linear(f"{name}.fc1", mid, inp), **_linear(f"{name}.fc2", out, mid)}


def _attn(name: str, h: int) -> dict:
    return {f"{name}.in_proj_weight": (3 * h, h), f"{name}.in_proj_bias": (3 * h,), **_linear(f"{name}.out_proj", h, h)}


def _norm(name: str, h: int) -> dict:
    return {f"{name}.weight": (h,), f"{name}.bias": (h,)}


def _encoder_layer(name: str, h: int) -> dict:
    return {**_attn(f"{name}.self_attn", h), **_linear(f"{name}.linear1", 2 * h, h),
            **_linear(f"{name}.linear2", h, 2 * h), **_norm(f"{name}.norm1", h), **_norm(f"{name}.norm2", h)}


def _decoder_layer(name: str, h: int) -> dict:
    return {**_encoder_layer(name, h), **_attn(f"{name}.multihead_attn", h), **_norm(f"{name}.norm3", h)}


def audio_blocks(audio_f: int) -> list[tuple[int, int, int, int, bool]]:
    """WavEncoder BasicBlocks as (in, out, stride, first padding, has downsample): 16 kHz → 30 fps-ish."""
    q, h = audio_f // 4, audio_f // 2
    return [(1, q, 5, 1600, True), (q, q, 6, 0, True), (q, q, 1, 7, False),
            (q, h, 6, 0, True), (h, h, 1, 7, False), (h, audio_f, 3, 0, True)]


def _res(name: str, c: int) -> dict:
    return {**_conv(f"{name}.model.0", c, c, 3), **_conv(f"{name}.model.2", c, c, 3)}


def conv_encoder_shapes(prefix: str, dim: int, width: int, layers: int) -> dict:
    """VQEncoderV5/V6 stack: per layer conv k3, LeakyReLU(0.2), residual block; Sequential indices 3i, 3i+2."""
    out = {}
    for i in range(layers):
        out.update(_conv(f"{prefix}.main.{3 * i}", width, dim if i == 0 else width, 3))
        out.update(_res(f"{prefix}.main.{3 * i + 2}", width))
    return out


def conv_decoder_shapes(prefix: str, dim: int, width: int, layers: int) -> dict:
    """VQDecoderV5: two residual blocks, `layers` convs (last one to dim) each + LeakyReLU, a final conv."""
    out = {**_res(f"{prefix}.main.0", width), **_res(f"{prefix}.main.1", width)}
    chans = [width] * layers + [dim]
    for i in range(layers):
        out.update(_conv(f"{prefix}.main.{2 + 2 * i}", chans[i + 1], chans[i], 3))
    out.update(_conv(f"{prefix}.main.{2 + 2 * layers}", dim, dim, 3))
    return out


def main_shapes(c: MainConfig) -> dict[str, tuple]:
    h, a, m, k = c.hidden, c.audio_f, c.motion_f, c.codebook
    out: dict[str, tuple] = {"mask_embedding": (1, 1, c.motion_dims),
                             "position_embeddings.pe": (1, 2 * c.pose_length, h),
                             "speaker_embedding_body.weight": (c.speaker_dims, h),
                             "speaker_embedding_face.weight": (c.speaker_dims, h)}
    for enc in ("audio_encoder_face", "audio_encoder_body"):
        for i, (cin, cout, _s, _p, ds) in enumerate(audio_blocks(a)):
            b = f"{enc}.feat_extractor.{i}"
            out.update(_conv(f"{b}.conv1", cout, cin, KERNEL_AUDIO))
            out.update(_bn(f"{b}.bn1", cout))
            out.update(_conv(f"{b}.conv2", cout, cout, KERNEL_AUDIO))
            out.update(_bn(f"{b}.bn2", cout))
            if ds:
                out.update(_conv(f"{b}.downsample.0", cout, cin, KERNEL_AUDIO))
                out.update(_bn(f"{b}.downsample.1", cout))
    out.update(conv_encoder_shapes("motion_encoder", c.motion_dims, m, MOTION_ENCODER_LAYERS))
    out.update(_mlp("bodyhints_face", m, h, m))
    out.update(_mlp("bodyhints_body", m, h, m))
    out.update(_linear("audio_body_motion_proj", h, a))
    out.update(_linear("moton_proj", h, m))   # sic: the published key name
    out.update(_encoder_layer("motion_self_encoder.layers.0", h))
    for i in range(8):
        out.update(_decoder_layer(f"audio_motion_cross_attn.layers.{i}", h))
    for p in ("upper", "hands", "lower"):
        out.update(_mlp(f"motion2latent_{p}", h, h, h))
        out.update(_decoder_layer(f"body_motion_decoder_{p}.layers.0", h))
        out.update(_linear(f"motion_out_proj_{p}", k, h))
        out.update(_mlp(f"motion_cls_{p}", k, h, k))
    out.update(_linear("audio_face_motion_proj", h, a + m))
    for i in range(4):
        out.update(_decoder_layer(f"face_motion_decoder.layers.{i}", h))
    out.update(_linear("face_out_proj", k, h))
    out.update(_mlp("face_cls", k, h, k))
    return out


def vq_shapes(part: str, v: VQConfig) -> dict[str, tuple]:
    out = conv_decoder_shapes("decoder", v.dim, v.width, v.layers)
    if part == "global":
        out.update(conv_encoder_shapes("encoder", v.dim, v.width, v.layers))
    else:
        out["quantizer.embedding.weight"] = (v.codebook, v.width)
    return out


# ---- reading -------------------------------------------------------------------------------------------

def _weights_file(folder: Path, sub: Path) -> Path:
    for name in WEIGHT_FILES:
        if (sub / name).is_file():
            return sub / name
    rel = sub.relative_to(folder) if sub != folder else Path(".")
    raise UserError(f"EMAGE folder {folder}: no weights in {rel}/ (pytorch_model.bin or model.safetensors) "
                    f"— {DOWNLOAD_HINT}")


def _read_tensors(path: Path, wanted: dict[str, tuple], device: str) -> dict[str, "torch.Tensor"]:
    """The wanted tensors of one file, shape-checked, float32 on device; any problem is one UserError."""
    import torch

    if path.suffix == ".safetensors":
        from safetensors import SafetensorError, safe_open
        try:
            with safe_open(str(path), framework="pt") as fh:
                names = set(fh.keys())
                raw = {k: fh.get_tensor(k) for k in wanted if k in names}
        except (SafetensorError, OSError, ValueError) as exc:
            raise UserError(f"{path}: not a readable safetensors file ({exc}) — {DOWNLOAD_HINT}") from None
    else:
        try:
            # mmap: tensors inference never reads (14 % of the main file) are never paged in.
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except Exception as exc:  # noqa: BLE001 - unpickling refused or a broken file: the user's to fix
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise UserError(f"{path}: not a plain tensor file, refused without unpickling code "
                            f"({exc.__class__.__name__}: {first[:120]}) — {DOWNLOAD_HINT}") from None
        if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                  for k, v in state.items()):
            raise UserError(f"{path}: holds something other than a flat name → tensor state dict — {DOWNLOAD_HINT}")
        raw = {k: state[k] for k in wanted if k in state}
    missing = [k for k in wanted if k not in raw]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise UserError(f"{path}: tensor '{missing[0]}'{more} is missing — the file is not EMAGE's or is "
                        f"incomplete; {DOWNLOAD_HINT}")
    out = {}
    for name, shape in wanted.items():
        t = raw[name]
        if tuple(t.shape) != tuple(shape):
            raise UserError(f"{path}: tensor '{name}' has shape {list(t.shape)}, config.json implies "
                            f"{list(shape)} — config and weights do not belong together; {DOWNLOAD_HINT}")
        if not t.is_floating_point():
            raise UserError(f"{path}: tensor '{name}' is {t.dtype}, expected floating point")
        out[name] = t.to(device=device, dtype=torch.float32)
    return out


def check_folder(folder: str | Path) -> tuple[Path, MainConfig, dict[str, VQConfig], dict[str, Path]]:
    """Cheap checks (configs parsed, every weight file present): what the add-on runs on selection."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UserError(f"EMAGE folder not found: {folder} — {DOWNLOAD_HINT}")
    main_cfg = parse_main_config(_read_json(folder / "config.json", folder), folder / "config.json")
    files = {"main": _weights_file(folder, folder)}
    vq_cfg = {}
    for part in VQ_FOLDERS:
        sub = folder / "emage_vq" / part
        vq_cfg[part] = parse_vq_config(_read_json(sub / "config.json", folder), sub / "config.json", part)
        files[part] = _weights_file(folder, sub)
    for part in PARTS:
        if vq_cfg[part].width != main_cfg.codebook or vq_cfg[part].codebook != main_cfg.codebook:
            raise UserError(f"{folder}: emage_vq/{part} has vae_length {vq_cfg[part].width} and "
                            f"vae_codebook_size {vq_cfg[part].codebook}; both must equal the main "
                            f"vae_codebook_size {main_cfg.codebook}")
    return folder, main_cfg, vq_cfg, files


def load_weights(folder: str | Path, device: str = "cpu") -> EmageWeights:
    """Read and check a whole EMAGE folder; see the module docstring for the layout."""
    folder, main_cfg, vq_cfg, files = check_folder(folder)
    main = _read_tensors(files["main"], main_shapes(main_cfg), device)
    vq = {part: _read_tensors(files[part], vq_shapes(part, vq_cfg[part]), device) for part in VQ_FOLDERS}
    return EmageWeights(folder, main_cfg, vq_cfg, main, vq, {k: str(v) for k, v in files.items()})
