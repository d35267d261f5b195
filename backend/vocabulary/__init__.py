"""The project's vocabulary: facts every layer shares (rates, the SMPL-X skeleton, face channel names, the
user's choices, phone classes, the phone → mouth-shape table). The bottom layer: it imports nothing from the
project, so any module may import it and none of it can form a cycle."""
