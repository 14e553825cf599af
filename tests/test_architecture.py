"""The rules that keep the code base in shape, checked rather than hoped for."""

import ast
import re
from dataclasses import fields
from pathlib import Path

from dash import development

from app import create_app
from dashboard import ids
from dashboard.settings import Settings, settings_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dashboard", "data", "geo", "layouts", "callbacks")
# Everything the import rules cover: the packages, the app module and the benchmarks.
SOURCES = PACKAGES + ("bench", "app")

# What each part may import from the project: app → callbacks → (data, geo, layouts) → dashboard.
# Nothing but app.py wires callbacks; benchmarks measure through the app or data directly.
# data/geo/dashboard never import dash; layouts never touch the database.
ALLOWED = {
    "dashboard": {"dashboard"},
    "geo": {"geo"},
    "data": {"data", "geo", "dashboard"},
    "layouts": {"layouts", "geo", "dashboard"},
    "callbacks": {"callbacks", "data", "geo", "layouts", "dashboard"},
    "app": {"callbacks", "data", "geo", "layouts", "dashboard"},
    "bench": {"bench", "app", "data", "geo", "dashboard"},
}
FORBIDDEN_THIRD_PARTY = {
    "dashboard": {"dash", "sqlalchemy", "flask"},  # plotly is allowed, for the theme template
    "geo": {"dash", "sqlalchemy", "flask"},
    "data": {"dash", "flask", "flask_caching"},
    "layouts": {"sqlalchemy", "flask", "flask_caching", "shapely", "geopandas"},
    # The service hands out GeoJSON and points ready to draw: callbacks do no geometry work.
    "callbacks": {"sqlalchemy", "shapely", "geopandas"},
}


def _source_files() -> dict[str, Path]:
    """Every module the rules cover, by dotted name (``data.stores.base``, ``app``)."""
    files = {"app": ROOT / "app.py"}
    for package in SOURCES:
        if package == "app":
            continue
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


def _imported_modules(name: str, path: Path) -> set[str]:
    """The absolute names of everything ``path`` imports, at module level or inside functions.

    ``from a.b import c`` names ``a.b.c`` when that is a module, else ``a.b``; relative imports are
    resolved against the module's own package.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def _import_graph() -> dict[str, set[str]]:
    """Project module → the project modules it imports (names that are not modules dropped)."""
    files = _source_files()
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in _imported_modules(name, path) if m in files and m != name}
    return graph


def _imports(path: Path) -> set[str]:
    """The top-level names (``dash``, ``data``) a file imports anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph``."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_dependency_direction():
    problems = []
    for name, path in _source_files().items():
        part = name.split(".")[0]
        imported = _imports(path)
        for other in (imported & set(SOURCES)) - ALLOWED[part]:
            problems.append(f"{path.relative_to(ROOT)} imports {other}")
        for other in imported & FORBIDDEN_THIRD_PARTY.get(part, set()):
            problems.append(f"{path.relative_to(ROOT)} imports {other}")
    assert not problems, "\n".join(problems)


def test_no_import_cycles():
    """No module reaches itself through its imports, deferred (function-level) ones included."""
    graph = _import_graph()
    assert "data.stores.base" in graph and "app" in graph and "bench.drill" in graph
    cycles = [c for c in _strongly_connected(graph) if len(c) > 1]
    assert not cycles, "import cycles:\n" + "\n".join(" ⇄ ".join(c) for c in cycles)


def test_the_cycle_check_sees_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [c for c in _strongly_connected(graph) if len(c) > 1] == [["a", "b", "c"]]


def test_data_does_not_import_url_state():
    """``data`` takes domain values (``dashboard.domain``), never the URL state of a screen."""
    graph = _import_graph()
    offenders = sorted(m for m, deps in graph.items() if m.split(".")[0] == "data"
                       and any(d == "dashboard.viewstate" or d.startswith("dashboard.viewstate.")
                               for d in deps))
    assert not offenders, offenders


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f.metadata["env"] for f in fields(Settings) if f"`{f.metadata['env']}`" not in readme]
    assert not missing, f"README lacks settings: {missing}"
    assert settings_table() in readme, "README's settings table is stale: run python -m dashboard.settings"


def test_settings_read_from_the_environment():
    s = Settings.from_env({"PORT": "9000", "CITYBRAIN_DEBUG": "true", "CITYBRAIN_DB": "/tmp/x.gpkg"})
    assert s.port == 9000 and s.debug is True and s.db_url == "sqlite:////tmp/x.gpkg"
    assert Settings.from_env({"CITYBRAIN_DB": "postgresql://u@h/db"}).db_url == "postgresql://u@h/db"


def test_every_callback_id_exists_in_the_layout(embedded_demo):
    app = create_app(Settings(db=embedded_demo.engine.url.database))
    layout_ids = set()

    def walk(component):
        if isinstance(component, (list, tuple)):
            for c in component:
                walk(c)
            return
        if not isinstance(component, development.base_component.Component):
            return
        if isinstance(getattr(component, "id", None), str):
            layout_ids.add(component.id)
        walk(getattr(component, "children", None))

    # The layout is a shell a router fills from the path: the validation layout holds every view.
    assert app.validation_layout is not None and not app.config.suppress_callback_exceptions
    walk(app.validation_layout)
    shell = set(layout_ids)
    layout_ids.clear()
    walk(app.layout)
    assert layout_ids <= shell, "the shell's ids must be in the validation layout"
    layout_ids |= shell
    used = set()
    for key, spec in app.callback_map.items():
        for part in re.findall(r"([\w-]+)\.[\w]+", key):
            used.add(part)
        for dep in spec["inputs"] + spec["state"]:
            used.add(dep["id"])
    missing = {u for u in used if u not in layout_ids}
    assert not missing, f"callback ids not in the layout: {missing}"
    declared = {v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)}
    assert declared <= layout_ids, f"ids declared but not in the layout: {declared - layout_ids}"


def test_no_cdn_or_public_url_in_the_code():
    pattern = re.compile(r"https?://(?!127\.0\.0\.1|localhost|tiles\.local)[\w.-]+\.(com|org|net|io|cn)")
    hits = []
    for package in PACKAGES + ("app.py",):
        for path in ([ROOT / package] if package.endswith(".py") else (ROOT / package).rglob("*")):
            if path.suffix in (".py", ".css", ".js") and pattern.search(path.read_text(encoding="utf-8")):
                hits.append(str(path.relative_to(ROOT)))
    assert not hits, hits


def test_callbacks_stay_thin():
    """A callback parses inputs, asks the service, hands answers to layouts: no function in
    callbacks/ grows past 60 lines."""
    long = []
    for path in (ROOT / "callbacks").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, long


def test_the_code_cites_only_documents_in_the_repo():
    """Comments point at docs/ARCHITECTURE.md or the README, never at design notes outside the
    repository that a person who clones it does not have."""
    pattern = re.compile(r"\bSPEC\b\s*§|DESIGN\.md|SPEC\.md|STYLE\.md|\.\./shared")
    hits = []
    for package in SOURCES + ("tests", "docs"):
        root = ROOT / package if (ROOT / package).is_dir() else ROOT / f"{package}.py"
        for path in [root] if root.is_file() else root.rglob("*"):
            text = path.read_text(encoding="utf-8") if path.suffix in (".py", ".md", ".js", ".css") else ""
            if pattern.search(text):
                hits.append(str(path.relative_to(ROOT)))
    assert not hits, hits
    assert (ROOT / "docs" / "ARCHITECTURE.md").is_file()
