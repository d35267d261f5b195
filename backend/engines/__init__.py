"""Engines that turn a SpeechAnalysis into motion: body (SMPL-X poses) and face (ARKit curves)."""
