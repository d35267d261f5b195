"""Masked keyframe prompts: channels the artist fixed at chosen frames, honoured exactly by every take.

keyframes.py: what a prompt is (Prompts, DensePrompts) and its checks; prompts_file.py: the .npz file;
blend.py: apply_prompts, which makes any engine's take honour them.
"""
from .blend import SpeedPolicy, apply_prompts, blend_channels, minimum_jerk, spans
from .keyframes import (FACE_DRIVEN_JOINTS, PROMPT_KEYS, DensePrompts, Prompts, check_prompt_frames,
                        prompts_from_arrays)
from .prompts_file import MAX_PROMPT_BYTES, read_prompts, write_prompts

__all__ = ["FACE_DRIVEN_JOINTS", "MAX_PROMPT_BYTES", "PROMPT_KEYS", "DensePrompts", "Prompts", "SpeedPolicy",
           "apply_prompts", "blend_channels", "check_prompt_frames", "minimum_jerk", "prompts_from_arrays",
           "read_prompts", "spans", "write_prompts"]
