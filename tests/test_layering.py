"""The core must run without a screen: no module under lessonreview.core may import Qt."""

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
