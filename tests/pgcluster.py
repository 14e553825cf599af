"""A throwaway PostGIS server for the tests: initdb + pg_ctl in a temporary directory.

One cluster per test session. It listens only on a unix socket inside its own directory (no TCP
port, so it cannot clash with a server already running here), runs with fsync off, and is
stopped and deleted when the session ends. As root (CI), missing PostgreSQL 15 / PostGIS
packages are installed with apt-get, and the cluster runs as the ``postgres`` system user
(initdb refuses root). When PostGIS cannot be had, the tests that need it skip loudly, which
``CI=true`` turns into a failure (see ``skip_infra`` in conftest.py).

Fixtures (registered in conftest.py):

- ``postgis_cluster``: the running :class:`Cluster` (create and drop databases on it).
- ``postgis_url``: URL of an empty database on it, created for the session (no schema).
- ``postgis_demo``: the test demo city, generated straight into PostGIS (read-only for tests).
- ``postgis_demo_copy``: a private copy of that city for one test that writes.
- ``empty_postgis``: a fresh database with the schema migrated and no rows, for one test (a copy
  of a database migrated once per session).
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from data.demo.generator import Progress, generate
from data.stores import open_store

PG_BIN = Path(os.environ.get("CITYBRAIN_PG_BIN", "/usr/lib/postgresql/15/bin"))
APT_PACKAGES = ("postgresql-15", "postgresql-15-postgis-3")
PORT = 5432  # only names the socket file; the socket lives in the cluster's private directory
SUPERUSER = "postgres"
_SETTINGS = {
    "listen_addresses": "''",
    "port": str(PORT),
    "fsync": "off",  # a throwaway cluster: durability buys nothing, speed does
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
    "timezone": "'Asia/Shanghai'",
}


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def missing_postgis() -> str | None:
    """Why a PostGIS cluster cannot be started here, or None when it can."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL 15 binaries not found in {PG_BIN}"
    sharedir = _run([str(PG_BIN / "pg_config"), "--sharedir"]).stdout.strip()
    if not sharedir or not (Path(sharedir) / "extension" / "postgis.control").exists():
        return f"PostGIS extension not installed for PostgreSQL 15 ({sharedir or '?'}/extension)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            return f"running as root but there is no '{SUPERUSER}' system user to run initdb as"
    return None


def _missing_packages() -> list[str]:
    return [pkg for pkg in APT_PACKAGES if "install ok installed" not in _run(
        ["dpkg-query", "-W", "-f=${Status}", pkg]).stdout]


def ensure_postgis() -> str | None:
    """Install PostgreSQL 15 and PostGIS with apt-get when missing and root; why not, or None.

    Only the missing packages are installed, with ``--no-upgrade``: installed ones are never
    upgraded behind the back of servers already running from them.
    """
    reason = missing_postgis()
    if reason is None:
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{reason}; run tests/ensure_test_deps.sh as root"
    packages = _missing_packages()
    if not packages:
        return f"{reason} (the packages {', '.join(APT_PACKAGES)} are installed)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "--no-upgrade", *packages]
    done = _run(install, env=env)
    if done.returncode != 0:
        _run(["apt-get", "update"], env=env)
        done = _run(install, env=env)
    reason = missing_postgis()
    if reason and done.returncode != 0:
        reason += f"; apt-get install failed: {done.stderr.strip().splitlines()[-1:]}"
    return reason


class Cluster:
    """A PostgreSQL cluster in a temporary directory, reached through a unix socket there."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="citybrain-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._as_postgres = os.geteuid() == 0
        self._running = False
        self._names = itertools.count(1)
        self._migrated: str | None = None
        if self._as_postgres:
            user = pwd.getpwnam(SUPERUSER)
            os.chown(self.dir, user.pw_uid, user.pw_gid)

    def _pg(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(PG_BIN / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
        done = _run(cmd, cwd=self.dir)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}\n{log}")
        return done

    def start(self) -> None:
        self._pg("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--no-locale",
                 "--encoding=UTF8", "--no-sync")
        settings = {**_SETTINGS, "unix_socket_directories": f"'{self.dir}'"}
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        self._running = True
        atexit.register(self.stop)  # in case the session ends without running its finalizers

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
        atexit.unregister(self.stop)

    def url(self, database: str) -> str:
        """A URL that both SQLAlchemy and libpq (psycopg2.connect) accept."""
        url = URL.create("postgresql", username=SUPERUSER, database=database,
                         query={"host": str(self.dir), "port": str(PORT)})
        return url.render_as_string(hide_password=False)

    def psql(self, sql: str, database: str = "postgres") -> str:
        return self._pg("psql", "-h", str(self.dir), "-p", str(PORT), "-U", SUPERUSER, "-d", database,
                        "-v", "ON_ERROR_STOP=1", "-qAtc", sql).stdout

    def create_database(self, prefix: str = "test", template: str = "template1") -> str:
        """A new database (a copy of ``template``); its name."""
        name = f"{prefix}_{next(self._names)}"
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def migrated_template(self) -> str:
        """A database with the schema migrated and no rows, made once, for others to copy."""
        if self._migrated is None:
            name = self.create_database("migrated")
            store = open_store(self.url(name))
            store.create_schema()
            store.engine.dispose()
            self._migrated = name
        return self._migrated

    def disconnect_all(self, database: str) -> None:
        """End every session on ``database`` (idle pool connections of engines a test left open)."""
        self.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgis_cluster():
    """The session's PostGIS cluster, started once; skips (fails under CI=true) when impossible."""
    from tests.conftest import skip_infra

    reason = ensure_postgis()
    if reason:
        skip_infra(f"PostGIS: {reason}")
    cluster = Cluster()
    try:
        cluster.start()
    except Exception:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgis_url(postgis_cluster) -> str:
    """URL of an empty database (no tables yet) on the session's PostGIS cluster."""
    return postgis_cluster.url(postgis_cluster.create_database("citybrain"))


@pytest.fixture(scope="session")
def postgis_demo(postgis_cluster):
    """The same small demo city as ``embedded_demo``, written into PostGIS (read-only for tests)."""
    from tests.conftest import DEMO_END, DEMO_SCALE, DEMO_SEED

    store = open_store(postgis_cluster.url(postgis_cluster.create_database("demo")))
    store.create_schema()
    with open(os.devnull, "w") as quiet:
        generate(store, seed=DEMO_SEED, scale=DEMO_SCALE, end=DEMO_END, progress=Progress(quiet))
    yield store
    store.engine.dispose()


@pytest.fixture
def postgis_demo_copy(postgis_cluster, postgis_demo):
    """A private copy of the PostGIS demo city for one test that writes to it."""
    template = postgis_demo.engine.url.database
    postgis_demo.engine.dispose()  # CREATE DATABASE … TEMPLATE needs the template unused
    postgis_cluster.disconnect_all(template)  # and other engines' idle pooled connections too
    name = postgis_cluster.create_database("demo_copy", template=template)
    store = open_store(postgis_cluster.url(name))
    yield store
    store.engine.dispose()
    postgis_cluster.drop_database(name)


@pytest.fixture
def empty_postgis(postgis_cluster):
    """A fresh PostGIS store with the schema migrated and no rows, for one test."""
    name = postgis_cluster.create_database("empty", template=postgis_cluster.migrated_template())
    store = open_store(postgis_cluster.url(name))
    yield store
    store.engine.dispose()
    postgis_cluster.drop_database(name)
