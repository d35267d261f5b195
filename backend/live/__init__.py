"""Live: microphone, a file at real-time pace or raw PCM on stdin in → face and head animation out per 30 fps
frame (JSON lines, Live Link Face UDP, OSC/VMC), with a look-ahead of at most 0.1 s.

sources.py   audio sources (16 kHz mono float32 blocks)      analysis.py  streaming features, VAD, phones
face.py      per-frame ARKit 52 + head + eyes                 outputs.py   JSON lines, Live Link Face, OSC
cli.py       `python -m backend live`
"""
