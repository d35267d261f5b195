"""The published EMAGE audio model (Hugging Face `H-Liu1997/emage_audio`), run from the user's download.

checkpoint.py reads and checks the folder (no `transformers`), network.py is the forward pass,
inference.py the official windowed procedure and decode, raw.py the official output file, engine.py
what Orator adds (prompts as masks, takes, planted feet, the face). Facts: ../shared/emage/SPEC.md.
"""
