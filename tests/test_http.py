"""What goes over the wire: compressed scripts, pages, Dash answers and JSON; versioned files kept
by browsers for a year; ``citybrain serve`` runs the production server (waitress)."""

from __future__ import annotations

import gzip
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app import create_app
from dashboard.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client(embedded_demo, tmp_path_factory):
    """A city-wide analyst's client of the app on a private copy of the demo city."""
    import shutil

    from data.stores import open_store
    from tests.access import grant

    embedded_demo.checkpoint()
    path = tmp_path_factory.mktemp("http") / "copy.gpkg"
    shutil.copy(embedded_demo.engine.url.database, path)
    store = open_store(f"sqlite:///{path}")
    token = grant(store)
    store.engine.dispose()
    app = create_app(Settings(db=str(path), warm=False))
    client = app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    yield client
    app.server.config["CITYBRAIN_DATA"].store.engine.dispose()


def _page(client) -> str:
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    return gzip.decompress(response.data).decode()


def test_scripts_and_styles_are_compressed_and_kept_for_a_year(client):
    page = _page(client)
    # plotly.js: loaded by the graph component from an unversioned URL (revalidated by ETag).
    plotly = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    for encoding in ("br", "gzip"):
        response = client.get(plotly, headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding
        assert len(response.data) < 1_500_000  # 4.8 MB uncompressed
        again = client.get(plotly, headers={"Accept-Encoding": encoding,
                                            "If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and not again.data  # a second visit revalidates it
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+\.js)"', page)
    assert len(scripts) > 5
    for script in scripts:  # fingerprinted by Dash
        response = client.get(script, headers={"Accept-Encoding": "br"})
        assert "max-age=31536000" in response.headers["Cache-Control"], script
        if len(response.data) > 2000:
            assert response.headers["Content-Encoding"] == "br", script
    for asset in re.findall(r'"(/assets/[^"]+\?m=[^"]+)"', page):
        response = client.get(asset, headers={"Accept-Encoding": "gzip"})
        assert response.headers["Content-Encoding"] == "gzip", asset
        assert "no-cache" not in response.headers["Cache-Control"]
        assert "max-age=31536000" in response.headers["Cache-Control"]
    favicon = re.search(r'href="([^"]*favicon[^"]*)"', page).group(1)
    assert "max-age=31536000" in client.get(favicon).headers["Cache-Control"]


def test_dash_answers_and_json_are_compressed(client):
    for path in ("/_dash-layout", "/_dash-dependencies", "/api/v1/units/990100/children"):
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        if len(response.get_data()) >= 500:
            assert response.headers.get("Content-Encoding") == "gzip", path
    plain = client.get("/_dash-dependencies")
    assert "Content-Encoding" not in plain.headers  # only to clients that ask


def test_citybrain_serve_runs_waitress(embedded_demo, tmp_path):
    import shutil

    embedded_demo.checkpoint()
    copy = tmp_path / "serve.gpkg"  # serving writes (a first-run admin): not the shared city
    shutil.copy(embedded_demo.engine.url.database, copy)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CITYBRAIN_DB": str(copy), "PORT": str(port),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "import app, sys; sys.exit(app.main(['serve']))"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    assert response.status == 200
                    assert response.headers["Server"] == "citybrain"  # waitress's ident
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_gunicorn_config_uses_threaded_workers_from_the_settings(monkeypatch):
    import runpy

    monkeypatch.setenv("CITYBRAIN_WORKERS", "2")
    monkeypatch.setenv("CITYBRAIN_THREADS", "6")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (config["worker_class"], config["workers"], config["threads"]) == ("gthread", 2, 6)
    assert config["wsgi_app"] == "app:create_server()"
