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

# What each package may import from the project (DESIGN.md: app → callbacks → data, geo, layouts
# → dashboard). data/geo/dashboard never import dash; layouts never touch the database.
ALLOWED = {
    "dashboard": {"dashboard"},
    "geo": {"geo"},
    "data": {"data", "geo", "dashboard"},
    "layouts": {"layouts", "geo", "dashboard"},
    "callbacks": {"callbacks", "data", "geo", "layouts", "dashboard"},
}
FORBIDDEN_THIRD_PARTY = {
    "dashboard": {"dash", "sqlalchemy", "flask"},  # plotly is allowed, for the theme template
    "geo": {"dash", "sqlalchemy", "flask"},
    "data": {"dash"},
    "layouts": {"sqlalchemy", "flask", "flask_caching"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_dependency_direction():
    problems = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            imported = _imports(path)
            project = imported & set(PACKAGES)
            for name in project - ALLOWED[package]:
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
            for name in imported & FORBIDDEN_THIRD_PARTY.get(package, set()):
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not problems, "\n".join(problems)


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
