"""The house rules of docs/ARCHITECTURE.md that code can check: the core never imports Streamlit; the
core's modules import each other in one direction only (no cycles); each wing imports only the floors
the architecture allows it (the ground floor no wing, ``scan/`` no other wing); no SQL outside
``storage/``."""
from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "skin_app"
REPO = CORE.parent

# The ground floor: top-level modules every wing may read; they import no wing.
GROUND = {"concerns", "limits", "config", "errors", "values", "access", "parse_lock"}
# What each part of the core may import (besides itself), as docs/ARCHITECTURE.md draws it.
ALLOWED: dict[str, set[str]] = {
    "ground": set(),
    "scan": {"ground"},
    "routines": {"ground"},
    "storage": {"ground", "routines"},          # storage converts routines' values (schedule.Routine)
    "ingredients": {"ground", "scan"},          # the report reads the scan's score words
    "history": {"ground", "scan", "storage", "routines"},
    "charts": {"ground", "scan", "history"},
    "batch": {"ground", "scan", "charts"},
    "training": {"ground", "scan"},
    "cli": {"ground", "scan", "history", "ingredients", "routines", "storage", "batch", "charts"},
    "__main__": {"cli"},
}


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
    assert "skin_app.history.save" in graph["skin_app.cli.analyze"]          # the graph sees function-level imports


def part_of(name: str) -> str:
    """The floor or wing a core module belongs to: "ground", a wing ("scan", "history", ...), "charts" or
    "__main__"."""
    first = name.split(".")[1] if "." in name else "ground"     # the package's own __init__ is ground
    return "ground" if first in GROUND else first


def wing_imports() -> dict[str, set[str]]:
    """Each core module -> the parts (other than its own) it imports."""
    modules = core_modules()
    return {name: {part_of(n) for n in imports_of(path) if n in modules and n != "skin_app"} - {part_of(name)}
            for name, path in modules.items()}


def test_every_core_module_belongs_to_a_known_floor_or_wing():
    assert {part_of(name) for name in core_modules()} == set(ALLOWED)


def test_the_scan_wing_imports_no_other_wing():
    offenders = {name: deps for name, deps in wing_imports().items()
                 if part_of(name) == "scan" and deps & {"history", "storage", "ingredients", "routines", "cli",
                                                         "batch", "charts", "training"}}
    assert offenders == {}


def test_the_ground_floor_imports_no_wing():
    offenders = {name: deps for name, deps in wing_imports().items() if part_of(name) == "ground" and deps}
    assert offenders == {}


def test_each_wing_imports_only_what_the_architecture_allows():
    offenders = {name: deps - ALLOWED[part_of(name)] for name, deps in wing_imports().items()
                 if deps - ALLOWED[part_of(name)]}
    assert offenders == {}
    assert "scan" in wing_imports()["skin_app.history.progress"]     # the check sees arrows between wings


def test_no_sql_outside_storage():
    """Only ``storage/`` opens SQLite or runs a statement: the core outside it, the pages, the app and the
    server do not."""
    sources = [p for p in CORE.rglob("*.py") if "storage" not in p.relative_to(CORE).parts[:1]]
    sources += [*REPO.glob("app_pages/*.py"), REPO / "app.py", REPO / "serve.py"]
    offenders = []
    for path in sources:
        opens = "sqlite3" in imports_of(path)
        runs = any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                   and node.func.attr in {"execute", "executemany", "executescript"}
                   for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
        if opens or runs:
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
    assert any("execute" in p.read_text(encoding="utf-8") for p in (CORE / "storage").glob("*.py"))
