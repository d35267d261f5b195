"""File formats: motion npz (BEAT2/SMPL-X), Live Link Face and plain face CSVs, BVH, the Oculus/VRM face
curves, finger poses against a mean hand. Never imports engines; the names they use are in vocabulary/."""
