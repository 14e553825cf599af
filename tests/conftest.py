"""Shared fixtures: generated demo cities on each store, and the rule that CI skips nothing.

Tests that need infrastructure (PostGIS, Chromium) skip with a loud reason where this machine
cannot provide it; with ``CI=true`` such a skip fails the run instead.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from data.demo.generator import Progress, generate
from data.stores import open_store
from tests.browser import anonymous_page, browser, live_server, page  # noqa: F401
from tests.pgcluster import (  # noqa: F401
    empty_postgis,
    postgis_cluster,
    postgis_demo,
    postgis_demo_copy,
    postgis_url,
)

# Every test city ends at the same moment, so its numbers are the same on every run and store.
DEMO_END = datetime(2026, 11, 20, 15, 30)
DEMO_SEED = 7
DEMO_SCALE = 0.05

INFRA_SKIP_PREFIX = "需要基础设施 infrastructure missing:"


def skip_infra(reason: str):
    """Skip for missing infrastructure; CI turns this into a failure (see the hook below)."""
    pytest.skip(f"{INFRA_SKIP_PREFIX} {reason}")


def _skip_message(report) -> str:
    return str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if (report.skipped and os.environ.get("CI", "").lower() == "true"
            and INFRA_SKIP_PREFIX in _skip_message(report)):
        report.outcome = "failed"
        report.longrepr = f"CI=true: an infrastructure skip is a failure here. {_skip_message(report)}"
    return report


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    infra = [r for r in skipped if INFRA_SKIP_PREFIX in str(r.longrepr)]
    if infra:
        terminalreporter.section("SKIPPED FOR MISSING INFRASTRUCTURE", sep="!", red=True, bold=True)
        for r in infra[:5]:
            terminalreporter.write_line(_skip_message(r))


@pytest.fixture(scope="session")
def embedded_demo(tmp_path_factory):
    """A small generated demo city in an embedded GeoPackage store (read-only for tests)."""
    path = tmp_path_factory.mktemp("embedded") / "demo.gpkg"
    store = open_store(f"sqlite:///{path}")
    store.create_schema()
    generate(store, seed=DEMO_SEED, scale=DEMO_SCALE, end=DEMO_END, progress=Progress(open(os.devnull, "w")))
    return store


@pytest.fixture(scope="module", params=["embedded", pytest.param("postgis", marks=pytest.mark.postgis)])
def demo_store(request):
    """The test demo city, once on each store: tests that use it run on both."""
    return request.getfixturevalue(f"{request.param}_demo")


@pytest.fixture(scope="module")
def demo_client(demo_store):
    """A Flask test client of the app serving ``demo_store``."""
    from app import create_app
    from dashboard.settings import Settings
    from tests.access import grant

    app = create_app(Settings(db=demo_store.engine.url.render_as_string(hide_password=False)))
    client = app.server.test_client()
    # A real analyst token for the whole city (tests/access.py): the API answers nobody else.
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {grant(demo_store)}"
    yield client
    app.server.config["CITYBRAIN_DATA"].store.engine.dispose()  # leave the template database free


@pytest.fixture
def empty_embedded(tmp_path):
    """A fresh, empty embedded store for tests that write."""
    store = open_store(f"sqlite:///{tmp_path / 'empty.gpkg'}")
    store.create_schema()
    return store
