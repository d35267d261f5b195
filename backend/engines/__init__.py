"""Engines that turn a SpeechAnalysis into motion: body (SMPL-X poses) and face (ARKit curves).

interface.py: the one engine interface (EngineRequest → BodyMotion / FaceMotion); registry.py: engine
names and the one cache of loaded engines; builtin/, neural_body/, neural_face/, emage/: the engines;
device.py, torch_files.py: what the neural engines share.
"""
