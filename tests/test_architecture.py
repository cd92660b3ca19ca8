"""The house rules of docs/ARCHITECTURE.md that code can check: the core never imports Streamlit, and
the core's modules import each other in one direction only (no cycles)."""
from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "skin_app"


def imports_of(path: Path) -> set[str]:
    """Every module name ``path`` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def core_modules() -> dict[str, Path]:
    return {".".join(p.relative_to(CORE.parent).with_suffix("").parts).removesuffix(".__init__"): p
            for p in CORE.rglob("*.py")}


def test_the_core_never_imports_streamlit():
    users = [name for name, path in core_modules().items()
             if any(n == "streamlit" or n.startswith("streamlit.") for n in imports_of(path))]
    assert users == []


def test_the_core_has_no_import_cycle():
    modules = core_modules()
    graph = {name: sorted(n for n in imports_of(path) if n in modules and n != name and n != "skin_app")
             for name, path in modules.items()}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(name):] + [name]))
        if name in done:
            return
        for dep in graph[name]:
            visit(dep, trail + [name])
        done.add(name)

    for name in graph:
        visit(name, [])
    assert "skin_app.scans" in graph["skin_app.cli_analyze"]          # the graph sees function-level imports
