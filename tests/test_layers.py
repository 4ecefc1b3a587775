"""The package's shape: layers import only the layers before them, no import circles (lazy
imports included), no module over 400 lines, every folder says what it is for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "drywet"
MAX_LINES = 400
# each layer imports only the layers before it (and itself)
LAYERS = (
    ("errors",),
    ("audio", "spec", "preset_files", "io"),
    ("dsp",),
    ("effects",),
    ("registry",),
    ("graph", "chain"),
    ("metrics",),
    ("weights", "nn", "training", "datasets"),
    ("augment", "blackbox", "gradients", "analysis", "neural", "estimate", "invert", "mixing"),
    ("pipelines", "report", "mix_report", "demo"),
    ("cli",),
)
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


MODULES = dict(_modules())


def _imports(name: str, path: Path) -> set[str]:
    """drywet modules that ``name`` imports anywhere in its body (lazy imports count)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                out.add(full if full in MODULES else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_top_level_module_has_a_layer():
    missing = sorted({_layer(m) for m in MODULES if _layer(m) and _layer(m) not in RANK})
    assert not missing, f"give {missing} a place in LAYERS"


def test_no_import_from_a_lower_layer_to_a_higher_one():
    wrong = [(m, t) for m, targets in GRAPH.items() for t in targets
             if _layer(m) and _layer(t) and RANK[_layer(t)] > RANK[_layer(m)]]
    assert not wrong, wrong


def test_no_import_circles():
    """Between modules (a package's __init__ re-exporting its own modules is not a circle)."""
    edges = {m: {t for t in ts if not (MODULES[t].name == "__init__.py" and m.startswith(t + "."))
                 and not (MODULES[m].name == "__init__.py" and t.startswith(m + "."))} for m, ts in GRAPH.items()}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concept"


@pytest.mark.parametrize("name", sorted(m for m, p in MODULES.items() if p.name == "__init__.py"))
def test_every_folder_says_what_it_is_for(name):
    assert ast.get_docstring(ast.parse(MODULES[name].read_text())), f"{name}/__init__.py needs a docstring"


def test_every_folder_is_a_package():
    folders = {p.parent for p in PACKAGE.rglob("*.py")}
    assert not [str(f) for f in folders if not (f / "__init__.py").exists()]
