"""The layers of the package: the core runs without a screen, and each folder imports only
the folders below it (see ALLOWED), with no import cycles."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import lessonreview.core

CORE_DIR = Path(lessonreview.core.__file__).parent
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph")


def core_modules() -> list[str]:
    names = []
    for path in sorted(CORE_DIR.rglob("*.py")):
        parts = path.relative_to(CORE_DIR.parent.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def forbidden_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    return found


def test_core_source_never_imports_qt():
    files = sorted(CORE_DIR.rglob("*.py"))
    assert files, "no core modules found"
    offending = [hit for path in files for hit in forbidden_imports(path)]
    assert offending == []


def test_importing_every_core_module_loads_no_qt():
    # A fresh interpreter: this test process may already have Qt loaded by GUI tests.
    script = f"""
import importlib, json, sys, traceback
failed = {{}}
for name in {core_modules()!r}:
    try:
        importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=-1)
qt = sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r})
print(json.dumps({{"failed": failed, "qt": qt}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}, "core modules that do not import"
    assert report["qt"] == []


PACKAGE_DIR = CORE_DIR.parent

# Which layer may import which (besides itself). A layer not listed on the right of another
# may not be imported by it; "lessonreview" (the package's version) is open to all.
ALLOWED = {
    "core.domain": set(),
    "core.assignment": set(),
    "core.media": {"core.domain"},
    "core.vision": {"core.domain", "core.media", "core.store"},
    "core.store": {"core.domain"},
    "core.analysis": {"core.domain", "core.assignment", "core.media", "core.vision", "core.store"},
    "core.review": {"core.domain", "core.store"},
    "core.exchange": {"core.domain", "core.media", "core.store"},
    "core.agreement": {"core.domain", "core.assignment", "core.store"},
    "core.privacy": {"core.domain", "core.media", "core.vision", "core.store"},
    "core.reflection": {
        "core.domain",
        "core.media",
        "core.vision",
        "core.store",
        "core.review",
        "core.privacy",
    },
    "gui.common": {"core.*"},
    "gui.player": {"core.*", "gui.common"},
    "gui.timeline": {"core.*", "gui.common"},
    "gui.review": {"core.*", "gui.common"},
    "gui.analysis": {"core.*", "gui.common"},
    "gui.export": {"core.*", "gui.common"},
    "gui.agreement": {"core.*", "gui.common"},
    "gui.schemes": {"core.*", "gui.common"},
    "gui.privacy": {"core.*", "gui.common", "gui.export"},
    "gui.reflection": {"core.*", "gui.common", "gui.timeline"},
    "gui.shell": {"core.*", "gui.*"},
    "cli": {"core.*", "gui.shell"},
}


def layer_of(module: str) -> str:
    """``lessonreview.core.media.video`` -> ``core.media``; modules directly in ``gui`` are the
    GUI's shared basics (``gui.common``)."""
    parts = module.split(".")[1:]
    if not parts:
        return "lessonreview"
    if parts[0] == "core" and len(parts) >= 2:
        return f"core.{parts[1]}"
    if parts[0] == "gui":
        return f"gui.{parts[1]}" if len(parts) >= 3 else "gui.common"
    return parts[0]


def project_imports(path: Path) -> list[tuple[int, str]]:
    """Every ``lessonreview`` module a file imports, lazily imported ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("lessonreview."):
                found.append((node.lineno, node.module))
            elif node.module == "lessonreview":
                # the package's own names (its version) belong to no layer
                found += [(node.lineno, "lessonreview") for a in node.names]
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name) for a in node.names if a.name.startswith("lessonreview.")
            ]
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def permitted(source: str, target: str) -> bool:
    if target in (source, "lessonreview", "__init__") or source in ("lessonreview", "__main__"):
        return True
    for rule in ALLOWED[source]:
        if rule == target or (rule.endswith(".*") and target.startswith(rule[:-1])):
            return True
    return False


def test_every_layer_has_a_rule_and_says_what_it_owns():
    packages = [p for p in PACKAGE_DIR.rglob("__init__.py") if p.parent != PACKAGE_DIR]
    for init in packages:
        name = layer_of(module_name(init) + ".x")
        if init.parent in (CORE_DIR, PACKAGE_DIR / "gui"):
            name = init.parent.name
        else:
            assert name in ALLOWED, f"{init.parent} has no layering rule"
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), (
            f"{init} does not say what its folder owns"
        )


def test_layers_import_only_what_their_rules_allow():
    offending = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        source = layer_of(module_name(path))
        if source.startswith("core.") and source not in ALLOWED and source != "core.domain":
            offending.append(f"{path}: unknown layer {source}")
            continue
        for line, imported in project_imports(path):
            target = layer_of(imported)
            if source in ALLOWED and not permitted(source, target):
                offending.append(f"{path.relative_to(PACKAGE_DIR)}:{line} {source} -> {target}")
    assert offending == []


def test_no_import_cycles_between_modules():
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        graph[module_name(path)] = set()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        for _, imported in project_imports(path):
            # "from lessonreview.core.store import settings" names a module inside a package.
            target = imported if imported in graph else imported.rsplit(".", 1)[0]
            if target in graph and target != module_name(path):
                graph[module_name(path)].add(target)
    # Tarjan's strongly connected components: any with more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []
