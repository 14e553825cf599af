"""What only the PostGIS store has: other programs writing its tables, and the Alembic migrations.

The "external writer" here is plain psycopg2 and SQL, not our code: the trigger from the
migrations must give its rows their grid and make them count, and the data version must move.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg2
import pytest
import shapely
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from dashboard import vocab
from data import queries
from data.schema import metadata, units
from data.stores import open_store, upgrade
from data.stores.migrations import alembic_config, include_object
from data.stores.postgis import PostGISStore
from tests.conftest import DEMO_END

TODAY = (DEMO_END.replace(hour=0, minute=0), DEMO_END.replace(hour=0, minute=0) + timedelta(days=1))


def ask(store, fn, **kwargs):
    with store.engine.connect() as conn:
        return fn(conn, **kwargs)


def counts(store, code, **kwargs):
    return ask(store, queries.counts, unit_code=code, start=TODAY[0], end=TODAY[1], now=DEMO_END, **kwargs)


def libpq_url(store) -> str:
    return store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def grid_points(store, n: int) -> dict[str, shapely.Point]:
    """A point well inside each of ``n`` grids, by code."""
    with store.engine.connect() as conn:
        codes = conn.execute(select(units.c.code).where(units.c.level == "grid").order_by(units.c.code.desc())
                             .limit(n)).scalars().all()
    shapes = store.unit_shapes(codes)
    return dict(zip(shapes["code"], shapely.point_on_surface(shapes.geometry.to_numpy()), strict=True))


class ExternalWriter:
    """Another program: its own connection, plain SQL, autocommit."""

    def __init__(self, store):
        self.conn = psycopg2.connect(libpq_url(store))
        self.conn.autocommit = True

    def __call__(self, sql: str, *params):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone() if cur.description else None

    def insert_case(self, external_id: str, point, *, category=vocab.DISPUTE, deadline=DEMO_END):
        return self(
            "INSERT INTO cases (external_id, category, subcategory, source, reported_at, geom, status,"
            " deadline) VALUES (%s, %s, '邻里', '12345热线', %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326),"
            " '受理', %s) RETURNING id, grid_code, updated_at",
            external_id, category, DEMO_END - timedelta(hours=1), point.x, point.y,
            deadline - timedelta(minutes=10),
        )


@pytest.fixture
def writer(postgis_demo_copy):
    writer = ExternalWriter(postgis_demo_copy)
    yield writer
    writer.conn.close()


pytestmark = pytest.mark.postgis


def test_external_insert_gets_its_grid_and_counts_up_the_tree(postgis_demo_copy, embedded_demo, writer):
    store = postgis_demo_copy
    grid, point = next(iter(grid_points(store, 1).items()))
    # The embedded store (Shapely) independently agrees which grid holds the point.
    assert list(embedded_demo.assign_grids([shapely.to_wkb(point)])) == [grid]
    chain = [u["code"] for u in ask(store, queries.ancestors, code=grid)]
    assert len(chain) == len(vocab.LEVELS) and chain[-1] == grid
    parent = chain[-2]
    version = ask(store, queries.data_version)
    before = {code: counts(store, code).loc[code] for code in chain}
    siblings_before = counts(store, parent, by_children=True)
    max_id = ask(store, lambda conn: conn.execute(text("SELECT max(id) FROM cases")).scalar())

    case_id, grid_code, _ = writer.insert_case("EXT-0001", point)

    assert grid_code == grid
    assert case_id == max_id + 1  # the demo's own ids did not leave the id sequence behind
    assert ask(store, queries.data_version) != version
    for code in chain:
        change = (counts(store, code).loc[code] - before[code]).to_dict()
        assert change == {**{k: 0.0 for k in queries.ALL_COUNTS}, "accepted": 1.0, "disputes": 1.0,
                          "overdue": 1.0}, code
    siblings = counts(store, parent, by_children=True)
    changed = (siblings["accepted"] - siblings_before["accepted"]).loc[lambda s: s != 0]
    assert changed.to_dict() == {grid: 1.0}
    recent = ask(store, queries.recent_cases, unit_code=grid, start=TODAY[0], end=TODAY[1], limit=200)
    assert "EXT-0001" in [r["external_id"] for r in recent]


def test_external_updates_move_the_version_and_reassign_moved_points(postgis_demo_copy, writer):
    store = postgis_demo_copy
    (first, p1), (second, p2) = grid_points(store, 2).items()
    case_id, grid_code, stamped = writer.insert_case("EXT-0002", p1)
    assert grid_code == first
    version = ask(store, queries.data_version)

    # A status change by the other program: the version moves although no id is new.
    _, restamped = writer("UPDATE cases SET status = %s, closed_at = %s WHERE id = %s"
                          " RETURNING grid_code, updated_at", vocab.CLOSED, DEMO_END, case_id)
    assert restamped > stamped
    assert ask(store, queries.data_version) != version

    # The point moves and the writer leaves grid_code alone: the trigger re-assigns it.
    (moved,) = writer("UPDATE cases SET geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326) WHERE id = %s"
                      " RETURNING grid_code", p2.x, p2.y, case_id)
    assert moved == second
    # A writer that sets the grid itself is trusted.
    (kept,) = writer("UPDATE cases SET grid_code = %s WHERE id = %s RETURNING grid_code", first, case_id)
    assert kept == first


def test_external_insert_outside_every_grid_counts_nowhere(postgis_demo_copy, writer):
    store = postgis_demo_copy
    city = ask(store, queries.roots)[0]["code"]
    before, version = counts(store, city), ask(store, queries.data_version)
    _, grid_code, _ = writer.insert_case("EXT-FAR", shapely.Point(100.0, 20.0))
    assert grid_code is None
    assert ask(store, queries.data_version) != version
    assert counts(store, city).equals(before)


def test_external_camera_gets_its_grid(postgis_demo_copy, writer):
    grid, point = next(iter(grid_points(postgis_demo_copy, 1).items()))
    (grid_code,) = writer("INSERT INTO cameras (id, kind, geom, status) VALUES ('EXT-CAM', '球机',"
                          " ST_SetSRID(ST_MakePoint(%s, %s), 4326), 'online') RETURNING grid_code",
                          point.x, point.y)
    assert grid_code == grid


def test_migrations_build_the_schema_of_data_schema(postgis_cluster):
    url = postgis_cluster.url(postgis_cluster.create_database("migrate"))
    upgrade(url)
    upgrade(url)  # idempotent
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
            context = MigrationContext.configure(conn, opts={"include_object": include_object,
                                                             "compare_type": True})
            with pytest.warns(Warning, match="geometry"):  # SQLAlchemy does not know the type
                assert compare_metadata(context, metadata) == []
            inspector = inspect(conn)
            for table in ("units", "cases", "cameras", "key_places", "police_cases"):
                assert f"gist_{table}_geom" in {i["name"] for i in inspector.get_indexes(table)}
            triggers = conn.execute(text("SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
                                         " WHERE NOT tgisinternal")).all()
            # grid assignment on four tables; the audit trail refuses changes (row and TRUNCATE)
            assert sorted(t for t, name in triggers if not name.startswith("citybrain_rollup_")) == [
                "audit_log", "audit_log", "cameras", "cases", "key_places", "police_cases"]
            rollup_triggers = conn.execute(text("SELECT tgname FROM pg_trigger WHERE tgname LIKE "
                                                "'citybrain_rollup_%'")).scalars()
            assert sorted(rollup_triggers) == [f"citybrain_rollup_{n}" for n in
                                               ("delete", "insert", "truncate", "update")]
        assert store.is_empty()
    finally:
        store.engine.dispose()


def test_written_into_an_empty_store_assigns_through_sql(empty_postgis):
    from tests.factories import EAST, WEST, case, tiny_city, write_cases

    tiny_city(empty_postgis)
    write_cases(empty_postgis, [case(1, at=WEST), case(2, at=EAST)])
    points = [shapely.to_wkb(shapely.Point(*WEST)), shapely.to_wkb(shapely.Point(114.01, 30.005))]
    # The shared edge of the two grids goes to the lower code, as in the embedded store.
    assert list(empty_postgis.assign_grids(points)) == ["990102001001001", "990102001001001"]
    with empty_postgis.engine.connect() as conn:
        assert conn.execute(text("SELECT nextval(pg_get_serial_sequence('cases', 'id'))")).scalar() == 3


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg2://u@h/db"])
def test_postgresql_urls_open_a_postgis_store_on_psycopg2(url):
    store = open_store(url)
    assert isinstance(store, PostGISStore) and store.kind == "postgis"
    assert store.engine.dialect.driver == "psycopg2"


def test_other_postgresql_drivers_are_refused():
    with pytest.raises(ValueError, match="psycopg2"):
        open_store("postgresql+asyncpg://u@h/db")


def test_upgrade_on_an_embedded_url_creates_its_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.gpkg'}"
    upgrade(url)
    upgrade(url)
    store = open_store(url)
    assert store.kind == "embedded" and store.is_empty()


def test_citus_distribution_is_behind_a_setting(postgis_cluster, monkeypatch):
    from data.stores import citus

    calls = citus.statements()
    assert calls.index("SELECT create_reference_table('units')") < calls.index(
        "SELECT create_distributed_table('case_rollup', 'unit_code', colocate_with => 'default')")
    assert "colocate_with => 'case_rollup'" in calls[-1]
    # Off (the default): the migrations run on plain PostgreSQL and call nothing of Citus.
    monkeypatch.delenv("CITYBRAIN_CITUS", raising=False)
    plain = postgis_cluster.url(postgis_cluster.create_database("plain"))
    upgrade(plain)
    # On, against a server without Citus: refused with the reason, nothing half-done.
    monkeypatch.setenv("CITYBRAIN_CITUS", "1")
    url = postgis_cluster.url(postgis_cluster.create_database("citus"))
    with pytest.raises(RuntimeError, match="citus extension"):
        upgrade(url)
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None
    finally:
        store.engine.dispose()
