"""The worker's inter-process protocol: protocol.py (the typed messages, both sides) and client.py (the
add-on's and tests' side: starts `python -m backend serve` and talks to it over pipes). Imports
nothing above pipeline level, loads no numpy."""
