"""Neural face engine (Imitator-style): speech → ARKit mouth with personalised speaking styles.

channels.py (which ARKit channels, FACEGOOD mapping) · features.py (log-mel at 30 fps) · model.py
(network + checkpoint files) · data.py (training clips) · training.py (losses, resumable loop) ·
personalize.py (style fitting, reference readers, .orstyle files) · engine.py (the engine interface:
inference, layered over the built-in face and its mouth_layers). The CLI lives in backend/app/face_cli.py;
facts and numbers in backend/checkpoints/FACE_MODEL.md.
"""
