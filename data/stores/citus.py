"""Past one machine: the distribution calls for Citus, behind ``CITYBRAIN_CITUS`` (README "Past one
machine").

Units, their closure and the list of rolled-up units are small and read by every query: reference
tables, copied to every worker, so joins with them never cross shards. Cameras and key places are
small too (tens of thousands): reference tables as well. The rollups are what the screens read:
distributed by ``unit_code`` and co-located with each other, so one unit's rows (any period,
filtered or not) live on one shard and the per-children sums of a click run on the shards in
parallel, each with a plain index range scan.

The cases themselves stay on the coordinator in this step (the rollups are what grows with
readers); sharding them by district needs a ``district_code`` column in the key (README).

On a plain PostgreSQL (no ``citus`` extension) with the setting off, nothing here runs:
``tests/test_postgis_store.py`` migrates such a database both ways.
"""

from __future__ import annotations

from dashboard.settings import Settings

REFERENCE_TABLES = ("units", "unit_closure", "rollup_units", "rollup_state", "cameras", "key_places")
DISTRIBUTED_TABLES = (("case_rollup", "unit_code"), ("case_rollup_day", "unit_code"))
# Tables a later revision added, distributed by that revision (co-located with case_rollup).
LATER_TABLES = {"0005_rollup_month": (("case_rollup_month", "unit_code"), ("case_rollup_year", "unit_code"))}
SETTING = "CITYBRAIN_CITUS"


def enabled(environ=None) -> bool:
    return Settings.from_env(environ).citus


def statements(revision: str | None = None) -> list[str]:
    """The Citus calls, in order (reference tables first: the distributed ones refer to them);
    ``revision``: only those of the tables that revision added."""
    if revision is not None:
        first = DISTRIBUTED_TABLES[0][0]
        return [f"SELECT create_distributed_table('{table}', '{column}', colocate_with => '{first}')"
                for table, column in LATER_TABLES[revision]]
    out = [f"SELECT create_reference_table('{t}')" for t in REFERENCE_TABLES]
    first = DISTRIBUTED_TABLES[0][0]
    for table, column in DISTRIBUTED_TABLES:
        colocate = "default" if table == first else first
        out.append(f"SELECT create_distributed_table('{table}', '{column}', colocate_with => '{colocate}')")
    return out


def distribute(conn, environ=None, revision: str | None = None) -> list[str]:
    """Run the calls when the setting is on; the statements run (none when off)."""
    if not enabled(environ):
        return []
    if conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'citus'").first() is None:
        raise RuntimeError(f"{SETTING} is on but the database has no citus extension "
                           "(CREATE EXTENSION citus on the coordinator first)")
    done = []
    for sql in statements(revision):
        conn.exec_driver_sql(sql)
        done.append(sql)
    return done
