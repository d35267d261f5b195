"""The project's import graph: no cycles among its modules, and the layers keep their direction.

Every import counts wherever it is written: at module level, inside functions and methods, inside
try/except fallbacks (rigs/_backend.py). Imports under `if TYPE_CHECKING:` never run, so they are left
out of the cycle check (that is the idiom for type hints across layers) but still obey the layer rules.

Names are relative to the repository root, which is also the add-on package: `backend/audio/analyze.py`
is `backend.audio.analyze`, the add-on's own `__init__.py` is `(add-on)`, `from .. import preferences`
in `operators/x.py` is `preferences`. `from pkg import name` is an edge to `pkg.name` when that is a
module of the project, else to `pkg` (name is an attribute of its `__init__`). Importing `a.b.c` also
runs `a` and `a.b`; those implicit edges to parent packages are not counted (else every package whose
`__init__` re-exports a submodule would be a cycle with it).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("backend", "rigs", "operators", "panels", "addon")
ROOT = "(add-on)"  # the repository's own __init__.py: the add-on package Blender imports
BLENDER_MODULES = ("bpy", "bmesh", "mathutils", "bpy_extras", "gpu", "gpu_extras", "aud", "idprop", "addon_utils")
SKIP_DIRS = {"__pycache__", "checkpoints", "default_character"}  # data folders; no code in them


@dataclass(frozen=True)
class Import:
    target: str          # a project module, or the top-level name of an outside one ("bpy", "numpy")
    line: int
    in_project: bool
    type_only: bool      # under `if TYPE_CHECKING:`: never executed


@dataclass
class Graph:
    root: Path
    files: dict[str, Path] = field(default_factory=dict)          # module → file
    imports: dict[str, list[Import]] = field(default_factory=dict)

    def where(self, module: str, line: int) -> str:
        return f"{self.files[module].relative_to(self.root)}:{line}"

    def edges(self, runtime_only: bool = True) -> dict[str, set[str]]:
        return {m: {i.target for i in imps if i.in_project and not (runtime_only and i.type_only)}
                for m, imps in self.imports.items()}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) if parts else ROOT


def project_files(root: Path, packages=PACKAGES) -> list[Path]:
    """The top-level .py files of the root and every .py file under the given packages."""
    files = sorted(p for p in root.glob("*.py"))
    for pkg in packages:
        for p in sorted((root / pkg).rglob("*.py")) if (root / pkg).is_dir() else ():
            if not SKIP_DIRS.intersection(p.relative_to(root).parts):
                files.append(p)
    return files


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`) blocks."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            t = node.test
            name = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else None
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    out.update(id(n) for n in ast.walk(stmt))
    return out


def build_graph(root: Path, packages=PACKAGES) -> Graph:
    graph = Graph(root)
    for path in project_files(root, packages):
        graph.files[module_name(path, root)] = path
    known = set(graph.files)

    def resolve(name: str) -> tuple[str, bool]:
        """The deepest project module `name` denotes (a.b.attr → a.b), or its outside top-level name."""
        parts = name.split(".")
        for k in range(len(parts), 0, -1):
            if ".".join(parts[:k]) in known:
                return ".".join(parts[:k]), True
        return parts[0], False

    for mod, path in graph.files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        type_only = _type_checking_nodes(tree)
        is_package = path.name == "__init__.py"
        package = "" if mod == ROOT else mod if is_package else mod.rpartition(".")[0]
        found: list[Import] = []
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".") if package else []
                    if node.level - 1 > len(base):
                        raise AssertionError(f"{path}:{node.lineno}: relative import beyond the add-on root")
                    base = base[:len(base) - (node.level - 1)]
                    if node.module:
                        base += node.module.split(".")
                    stem = ".".join(base)
                else:
                    stem = node.module
                for alias in node.names:
                    sub = f"{stem}.{alias.name}" if stem else alias.name
                    names.append(sub if sub in known else stem or ROOT)
            for name in names:
                target, inside = resolve(name)
                if target != mod:
                    found.append(Import(target, node.lineno, inside, id(node) in type_only))
        graph.imports[mod] = found
    return graph


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle per tangle, each as [m0, m1, …, m0], sorted."""
    return sorted(_shortest_cycle(edges, comp) for comp in tangles(edges))


def tangles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative): the modules that
    all reach each other through imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = set()
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        comp.add(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        components.append(comp)
    return components


def _shortest_cycle(edges: dict[str, set[str]], comp: set[str]) -> list[str]:
    """The shortest loop inside a strongly connected component (breadth first from each member)."""
    best: list[str] = []
    for start in sorted(comp):
        prev: dict[str, str | None] = {start: None}
        queue = [start]
        for node in queue:
            if start in edges.get(node, ()):
                chain = [node]
                while prev[chain[-1]] is not None:
                    chain.append(prev[chain[-1]])
                cycle = chain[::-1] + [start]
                if not best or len(cycle) < len(best):
                    best = cycle
                break
            for child in sorted(edges.get(node, ())):
                if child in comp and child not in prev:
                    prev[child] = node
                    queue.append(child)
    return best


def describe(graph: Graph, cycle: list[str]) -> str:
    """m0 → m1 (file:line) → … for a failure message."""
    hops = []
    for a, b in zip(cycle, cycle[1:]):
        lines = sorted(i.line for i in graph.imports[a] if i.target == b and not i.type_only)
        hops.append(f"{a} → {b} ({graph.where(a, lines[0])})")
    return "\n    ".join(hops)


# --- layer rules -------------------------------------------------------------------------------------------

ANY_PROJECT = "*"


@dataclass(frozen=True)
class Rule:
    importers: tuple[str, ...]     # modules (and everything under them) the rule applies to
    forbidden: tuple[str, ...]     # what they must not import (ANY_PROJECT: any project module)
    except_importers: tuple[str, ...] = ()
    except_targets: tuple[str, ...] = ()
    why: str = ""


RULES = (
    Rule(("backend",), ("bpy",) + BLENDER_MODULES[1:],
         why="backend never imports bpy: it runs as `python -m backend` outside Blender"),
    Rule((ANY_PROJECT,), ("backend.app",), except_importers=("backend.app", "backend.__main__"),
         why="backend.app holds the front ends (cli, batch, worker…); nothing else imports them"),
    Rule(("backend.vocabulary",), (ANY_PROJECT,), except_targets=("backend.vocabulary",),
         why="backend.vocabulary is the bottom layer: it imports nothing from the project"),
    Rule(("backend.motion",), (ANY_PROJECT,), except_targets=("backend.vocabulary", "backend.motion"),
         why="backend.motion is pure math over the vocabulary (formats build on it, not the other way)"),
    Rule(("backend.formats",), ("backend.engines",),
         why="file formats never depend on the engines"),
    Rule(("backend.engines",), ("backend.generation", "backend.metrics", "backend.prompts.blend", "backend.live",
                                "backend.ipc"),
         why="engines answer one request; the pipeline, metrics, prompt blending, live and IPC sit above them"),
    Rule(("backend",), ("rigs", "operators", "panels", "addon", ROOT),
         why="the backend is below the add-on: it never imports the Blender side"),
    Rule(("rigs",), ("addon", "operators", "panels", ROOT),
         why="rigs/ is rig data, math and builders: the add-on uses it, never the other way"),
    Rule(("backend", "rigs", "addon"), ("operators", "panels"),
         why="operators and panels are at the top: only the add-on root (and panels, for operators) import them"),
    Rule(("operators",), ("panels",),
         why="panels draw the operators; operators never import panels"),
)


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(p == ANY_PROJECT or module == p or module.startswith(p + ".") for p in prefixes)


def violations(graph: Graph, rules=RULES) -> list[str]:
    """One line per offending import: where, what, and every rule it breaks."""
    out = []
    for mod, imps in sorted(graph.imports.items()):
        for i in imps:
            why = []
            for rule in rules:
                if not _under(mod, rule.importers) or _under(mod, rule.except_importers):
                    continue
                hit = i.in_project if ANY_PROJECT in rule.forbidden else _under(i.target, rule.forbidden)
                if hit and not _under(i.target, rule.except_targets):
                    why.append(rule.why)
            if why:
                out.append(f"{graph.where(mod, i.line)}: {mod} imports {i.target} ({'; '.join(why)})")
    return sorted(set(out))


# --- the project -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graph() -> Graph:
    return build_graph(REPO)


def test_the_walk_sees_the_whole_project(graph):
    """Guard against a walker that silently finds nothing: the known modules and their known imports."""
    assert {"backend.audio.analyze", "backend.generation.pipeline", "rigs.retarget", ROOT} <= set(graph.files)
    assert len(graph.files) >= 80
    assert sum(len(v) for v in graph.edges().values()) >= 200
    assert any(i.target == "bpy" and not i.in_project
               for m, imps in graph.imports.items() if m.startswith("operators.") for i in imps)


def test_no_import_cycles(graph):
    edges = graph.edges()
    found = sorted((_shortest_cycle(edges, t), t) for t in tangles(edges))
    assert not found, f"{len(found)} import cycle(s) among the project's modules:\n  " + "\n  ".join(
        "cycle: " + " → ".join(c) + "\n    " + describe(graph, c)
        + (f"\n    in a tangle of {len(t)}: {', '.join(sorted(t))}" if len(t) > len(c) - 1 else "")
        for c, t in found)


def package_of(module: str, graph: Graph) -> str:
    """backend.<subpackage> for modules in one of the backend's folders, else the top-level package;
    modules at the backend's root (options, pipeline…) stay themselves."""
    parts = module.split(".")
    if parts[0] == "backend" and len(parts) > 2 or parts[0] == "backend" and len(parts) == 2 and \
            graph.files[module].name == "__init__.py":
        return ".".join(parts[:2])
    return module if parts[0] == "backend" else parts[0]


def package_edges(graph: Graph) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a, targets in graph.edges().items():
        for b in targets:
            pa, pb = package_of(a, graph), package_of(b, graph)
            if pa != pb:
                out.setdefault(pa, set()).add(pb)
    return out


def test_packages_form_layers(graph):
    """The folders are the layers: no two packages (backend's subpackages, rigs, operators, panels, addon)
    import each other, even through different modules (formats ↔ motion, engines ↔ metrics)."""
    edges = package_edges(graph)

    def via(a: str, b: str) -> str:
        places = sorted({graph.where(m, i.line) for m, imps in graph.imports.items() if package_of(m, graph) == a
                         for i in imps if i.in_project and not i.type_only and package_of(i.target, graph) == b})
        return ", ".join(places[:4]) + (f" (+{len(places) - 4} more)" if len(places) > 4 else "")

    found = sorted((_shortest_cycle(edges, t), t) for t in tangles(edges))
    assert not found, f"{len(found)} cycle(s) among the packages:\n  " + "\n  ".join(
        " → ".join(c) + "".join(f"\n    {a} → {b} via {via(a, b)}" for a, b in zip(c, c[1:]))
        + (f"\n    in a tangle of {len(t)}: {', '.join(sorted(t))}" if len(t) > len(c) - 1 else "")
        for c, t in found)


def test_layer_rules(graph):
    bad = violations(graph)
    assert not bad, f"{len(bad)} import(s) against the layers:\n  " + "\n  ".join(bad)


def _bases(node: ast.ClassDef) -> set[str]:
    return {ast.unparse(b) for b in node.bases}


def test_operators_hold_only_operator_classes():
    """operators/: Operator classes and their registration; the logic lives in addon/."""
    extra = []
    for path in sorted((REPO / "operators").glob("*.py")):
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


def reachable(graph: Graph, start: str) -> set[str]:
    """Every project module `start` runs imports of, directly or through others (inside functions too)."""
    edges, seen, todo = graph.edges(), set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, ()))
    return seen


def test_neural_body_inference_does_not_reach_the_builtin_engines(graph):
    reached = reachable(graph, "backend.engines.neural_body.engine")
    assert "backend.engines.neural_body.infer" in reached
    assert not sorted(m for m in reached if m.startswith("backend.engines.builtin"))


# --- the walker itself, on a package made here -------------------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_walker_finds_a_cycle_through_an_import_inside_a_function(tmp_path):
    root = _write(tmp_path, {
        "__init__.py": "from . import backend\n",
        "backend/__init__.py": "from .x import f  # re-export: an edge to x, never a cycle with it\n",
        "backend/x.py": "import numpy\n\ndef f():\n    from . import y\n    return y.g()\n",
        "backend/y.py": "from .x import f as _f\n\ndef g():\n    return 1\n",
        "backend/deep/__init__.py": "",
        "backend/deep/z.py": "from ..y import g\nfrom ... import backend\nimport backend.x\n",
    })
    g = build_graph(root, ("backend",))
    assert set(g.files) == {ROOT, "backend", "backend.x", "backend.y", "backend.deep", "backend.deep.z"}
    edges = g.edges()
    assert edges["backend.x"] == {"backend.y"}                  # inside a function, `from . import y`
    assert edges["backend.y"] == {"backend.x"}                  # attribute of a module → that module
    assert edges["backend.deep.z"] == {"backend.y", "backend", "backend.x"}   # level 2 and 3, absolute
    assert edges[ROOT] == {"backend"}
    assert [i.target for i in g.imports["backend.x"] if not i.in_project] == ["numpy"]
    assert cycles(edges) == [["backend.x", "backend.y", "backend.x"]]


def test_walker_reports_each_cycle_once_with_a_shortest_path(tmp_path):
    root = _write(tmp_path, {
        "backend/__init__.py": "",
        "backend/a.py": "from . import b\n",
        "backend/b.py": "from . import c\n",
        "backend/c.py": "def f():\n    from .a import thing\n\nfrom . import b\n",   # a→b→c→a and b↔c
        "backend/p.py": "from . import q\n",
        "backend/q.py": "try:\n    from . import p\nexcept ImportError:\n    pass\n",
        "backend/t.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x\n",
        "backend/u.py": "from . import t\n",
    })
    g = build_graph(root, ("backend",))
    found = cycles(g.edges())
    # {a, b, c} is one tangle (a→b→c→a and b→c→b): reported once, by its shortest loop
    assert found == [["backend.b", "backend.c", "backend.b"], ["backend.p", "backend.q", "backend.p"]]
    assert "backend.a" in g.edges(runtime_only=False)["backend.t"] and "backend.a" not in g.edges()["backend.t"]


def test_layer_rules_catch_what_they_forbid(tmp_path):
    root = _write(tmp_path, {
        "__init__.py": "from . import operators\n",
        "operators/__init__.py": "from ..backend.app import cli\n",
        "backend/__init__.py": "",
        "backend/__main__.py": "from .app.cli import main\n",
        "backend/app/__init__.py": "",
        "backend/app/cli.py": "from ..vocabulary import rates\nimport bpy\n",
        "backend/vocabulary/__init__.py": "",
        "backend/vocabulary/rates.py": "import numpy\nfrom ..formats import npz\n",
        "backend/formats/__init__.py": "",
        "backend/formats/npz.py": "def f():\n    from ..engines import registry\n",
        "backend/engines/__init__.py": "",
        "backend/engines/registry.py": "from ... import operators\n",
        "rigs/__init__.py": "",
        "rigs/x.py": "import bpy\n",
    })
    g = build_graph(root, ("backend", "rigs", "operators"))
    bad = [v.split(": ", 1)[1].split(" (")[0] for v in violations(g)]
    assert sorted(bad) == sorted([
        "operators imports backend.app.cli",                 # only backend.app and backend.__main__ may
        "backend.app.cli imports bpy",                       # backend never imports bpy (rigs may)
        "backend.vocabulary.rates imports backend.formats.npz",   # vocabulary: nothing from the project
        "backend.formats.npz imports backend.engines.registry",   # inside a function, still counted
        "backend.engines.registry imports operators",        # backend below the add-on; operators on top
    ])
    assert any("never imports the Blender side" in v and "operators and panels are at the top" in v
               for v in violations(g))                       # one line, every rule it breaks
