"""The front ends in backend/app are the top layer: nothing else imports them (also not inside a function),
and the IPC pair stays light enough for the worker's front process and for Blender."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENTRY_POINT = REPO / "backend" / "__main__.py"  # `python -m backend` runs the CLI: the one way in from outside
OUTSIDE_APP = [p for folder in ("backend", "addon", "operators", "panels", "rigs")
               for p in sorted((REPO / folder).rglob("*.py"))
               if p.relative_to(REPO).parts[1:2] != ("app",) and p != ENTRY_POINT] + sorted(REPO.glob("*.py"))


def imported_modules(path: Path, located: Path | None = None) -> set[str]:
    """Every module `path` imports, anywhere in it (functions too), as a dotted name from the repository root;
    relative imports resolved as if the file were at `located` (default: where it is)."""
    package = list((located or path).relative_to(REPO).parts[:-1])  # x.py and __init__.py: their folder
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + (node.module.split(".") if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_nothing_outside_the_app_layer_imports_it():
    offenders = {str(p.relative_to(REPO)): sorted(m for m in imported_modules(p)
                                                  if m == "backend.app" or m.startswith("backend.app."))
                 for p in OUTSIDE_APP}
    assert len(OUTSIDE_APP) > 50
    assert not {k: v for k, v in offenders.items() if v}


def test_the_import_walk_sees_relative_imports_inside_functions(tmp_path):
    # the check above would pass vacuously if the walk missed `from ..app.x import y` in a function body
    fake = tmp_path / "probe.py"
    fake.write_text("def f():\n    from ..app.cli import main\n    from . import registry\n")
    modules = imported_modules(fake, located=REPO / "backend" / "engines" / "probe.py")
    assert {"backend.app.cli", "backend.app.cli.main", "backend.engines.registry"} <= modules


def test_the_protocol_and_the_worker_front_load_no_numpy():
    code = ("import sys; import backend.ipc.client, backend.ipc.protocol, backend.summary, backend.app.worker; "
            "print('numpy' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
