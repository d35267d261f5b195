"""The add-on's layers, read from the source (no bpy): addon/ (logic) → operators/ (thin) → panels/ (UI).

Every import counts, also those inside functions, so a lazy import cannot hide an upward dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

from .conftest import REPO

LAYERS = ("addon", "operators", "panels")   # bottom to top


def project_imports(path: Path) -> set[str]:
    """Project modules `path` imports, as dotted names from the repo root (relative imports resolved)."""
    package = list(path.relative_to(REPO).parent.parts)
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join(base + ([node.module] if node.module else []))
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)
    return out


def modules(layer: str) -> list[Path]:
    return sorted((REPO / layer).glob("*.py"))


def test_each_layer_imports_only_layers_below_it():
    upward = []
    for i, layer in enumerate(LAYERS):
        above = LAYERS[i + 1:]
        for path in modules(layer):
            for name in project_imports(path):
                if name.split(".")[0] in above:
                    upward.append(f"{path.relative_to(REPO)} imports {name}")
    assert not upward, upward


def test_backend_and_rigs_never_import_the_addon():
    found = [f"{p.relative_to(REPO)} imports {n}" for top in ("backend", "rigs") for p in (REPO / top).rglob("*.py")
             for n in project_imports(p) if n.split(".")[0] in LAYERS]
    assert not found, found


def _bases(node: ast.ClassDef) -> set[str]:
    return {ast.unparse(b) for b in node.bases}


def test_operators_hold_only_operator_classes():
    """operators/: Operator classes and their registration; logic lives in addon/."""
    extra = []
    for path in modules("operators"):
        if path.stem == "_poll":  # the poll check the operators share
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and "bpy.types.Operator" not in _bases(node):
                extra.append(f"{path.name}: class {node.name}")
            elif isinstance(node, ast.FunctionDef) and node.name not in ("register", "unregister"):
                extra.append(f"{path.name}: def {node.name}")
    assert not extra, extra


def test_the_extension_root_holds_only_the_register_module():
    assert [p.name for p in REPO.glob("*.py")] == ["__init__.py"]
    init = ast.parse((REPO / "__init__.py").read_text(encoding="utf-8"))
    assert {n.name for n in init.body if isinstance(n, ast.FunctionDef)} == {"register", "unregister"}
