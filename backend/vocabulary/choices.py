"""The choices a user makes, by name: the CLI's `choices=`, the worker's options, the add-on's menus and the
engines' per-emotion tables all read them here. Checking a value is the options' job (options.validated);
the engine registry asserts its tables list exactly these engine names."""
from __future__ import annotations

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised")   # every per-emotion table has exactly these keys
LANGUAGES = ("en", "auto", "other")
RECOGNIZERS = ("words", "phones")   # phone timing without a transcript: see backend/audio/phones.py
DEVICES = ("auto", "cpu", "cuda")   # where neural engines run; the rule for "auto" is engines/device.py
FACE_FORMATS = ("arkit", "oculus", "vrm")   # face curves written besides ARKit (formats/face_formats.py)
MAX_TAKES = 16

BODY_ENGINES = ("builtin", "neural", "emage")
FACE_ENGINES = ("builtin", "neural")
