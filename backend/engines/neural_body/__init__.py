"""Neural body engine (EMAGE-style): part VQ-VAEs + a masked audio-gesture transformer over SMPL-X.

config.py (sizes, part layout) · features.py (per-part rot6d, root velocity, foot contacts, speech rhythm)
· vqvae.py, transformer.py, model.py (networks, checkpoint files) · infer.py (windowed generation, takes,
given channels) · global_motion.py (root path) · engine.py (the engine interface) · beat2.py (training
clips) · windows.py (training windows) · train.py · builtin_dataset.py (training data made by the
built-in engine; the only module here that imports it). The CLI lives in backend/body_cli.py.
"""
