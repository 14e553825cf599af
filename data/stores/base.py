"""The contract every store keeps: write units and cases, upsert, read shapes, and answer the
two spatial questions (heat cells, camera coverage) with the same frames.

Tabular reads (KPIs, rankings, trends) live in ``data.queries`` and are written once for both
stores. Only the spatial operations have one implementation per store: the embedded store does
them in Shapely (``data.stores.embedded_spatial``), the PostGIS store in SQL
(``data.stores.postgis_spatial``). ``data.stores.open_store(url)`` opens the right one.

- ``heat_cells``: one row per cell with disputes: ``i``, ``j`` (the cell, as ``ST_HexagonGrid``
  and ``ST_SquareGrid`` number them), ``count``, ``ids`` (the newest :data:`CELL_IDS` case ids).
- ``coverage_facts``: a :class:`CoverageFacts`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, bindparam, delete, event, func, or_, select

from dashboard import vocab
from data import rollups, schema
from data.ingest import upsert
from data.schema import cases, unit_closure, units

CELL_IDS = 50  # case ids kept per cell, newest first, for the list a click opens


class StoreUnavailable(RuntimeError):
    """The database could not be reached; screens keep their last good data."""


class QueryTimeout(StoreUnavailable):
    """A statement ran past the time limit and the database stopped it.

    The limit is the ``query_timeout`` a store is opened with (``CITYBRAIN_QUERY_TIMEOUT_SECONDS``
    for the screens and the API): PostgreSQL's ``statement_timeout``, a progress handler in SQLite.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"查询超时 query timed out (limit {seconds:g} s)")


def raise_query_timeouts(engine: Engine, seconds: float, stopped_by_limit) -> None:
    """Make ``engine`` raise :class:`QueryTimeout` where ``stopped_by_limit(dbapi_error)`` says the
    database stopped a statement at the limit (instead of the driver's own error)."""

    @event.listens_for(engine, "handle_error")
    def _translate(context):
        if stopped_by_limit(context.original_exception):
            return QueryTimeout(seconds)
        return None


def reading(engine: Engine) -> Connection:
    """A connection for reads (close it, or use it in ``with``): on PostgreSQL the driver's own
    autocommit, so a question costs its own round trip and no ``BEGIN`` and ``ROLLBACK`` around
    it, and a statement that fails (a time limit) leaves no aborted transaction behind for the next
    one. Never for writes: each statement would commit by itself.

    (SQLAlchemy's ``isolation_level="AUTOCOMMIT"`` would do the same but costs psycopg2 a ``SET``
    round trip at each checkout and return; the flag is the driver's alone, set back to
    transactions when the pool takes the connection back.)"""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        if not event.contains(engine, "checkin", _transactions_again):
            event.listen(engine, "checkin", _transactions_again)
        record = conn.connection
        try:
            record.dbapi_connection.autocommit = True
        except engine.dialect.loaded_dbapi.ProgrammingError:  # a transaction is open: stay in it
            return conn
        record.info["reading"] = True
    return conn


def _transactions_again(dbapi_connection, record) -> None:
    if record.info.pop("reading", False) and dbapi_connection is not None:
        dbapi_connection.autocommit = False


@dataclass
class CoverageFacts:
    """What the stores measure; ``data.coverage`` turns it into the per-unit summary.

    - ``members``: ``code``, ``area_m2``, ``covered_m2`` (inside an online camera's view);
    - ``cases``: ``id``, ``member``, ``x``, ``y`` (metres), ``blind`` (outside every online view);
    - ``places``: ``id``, ``name``, ``kind``, ``member``, ``x``, ``y``, ``covered``;
    - ``views``: ``id``, ``kind``, ``status``, ``wkb`` (lon/lat) of every camera whose view can
      reach the unit;
    - ``blind_wkb``: the unit outside online views, lon/lat WKB;

    answered from the stored per-grid coverage (``data.grid_coverage``), also ``people_m2`` and
    ``people_covered_m2`` (the unit's area within reach of a key place, and the part in view),
    ``views`` with ``lon``/``lat`` (each view's centre), and ``wkb``/``blind_wkb`` only when the
    unit has few enough cameras to draw (else no ``wkb`` column and ``blind_wkb`` None).
    """

    members: pd.DataFrame
    cases: pd.DataFrame
    places: pd.DataFrame
    views: pd.DataFrame
    blind_wkb: bytes | None
    people_m2: float | None = None
    people_covered_m2: float | None = None


def group_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows ``id``, ``reported_at``, ``i``, ``j`` (one per case) as one row per cell."""
    if frame.empty:
        return pd.DataFrame({"i": pd.Series(dtype="int64"), "j": pd.Series(dtype="int64"),
                             "count": pd.Series(dtype="int64"), "ids": pd.Series(dtype=object)})
    # One sort (cell, then newest first) and one split: no Python call per cell.
    frame = frame.sort_values(["i", "j", "reported_at", "id"], ascending=[True, True, False, False],
                              kind="stable")
    i, j, ids = (frame[c].to_numpy() for c in ("i", "j", "id"))
    starts = np.flatnonzero(np.r_[True, (i[1:] != i[:-1]) | (j[1:] != j[:-1])])
    counts = np.diff(np.r_[starts, len(frame)])
    ids = ids.astype("int64").tolist()
    return pd.DataFrame({"i": i[starts].astype("int64"), "j": j[starts].astype("int64"),
                         "count": counts.astype("int64"),
                         "ids": [ids[s:s + min(n, CELL_IDS)] for s, n in zip(starts, counts, strict=True)]})


class Store:
    """What every store does; subclasses supply the spatial parts."""

    kind = "abstract"

    def __init__(self, engine: Engine):
        self.engine = engine

    # --- schema -------------------------------------------------------------------------------

    def create_schema(self) -> None:
        raise NotImplementedError

    def checkpoint(self) -> None:
        """Make finished writes durable and visible to other tools (no-op where not needed)."""

    def identity_problem(self) -> str | None:
        """Why the store is no longer the one opened (its file replaced or gone), else None."""
        return None

    def damage(self, exc: Exception) -> str | None:
        """Whether a database error means the store itself is damaged (not merely unreachable)."""
        return None

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(units.c.code).limit(1)).first() is None

    # --- spatial operations (one implementation per store) ------------------------------------

    def assign_grids(self, wkb_points) -> np.ndarray:
        """The leaf unit (grid) code containing each WKB point, None where no grid does."""
        raise NotImplementedError

    def unit_shapes(self, codes) -> gpd.GeoDataFrame:
        """``code`` and full-detail ``geometry`` of the given units."""
        raise NotImplementedError

    def heat_cells(self, *, unit_code, start, end, heat, cell: str, size: float,
                   epsg: int) -> pd.DataFrame:
        """Disputes per hexagon or square cell (see the module docstring)."""
        raise NotImplementedError

    def coverage_facts(self, *, unit_code, members, start, end, epsg: int):
        """Camera coverage of the unit's members (a :class:`CoverageFacts`), measured from scratch."""
        raise NotImplementedError

    def lock_coverage(self, conn) -> None:
        """Hold, until ``conn``'s transaction ends, the right to bring ``grid_coverage`` up to date
        (``data.grid_coverage.refresh``): one process measures a change, the others then see it
        done. Nothing here: an embedded store's writers queue on the file's lock."""

    # --- writing ------------------------------------------------------------------------------

    def write_units(self, frame: gpd.GeoDataFrame) -> None:
        """Insert units (any levels, parents first or not) and rebuild the ancestor links."""
        rows = _records(frame.drop(columns="geometry"))
        for row, geom in zip(rows, frame.geometry, strict=True):
            row["geom"] = shapely.to_wkb(shapely.force_2d(_multi(geom)))
        with self.engine.begin() as conn:
            # Insert parents before children so the foreign key holds on every row.
            for batch in _parents_first(rows):
                conn.execute(units.insert(), batch)
            self._rebuild_closure(conn)

    def _rebuild_closure(self, conn) -> None:
        parent_of = dict(conn.execute(select(units.c.code, units.c.parent_code)).all())
        links = []
        for code in parent_of:
            depth, node, seen = 0, code, set()
            while node is not None:
                if node in seen:
                    raise ValueError(f"单元层级存在循环 cycle in the unit hierarchy at {node}")
                seen.add(node)
                links.append({"ancestor_code": node, "descendant_code": code, "depth": depth})
                node, depth = parent_of.get(node), depth + 1
        conn.execute(delete(unit_closure))
        conn.execute(unit_closure.insert(), links)
        rollups.rebuild(conn)  # which units are rolled up, and their rows, follow the hierarchy

    def write_cases(self, frame: pd.DataFrame, events: pd.DataFrame) -> None:
        """Insert cases (with ``id`` and WKB ``geom``) and their status events in one transaction.

        Cases without a ``grid_code`` are assigned the grid containing their point.
        """
        frame = frame.copy()
        if "grid_code" not in frame:
            frame["grid_code"] = None
        missing = frame["grid_code"].isna().to_numpy()
        if missing.any():
            frame.loc[missing, "grid_code"] = self.assign_grids(frame.loc[missing, "geom"].to_numpy())
        with self.engine.begin() as conn:
            self._bulk_insert(conn, cases, frame)
            self._bulk_insert(conn, schema.case_events, events)

    def write_table(self, table, frame: pd.DataFrame) -> None:
        """Insert rows into one of the other tables (cameras, key places, surveys)."""
        with self.engine.begin() as conn:
            self._bulk_insert(conn, table, frame)

    def _bulk_insert(self, conn, table, frame: pd.DataFrame) -> None:
        rows = _records(frame)
        for i in range(0, len(rows), 50_000):
            conn.execute(table.insert(), rows[i : i + 50_000])

    # --- upserting: imports and live ingest (data.importer) ------------------------------------

    def stored_rows(self, conn, table, key: str, keys, columns) -> pd.DataFrame:
        """The stored rows of ``table`` whose ``key`` is in ``keys``, with ``key`` and ``columns``."""
        names = [key] + [c for c in columns if c != key and c in table.c]
        # Rows as plain tuples: pandas builds a frame from SQLAlchemy Row objects several times
        # slower (it probes each one as a named tuple, and a Row answers through a KeyError).
        parts = [
            pd.DataFrame([tuple(row) for row in conn.execute(
                select(*(table.c[c] for c in names)).where(table.c[key].in_(chunk)))], columns=names)
            for chunk in upsert.chunks(list(keys))
        ]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=names)

    def upsert_rows(self, conn, table, frame: pd.DataFrame, key: str) -> set:
        """``INSERT … ON CONFLICT (key) DO UPDATE`` the frame's other columns, only where one differs.

        The dialect's own upsert (SQLite and PostgreSQL spell it the same); rows equal to the stored
        ones are not touched, so their ``updated_at`` stays. The keys of the rows written.
        """
        if frame.empty:
            return set()
        insert = _dialect_insert(conn)
        columns = [c for c in frame.columns if c in table.c]
        compared = [c for c in columns if c not in (key, "updated_at")]
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={c: stmt.excluded[c] for c in columns if c != key},
            where=or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared)),
        ).returning(table.c[key])
        written = set()
        for batch in upsert.chunks(_records(frame[columns]), 1_000):
            written.update(conn.execute(stmt, batch).scalars().all())
        return written

    def insert_new(self, conn, table, frame: pd.DataFrame, key: str) -> set:
        """``INSERT … ON CONFLICT (key) DO NOTHING``: the keys of the rows actually inserted (a row
        another transaction inserted first is left to the caller)."""
        if frame.empty:
            return set()
        columns = [c for c in frame.columns if c in table.c]
        stmt = _dialect_insert(conn)(table).on_conflict_do_nothing(
            index_elements=[table.c[key]]).returning(table.c[key])
        inserted = set()
        for batch in upsert.chunks(_records(frame[columns]), 1_000):
            inserted.update(conn.execute(stmt, batch).scalars().all())
        return inserted

    def upsert_table(self, conn, table, frame: pd.DataFrame, key: str, *, now: datetime,
                     dry_run: bool = False,
                     concurrent: bool = False) -> tuple[upsert.UpsertResult, pd.DataFrame, pd.DataFrame]:
        """Insert the new rows (the bulk path), update the changed ones, leave equal ones alone.

        Returns the result, the new rows and the changed rows with their stored values (``old_…``
        columns hold what they replace). Nothing is written when ``dry_run``. With ``concurrent``
        (live ingest) new rows go in with ``ON CONFLICT DO NOTHING``: one that another transaction
        inserted since the look-up is upserted instead and counted as updated or unchanged.
        """
        stored = self.stored_rows(conn, table, key, frame[key].tolist(), frame.columns)
        new, changed, counts = upsert.diff(frame, stored, table, key)
        result = upsert.UpsertResult(inserted=int(new.sum()), updated=int(changed.sum()),
                                     unchanged=int((~new & ~changed).sum()), changed_fields=counts)
        fresh, modified = frame[new], frame[changed]
        old = stored.drop_duplicates(key).set_index(key).add_prefix("old_")
        modified = modified.join(old, on=key)
        if not dry_run:
            stamped = {"updated_at": now} if "updated_at" in table.c else {}
            if len(fresh) and concurrent:
                got = self.insert_new(conn, table, fresh.assign(**stamped), key)
                lost = fresh[~fresh[key].isin(got)]
                if len(lost):  # inserted by another request meanwhile: the same case re-sent
                    written = self.upsert_rows(conn, table, lost.assign(**stamped), key)
                    result.inserted -= len(lost)
                    result.updated += len(written)
                    result.unchanged += len(lost) - len(written)
                    fresh = fresh[fresh[key].isin(got)]
            elif len(fresh):
                self._bulk_insert(conn, table, fresh.assign(**stamped))
            if len(modified):
                self.upsert_rows(conn, table, frame[changed].assign(**stamped), key)
        return result, fresh, modified

    def upsert_cases(self, conn, frame: pd.DataFrame, *, now: datetime, actor: str = "import",
                     dry_run: bool = False, concurrent: bool = False) -> upsert.UpsertResult:
        """Upsert cases by ``external_id`` and append their history to ``case_events``.

        A new case gets an event for each closed-loop step whose time it carries, up to its
        status; a case whose status changed gets one event for the new status (at the step's time
        column when given, else ``now``). ``frame`` has no ``id``; ``grid_code`` is filled by the
        caller. Runs in the caller's transaction ``conn``.
        """
        frame = frame.drop(columns=[c for c in ("id",) if c in frame])
        result, fresh, modified = self.upsert_table(conn, cases, frame, "external_id", now=now,
                                                    dry_run=dry_run, concurrent=concurrent)
        events = []
        if "status" in modified:
            moved = modified[modified["status"] != modified["old_status"]]
            if len(moved):
                ids = self.stored_rows(conn, cases, "external_id", moved["external_id"].tolist(), ["id"])
                moved = moved.merge(ids, on="external_id")
                events.append(_status_events(moved, now=now, actor=actor, history=False))
        if len(fresh):
            if dry_run:
                fresh = fresh.assign(id=0)
            else:
                ids = self.stored_rows(conn, cases, "external_id", fresh["external_id"].tolist(), ["id"])
                fresh = fresh.merge(ids, on="external_id")
            events.append(_status_events(fresh, now=now, actor=actor, history=True))
        events = pd.concat(events, ignore_index=True) if events else pd.DataFrame()
        result.events = len(events)
        if len(events) and not dry_run:
            self._bulk_insert(conn, schema.case_events, events)
        return result

    def upsert_units(self, conn, frame: gpd.GeoDataFrame | pd.DataFrame, *, now: datetime,
                     dry_run: bool = False) -> upsert.UpsertResult:
        """Upsert units by ``code`` (WKB ``geom``), parents before children, then rebuild the
        ancestor links and give a grid to stored cases, cameras and key places that had none."""
        frame = pd.DataFrame(frame)
        stored = self.stored_rows(conn, units, "code", frame["code"].tolist(), frame.columns)
        new, changed, counts = upsert.diff(frame, stored, units, "code")
        result = upsert.UpsertResult(inserted=int(new.sum()), updated=int(changed.sum()),
                                     unchanged=int((~new & ~changed).sum()), changed_fields=counts)
        if dry_run or not (new.any() or changed.any()):
            return result
        fresh = frame[new].assign(updated_at=now)
        for batch in _parents_first(_records(fresh)):
            self._bulk_insert(conn, units, pd.DataFrame(batch))
        self.upsert_rows(conn, units, frame[changed].assign(updated_at=now), "code")
        self._rebuild_closure(conn)
        result.reassigned = self.assign_missing_grids(conn, now=now)
        return result

    def update_table(self, conn, table, frame: pd.DataFrame, key: str, *, now: datetime,
                     dry_run: bool = False) -> upsert.UpsertResult:
        """Update the given columns of stored rows (``citybrain import stats``: 人房楼 onto units);
        equal rows are left alone. Rows must exist (the importer checks)."""
        stored = self.stored_rows(conn, table, key, frame[key].tolist(), frame.columns)
        new, changed, counts = upsert.diff(frame, stored, table, key)
        result = upsert.UpsertResult(inserted=0, updated=int(changed.sum()),
                                     unchanged=int((~new & ~changed).sum()), changed_fields=counts)
        columns = [c for c in frame.columns if c != key and c in table.c]
        if changed.any() and columns and not dry_run:
            rows = _records(frame[changed][[key, *columns]].rename(columns={key: "_key"}))
            for row in rows:
                row["_now"] = now
            values = {c: bindparam(c) for c in columns}
            if "updated_at" in table.c:
                values["updated_at"] = bindparam("_now")
            conn.execute(table.update().where(table.c[key] == bindparam("_key")).values(**values), rows)
        return result

    def upsert_composite(self, conn, table, frame: pd.DataFrame, keys: list[str], *, now: datetime,
                         dry_run: bool = False) -> upsert.UpsertResult:
        """Upsert rows keyed by several columns (surveys, sensitive counts): new rows are inserted,
        changed ones replaced, equal ones left alone (their ``updated_at`` stays)."""
        result = upsert.UpsertResult()
        if frame.empty:
            return result
        first = keys[0]
        stored = pd.concat([pd.DataFrame([tuple(r) for r in conn.execute(
            select(*(table.c[c] for c in frame.columns)).where(table.c[first].in_(chunk)))],
            columns=list(frame.columns)) for chunk in upsert.chunks(frame[first].unique().tolist())],
            ignore_index=True)
        joined = frame.assign(_key=_tuple_keys(frame, keys))
        old = stored.assign(_key=_tuple_keys(stored, keys)).drop_duplicates("_key").set_index("_key")
        exists = joined["_key"].isin(old.index).to_numpy()
        changed = np.zeros(len(frame), bool)
        for column in (c for c in frame.columns if c not in keys):
            before = old[column].reindex(joined["_key"]).to_numpy()
            a = upsert._normalised(pd.Series(before, dtype=object), table.c[column].type)
            b = upsert._normalised(frame[column].reset_index(drop=True), table.c[column].type)
            changed |= exists & np.array([x != y for x, y in zip(a, b, strict=True)], dtype=bool)
        result.inserted, result.updated = int((~exists).sum()), int(changed.sum())
        result.unchanged = int((exists & ~changed).sum())
        if not dry_run and (changed.any() or (~exists).any()):
            replace = frame[changed]
            if len(replace):
                conn.execute(table.delete().where(
                    *(table.c[k] == bindparam(f"_{k}") for k in keys)),
                    [{f"_{k}": v for k, v in zip(keys, row, strict=True)}
                     for row in replace[keys].itertuples(index=False)])
            stamped = {"updated_at": now} if "updated_at" in table.c else {}
            self._bulk_insert(conn, table, frame[changed | ~exists].assign(**stamped))
        return result

    def record_as_of(self, conn, as_of: str | None, *, now: datetime) -> None:
        """Remember when an imported export was taken (the newest wins); ``"live"`` forgets it:
        a live write makes the store live, and overdue is then counted against the clock."""
        meta = schema.store_meta
        if as_of is None:
            return
        stored = conn.execute(select(meta.c.value).where(meta.c.key == "data_as_of")).scalar()
        if as_of == "live":
            if stored is not None:
                conn.execute(meta.delete().where(meta.c.key == "data_as_of"))
            return
        if stored is not None and stored >= as_of:
            return
        conn.execute(meta.delete().where(meta.c.key == "data_as_of"))
        conn.execute(meta.insert().values(key="data_as_of", value=as_of, updated_at=now))

    def assign_missing_grids(self, conn, *, now: datetime) -> int:
        """Give the grid containing its point to every stored case, camera and key place that has
        none, or whose unit is no longer a leaf (grids arrived under it), after units changed; how
        many changed."""
        done = 0
        parents = select(units.c.parent_code).where(units.c.parent_code.isnot(None))
        for table, key in ((cases, "id"), (schema.cameras, "id"), (schema.key_places, "id"),
                           (schema.police_cases, "id")):
            rows = conn.execute(select(table.c[key], table.c.geom, table.c.grid_code).where(
                or_(table.c.grid_code.is_(None), table.c.grid_code.in_(parents)),
                table.c.geom.isnot(None))).all()
            if not rows:
                continue
            codes = self._assign_in(conn, [r.geom for r in rows])
            updates = [{"k": r[0], "g": g, "t": now} for r, g in zip(rows, codes, strict=True)
                       if g is not None and g != r.grid_code]
            if updates:
                conn.execute(table.update().where(table.c[key] == bindparam("k")).values(
                    grid_code=bindparam("g"), updated_at=bindparam("t")), updates)
            done += len(updates)
        return done

    def _assign_in(self, conn, wkb_points) -> np.ndarray:
        """``assign_grids`` inside the caller's transaction (so it sees units written in it)."""
        return self.assign_grids(wkb_points)


def _inner_units_deepest_first():
    """Units that have children, deepest first, then by code: where a point outside every grid
    is counted (the PostGIS trigger of migration 0003_seed orders them the same way)."""
    depth = (select(func.count()).select_from(unit_closure)
             .where(unit_closure.c.descendant_code == units.c.code).scalar_subquery())
    parents = select(units.c.parent_code).where(units.c.parent_code.isnot(None))
    return (select(units.c.code, units.c.geom)
            .where(units.c.code.in_(parents), units.c.geom.isnot(None))
            .order_by(depth.desc(), units.c.code))


_STEP_TIMES = {
    vocab.ACCEPTED: "reported_at", vocab.ASSIGNED: "assigned_at", vocab.HANDLING: "handled_at",
    vocab.RESPONDED: "responded_at", vocab.CLOSED: "closed_at",
}


def _status_events(frame: pd.DataFrame, *, now: datetime, actor: str, history: bool) -> pd.DataFrame:
    """``case_events`` rows for cases (with ``id``): the whole known history of new cases up to
    their status, or one event for the new status of changed ones."""
    out = []
    ranks = {}
    for i, s in enumerate(vocab.STATUSES):
        ranks.setdefault(s, i)
    status_rank = frame["status"].map(ranks)  # NaN for a status outside the vocabulary
    for step, column in _STEP_TIMES.items():
        if history:
            reached = status_rank >= ranks[step]
            current = frame["status"] == step
            at = frame[column] if column in frame else pd.Series(pd.NaT, index=frame.index)
            # The current step always gets its event; earlier ones where their time is known.
            at = at.where(at.notna() | ~current, frame.get("reported_at", now))
            mask = reached & (current | at.notna())
        else:
            mask = frame["status"] == step
            at = frame[column] if column in frame else pd.Series(pd.NaT, index=frame.index)
            at = at.where(at.notna(), now)
        if mask.any():
            out.append(pd.DataFrame({"case_id": frame.loc[mask, "id"].to_numpy(), "status": step,
                                     "at": pd.to_datetime(at[mask]).to_numpy(), "actor": actor}))
    if not out:
        return pd.DataFrame(columns=["case_id", "status", "at", "actor"])
    return pd.concat(out, ignore_index=True).sort_values(["case_id", "at"], kind="stable")


def _tuple_keys(frame: pd.DataFrame, keys: list[str]) -> list:
    """One hashable key per row from several columns (times as their ISO text)."""
    parts = []
    for k in keys:
        col = frame[k]
        if pd.api.types.is_datetime64_any_dtype(col) or k.startswith("period"):
            col = pd.to_datetime(col).dt.strftime("%Y-%m-%dT%H:%M:%S")
        parts.append(col.astype(str).tolist())
    return list(zip(*parts, strict=True))


def _multi(geom):
    return shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def _dialect_insert(conn):
    """The dialect's ``insert`` with ``on_conflict_*`` (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _parents_first(rows: list[dict]) -> list[list[dict]]:
    by_code = {r["code"]: r for r in rows}
    depth_of: dict[str, int] = {}

    def depth(code, trail=()):
        if code in depth_of:
            return depth_of[code]
        parent = by_code[code].get("parent_code")
        if parent in trail:
            raise ValueError(f"单元层级存在循环 cycle in the unit hierarchy at {code}")
        d = depth(parent, trail + (code,)) + 1 if parent in by_code else 0
        depth_of[code] = d
        return d

    batches: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        batches[depth(row["code"])].append(row)
    return [batches[d] for d in sorted(batches)]


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (None for missing) that every driver accepts."""
    out = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in out:
        for key, value in row.items():
            if value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
                row[key] = None  # pandas 3 string and nullable columns keep NaN/NA through where()
            elif isinstance(value, pd.Timestamp):
                row[key] = value.to_pydatetime()
            elif isinstance(value, np.generic):
                row[key] = value.item()
    return out

