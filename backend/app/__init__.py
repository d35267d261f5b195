"""Front ends: the command line (cli.py with its training commands face_cli.py, body_cli.py), batch
(batch.py, batch_ray.py), the worker (worker.py), info.py and crash_log.py. The top layer: nothing
outside backend/app imports it (tests/test_layers.py checks)."""
