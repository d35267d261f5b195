"""`python -m backend …` — see backend/app/cli.py."""
import sys

from .app.cli import main

sys.exit(main())
