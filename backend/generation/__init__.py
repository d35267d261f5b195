"""Generation: audio → analysis → takes → standard files (pipeline.py), the one path the CLI, batch, worker and
live recording share; emage_raw.py writes EMAGE's own --raw result beside it."""
