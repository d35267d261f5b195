"""Built-in engines: procedural, no learned weights, fast on a CPU.

engine.py (the engine interface) · body.py, gestures.py, idle.py (the body) · face.py (the face) ·
visemes.py (mouth shapes per phone) · mouth_layers.py (emotion, lip seal: shared with the neural face) ·
plateaus.py (raised-cosine curve shapes).
"""
