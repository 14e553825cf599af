"""An embedded file made by an earlier version opens with the columns added to the schema since."""

from sqlalchemy import text

from data import rollups
from data.stores import open_store


def _columns(store, table: str) -> set[str]:
    with store.engine.connect() as conn:
        return {row[1] for row in conn.exec_driver_sql(f'PRAGMA table_info("{table}")')}


def test_an_older_file_gets_the_new_columns(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'old.gpkg'}")
    store.create_schema()
    with store.engine.begin() as conn:  # what a file from before the outcome column looked like
        for i, (category, status) in enumerate([("矛盾纠纷", "核查办结"), ("矛盾纠纷", "处置"),
                                                ("治安", "核查办结")]):
            conn.execute(text("INSERT INTO cases (external_id, category, source, reported_at, status) "
                              "VALUES (:i, :c, '网格员上报', '2026-11-01 08:00:00', :s)"),
                         {"i": f"OLD-{i}", "c": category, "s": status})
        # ... and had no rollups (data/rollups.py): their triggers name the outcome column
        for name in ("insert", "update_old", "update_new", "delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS citybrain_rollup_{name}"))
        for table in ("rollup_state", "case_rollup", "case_rollup_day", "rollup_units"):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("ALTER TABLE cases DROP COLUMN outcome"))
        conn.execute(text("DROP INDEX ix_survey_indicators_updated_at"))
        conn.execute(text("ALTER TABLE survey_indicators DROP COLUMN updated_at"))
    assert "outcome" not in _columns(store, "cases")
    store.create_schema()
    store.create_schema()  # idempotent
    assert "outcome" in _columns(store, "cases")
    assert "updated_at" in _columns(store, "survey_indicators")
    with store.engine.connect() as conn:
        indexes = {row[1] for row in conn.exec_driver_sql('PRAGMA index_list("survey_indicators")')}
    assert "ix_survey_indicators_updated_at" in indexes
    with store.engine.connect() as conn:  # a closed dispute from before the column kept its meaning
        outcomes = dict(conn.execute(text("SELECT external_id, outcome FROM cases")).all())
    assert outcomes == {"OLD-0": "化解成功", "OLD-1": None, "OLD-2": None}
    with store.engine.connect() as conn:  # the rollups were built, after the backfill
        assert rollups.usable(conn)
