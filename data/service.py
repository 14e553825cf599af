"""What screens and the API ask for, cached by (question, data version).

A hundred wall screens showing the same view cost one query per data change: every answer is
cached under a key that carries the data version, and the version itself is looked up at most
once every couple of seconds. Boundaries are cached per unit and units version, encoded once.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
import time
import weakref
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import numpy as np
import pandas as pd
import shapely
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dashboard import limits, vocab
from dashboard.domain import (
    DEFAULT_PERIOD,
    BadRequest,
    CaseQuery,
    Filters,
    HeatFilters,
    Period,
    local_now,
    stage_limits,
    trend_window,
)
from dashboard.indicators import INDICATORS, NO_VALUE, compute
from data import grid_coverage, loop, queries, rises, rollups
from data.coverage import coverage_summary
from data.ingest import importer as ingest
from data.stores.base import QueryTimeout, Store, StoreUnavailable, reading
from geo import cells as geo_cells
from geo import coverage as geo_cov
from geo.coverage import metric_epsg
from geo.geojson import DECIMALS, collection, dumps, feature_collection, geometries, points
from geo.simplify import label_points, simplify_children

# Callers catch the store's errors from here: QueryTimeout (a statement ran past the limit) is a
# StoreUnavailable (the database could not answer).
__all__ = ["CityData", "Geometry", "QueryTimeout", "StoreReplaced", "StoreUnavailable", "UNREACHABLE"]

# Driver errors that mean the database cannot be reached or is locked (not a bug in a query):
# wherever one escapes a handler (e.g. a token look-up before the service is asked), the app
# answers 503 with Retry-After, not 500 (``callbacks/api.py`` registers the handler).
UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)

_VERSION_TTL_SECONDS = 2.0
log = logging.getLogger(__name__)
AS_OF_KEY = "data_as_of"  # store_meta: the export time the last import recorded
COMPARISONS = {"yoy": "同比", "mom": "环比"}


def _meta_text(conn, key: str) -> str:
    """``queries.meta`` with "" for nothing recorded: an answer the cache keeps (None is a miss)."""
    return queries.meta(conn, key) or ""


class StoreReplaced(StoreUnavailable):
    """The embedded file was replaced or damaged while served: reads may be wrong and writes would
    be lost, so writes are refused until a restart (``/healthz`` says so, screens show it)."""


def _covers(since: datetime | None, period: Period) -> bool:
    """Whether data reaching back to ``since`` covers ``period``: it holds records on or before
    the period's first day."""
    return since is not None and since.date() <= period.first


def _year_on_year(count: int, before: int | None) -> dict:
    """A count with last year's and the change in per cent; None ("—") with nothing to compare."""
    change = None if not before else (count - before) / before * 100
    return {"count": count, "last_year": before, "yoy": change,
            "yoy_display": NO_VALUE if change is None else f"{change:+.2f}%"}


@dataclass(frozen=True)
class Geometry:
    """A unit's children as GeoJSON, ready to send, with the bounds that fit them."""

    collection: dict  # GeoJSON FeatureCollection; properties code, name, level
    body: bytes  # the same, compressed with gzip, for the browser
    etag: str
    bounds: tuple[float, float, float, float]
    labels: tuple = ()  # (code, name, lon, lat) per member: where the map writes its name


@dataclass(frozen=True)
class StaffSettings:
    """The settings of the staff views: stage limits, sudden-rise thresholds, alarm order,
    the ranking's minimum volume (see ``dashboard.settings``)."""

    stage_limit_hours: str = "指派=24,处置=72,反馈=48"
    rise_p: float = 1e-6
    rise_min_count: int = 8
    rise_weeks: int = 4
    overdue_order: str = "most_overdue"
    rank_min_cases: int = 10

    @classmethod
    def from_settings(cls, settings) -> StaffSettings:
        return cls(**{f: getattr(settings, f) for f in cls.__dataclass_fields__})


def _minute_loop(ref: weakref.ref) -> None:
    """20 s before each minute, the next minute's answers (``CityData._warm_minute``); ends with
    the service (a weak reference: a discarded app leaves no thread asking a closed store)."""
    while (data := ref()) is not None:
        wait = (40 - data.now().second) % 60 or 60
        del data
        time.sleep(wait)
        if (data := ref()) is None:
            return
        try:
            data._warm_minute()
        except Exception as exc:  # a warm-up never breaks anything: the screens ask again
            log.warning("warming the next minute failed: %s", exc)
        del data


class CityData:
    def __init__(self, store: Store, cache, *, intervention_minutes: int = 60,
                 timezone: str = "Asia/Shanghai", cache_seconds: int = 600, as_of: str = "auto",
                 incident_categories: tuple[str, ...] = queries.INCIDENT_CATEGORIES,
                 staff: StaffSettings | None = None, warm: bool = False, warm_minutes: bool = False):
        self.store = store
        self.staff = staff or StaffSettings()
        self.stage_limits = stage_limits(self.staff.stage_limit_hours, intervention_minutes)
        self.cache = cache
        self.intervention_seconds = intervention_minutes * 60
        self.timezone = timezone
        self.cache_seconds = cache_seconds
        self.as_of_setting = (as_of or "auto").strip()
        if self.as_of_setting not in ("auto", "now"):
            try:
                datetime.fromisoformat(self.as_of_setting)
            except ValueError:
                raise ValueError(f"CITYBRAIN_AS_OF={as_of!r}: auto, now or YYYY-MM-DDTHH:MM") from None
        self.incident_categories = tuple(incident_categories)
        self.warm_enabled = warm
        self.warm_minutes = warm_minutes  # ``_warm_minute`` before every minute, in a thread
        self._warming = threading.Lock()
        self._minute_warmer: threading.Thread | None = None
        self._local = threading.local()
        self.warmed: list[str] = []  # the versions this process warmed, newest last
        self._version: tuple[float, str] | None = None
        self._geometry: OrderedDict = OrderedDict()
        self._cameras: dict[int, grid_coverage.Cameras] = {}  # per metric CRS, at one inputs token
        self._grids: dict[int, grid_coverage.Grids] = {}  # per metric CRS, at one units/places token
        self._rolled_held: tuple[str, frozenset] | None = None
        self.store_problem: str | None = None  # set, for good, when the store's file was replaced

    def check_store(self) -> str | None:
        """The store's file still the one opened? The problem, sticky until restart, else None."""
        if self.store_problem is None:
            self.store_problem = self.store.identity_problem()
        return self.store_problem

    # --- version and caching --------------------------------------------------------------------

    def version(self, *, fresh: bool = False) -> str:
        """The data version, re-read from the store at most every two seconds."""
        now = time.monotonic()
        if fresh or self._version is None or now - self._version[0] > _VERSION_TTL_SECONDS:
            self.check_store()  # the version tick is when a replaced file is noticed
            before = self._version and self._version[1]
            self._version = (now, self._query(queries.data_version))
            if self.warm_enabled and self._version[1] != before:
                self._start_warming(self._version[1])
            if self.warm_minutes and self._minute_warmer is None:
                self._minute_warmer = threading.Thread(target=_minute_loop, args=(weakref.ref(self),),
                                                       name="citybrain-minute", daemon=True)
                self._minute_warmer.start()
        return self._version[1]

    # --- warming: what the screens ask next, computed before they ask ----------------------------

    def _start_warming(self, version: str) -> None:
        # One worker warms a version (the shared cache says who); one thread per process at a time.
        if not self.cache.add("cb:warming:" + version, 1, timeout=self.cache_seconds):
            return
        if not self._warming.acquire(blocking=False):
            return
        thread = threading.Thread(target=self._warm, args=(version,), name="citybrain-warm", daemon=True)
        thread.start()

    def _warm(self, version: str) -> None:
        try:
            self.warm()
            self.warmed.append(version)
        except Exception as exc:  # a warm-up never breaks anything: the screens ask again
            log.warning("warming the cache failed: %s", exc)
        finally:
            self._warming.release()

    def _warm_minute(self, moment: datetime | None = None) -> datetime:
        """What moves with the data's moment (``as_of``: overdue, alarms, sudden rises), computed
        for ``moment`` (default: the next minute when the moment follows the clock, else the
        moment itself) for the root and its children, so that no click pays for them when the
        minute turns. The same keys as the questions themselves; the moment warmed."""
        if moment is None:
            moment = self.as_of()
            if moment == self.now().replace(second=0, microsecond=0):
                moment += timedelta(minutes=1)
        claim = f"cb:minute:{self.version()}:{moment.isoformat()}"
        if not self.cache.add(claim, 1, timeout=self.cache_seconds):
            return moment  # another worker has it
        roots = self.roots()
        if roots:
            root = roots[0]["code"]
            with self.session():
                self.rises(root, now=moment)
                for code in [root] + [u["code"] for u in self.children(root)]:
                    self._overdue(code, Filters(), by_children=True, direct=False, own=True, now=moment)
                    self.alarms(code, now=moment)
        return moment

    def warm(self, period_key: str = DEFAULT_PERIOD) -> list[str]:
        """Compute the root's view and each of its children's (the tour's stops) for the default
        period, as the wall screen asks for them; the codes warmed."""
        roots = self.roots()
        if not roots:
            return []
        root = roots[0]["code"]
        period = Period.resolve(period_key, today=self.now().date())
        codes = [root] + [u["code"] for u in self.children(root)]
        for code in codes:
            self.view(code, period)
        self._refresh_coverage(self.metric_epsg(root))  # a camera change measured before anyone asks
        return codes

    def view(self, code: str, period: Period, filters: Filters = Filters()) -> None:
        """Ask for everything the wall screen shows for a unit (so it is cached)."""
        with self.session():
            self.kpis(code, period, filters)
            self.comparison(code, period, filters)
            if self.children_kpis(code, period, filters).empty:
                self.recent_cases(code, period, filters)
            self.alarms(code, filters)
            self.trend(code, period.last, filters)
            self.categories(code, period, filters)
            self.children_geometry(code)

    def now(self) -> datetime:
        return local_now(self.timezone)

    def as_of(self) -> datetime:
        """The data's own moment, which overdue is counted at (``CITYBRAIN_AS_OF``): a fixed time,
        ``now``, or ``auto``: the export time the last import recorded (until a live write
        clears it), else now. Whole minutes, so one answer serves every screen for a minute."""
        setting = self.as_of_setting
        moment = None
        if setting not in ("auto", "now"):
            moment = datetime.fromisoformat(setting)
        elif setting == "auto":
            recorded = self._cached("meta", _meta_text, key=AS_OF_KEY)
            moment = datetime.fromisoformat(recorded) if recorded else None
        return (moment or self.now()).replace(second=0, microsecond=0)

    def data_since(self) -> datetime | None:
        return self._cached("data_since", queries.data_since)
    def _query(self, fn, **kwargs):
        try:
            conn = self._session_connection()
            if conn is not None:
                return fn(conn, **kwargs)
            with reading(self.store.engine) as conn:
                return fn(conn, **kwargs)
        except SQLAlchemyError as exc:
            raise self.unavailable(exc) from exc

    def unavailable(self, exc: Exception) -> StoreUnavailable:
        """The exception to raise for a database error: a damaged file is noted as replaced."""
        problem = self.store.damage(exc)
        if problem and self.store_problem is None:
            self.store_problem = problem
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return StoreReplaced(self.store_problem) if self.store_problem else StoreUnavailable(message)

    @contextmanager
    def session(self):
        """Every query inside on one connection (one pool checkout, one ping), taken at the first
        query, none without one: a cold answer asks several small questions, and on a busy server
        each round trip counts. The app opens one per request (docs/ARCHITECTURE.md)."""
        if getattr(self._local, "session", False):
            yield
            return
        self._local.session = True
        try:
            yield
        finally:
            self._local.session = False
            conn, self._local.conn = getattr(self._local, "conn", None), None
            if conn is not None:
                conn.close()

    def _session_connection(self):
        """This thread's session connection (taken now if the session has none yet), else None."""
        conn = getattr(self._local, "conn", None)
        if conn is None and getattr(self._local, "session", False):
            conn = self._local.conn = reading(self.store.engine)
        return conn

    def _key(self, name: str, version: str, kwargs: dict) -> str:
        return "cb:" + hashlib.sha1(repr((name, version, sorted(kwargs.items()))).encode()).hexdigest()

    def _cached(self, name: str, fn, **kwargs):
        return self._cached_as(self.version(), name, fn, **kwargs)

    def _cached_units(self, name: str, fn, *, parts: tuple[str, ...] = ("units",), **kwargs):
        """Like ``_cached`` for what follows the hierarchy alone (units, ancestors, the rolled-up
        units): kept under the units part of the version (and the other ``parts`` of
        ``queries.VERSION_PARTS`` it reads), so a new case does not ask them again."""
        return self._cached_as(self._version_of(parts), name, fn, **kwargs)

    def _version_of(self, parts: tuple[str, ...]) -> str:
        """The named parts (``queries.VERSION_PARTS``) of the data version, as one key."""
        version = self.version().split("|")
        return "|".join(f"{p}={version[queries.VERSION_PARTS.index(p)]}" for p in parts)

    def _cached_as(self, version: str, name: str, fn, **kwargs):
        key = self._key(name, version, kwargs)
        value = self.cache.get(key)
        if value is None:
            value = self._query(fn, **kwargs)
            self.cache.set(key, value, timeout=self.cache_seconds)
        return value

    # --- the hierarchy --------------------------------------------------------------------------

    def unit(self, code: str) -> dict | None:
        """The unit (the last of its chain: the access check has asked for that already)."""
        chain = self.ancestors(code)
        return chain[-1] if chain else None

    def roots(self) -> list[dict]:
        return self._cached_units("roots", queries.roots)

    def ancestors(self, code: str) -> list[dict]:
        return self._cached_units("ancestors", queries.ancestors, code=code)

    def children(self, code: str) -> list[dict]:
        return self._cached_units("children", queries.children, code=code)

    # --- indicators -----------------------------------------------------------------------------

    def _counts(self, code: str, period: Period, filters: Filters, by_children: bool,
                direct: bool = False, own: bool = False) -> pd.DataFrame:
        # Two parts with their own keys: the period's counts live as long as the data version
        # (the rollups answer most of them), "overdue" moves with the data's moment (``as_of``).
        # ``own``: the unit's own rows as one more row, read in the children's statements.
        frame = self._cached(
            "counts", partial(queries.counts, rolled=self._rolled()), unit_code=code,
            start=period.start, end=period.end,
            now=None, filters=filters, intervention_seconds=self.intervention_seconds,
            by_children=by_children, incident_categories=self.incident_categories, direct=direct,
            own=own,
        )
        if frame.empty:
            return frame
        overdue = self._overdue(code, filters, by_children=by_children, direct=direct, own=own)
        return frame.assign(overdue=overdue.reindex(frame.index, fill_value=0.0))

    def _overdue(self, code: str, filters: Filters, *, by_children: bool, direct: bool, own: bool,
                 now: datetime | None = None) -> pd.DataFrame:
        return self._cached("overdue", queries.overdue_counts, unit_code=code, now=now or self.as_of(),
                            filters=filters, by_children=by_children, direct=direct, own=own)

    def _rolled(self) -> frozenset[str]:
        """The units the rollups answer for (none when built by another definition); kept in the
        process per units version (thousands of codes: unpickling them at every question cost
        more than the question; a new case does not change them)."""
        version = self._version_of(("units",))
        held = self._rolled_held
        if held is None or held[0] != version:
            held = self._rolled_held = (version, self._cached_units("rolled", rollups.rolled_codes))
        return held[1]

    def kpis(self, code: str, period: Period, filters: Filters = Filters()) -> dict:
        """``{"counts": {...}, "values": {indicator: value or None}}`` for one unit."""
        if self.children(code):
            # Children tile their parent in the hierarchy, so the parent's counts are their sums:
            # one query serves the ranking and the KPI cards.
            # Rows attached to the unit itself (outside every grid below it, or naming the unit)
            # are in no child: they are the frame's last row (``own``), added once.
            frame = self._counts(code, period, filters, by_children=True, own=True)
            names = [c for c in frame.columns if c != "population"]
            row = dict(zip(names, (float(v) for v in frame[names].to_numpy().sum(axis=0)), strict=True))
            row["population"] = (self.unit(code) or {}).get("population")
        else:
            counts = self._counts(code, period, filters, by_children=False)
            row = counts.iloc[0].to_dict() if len(counts) else {}
        return {"counts": row, "values": compute(row)}

    def children_kpis(self, code: str, period: Period, filters: Filters = Filters()) -> pd.DataFrame:
        """One row per child: code, name, level, every count and every indicator value."""
        children = self.children(code)
        counts = self._counts(code, period, filters, by_children=True, own=bool(children))
        counts = counts[counts.index != code]  # the unit's own row (``own``) is no child
        kids = pd.DataFrame(children, columns=["code", "name", "level"]).set_index("code")
        values = pd.DataFrame([compute(row) for row in counts.to_dict("records")], index=counts.index,
                              columns=list(INDICATORS))
        # A count that is also an indicator (受理, 超期) is one column, not two.
        values = values.drop(columns=[c for c in values.columns if c in counts.columns])
        return kids.join(counts).join(values).reset_index()

    def trend(self, code: str, last_day, filters: Filters = Filters(), days: int = 30) -> pd.Series:
        end = datetime.combine(last_day + timedelta(days=1), datetime.min.time())
        return self._cached("trend", partial(queries.daily_counts, rolled=self._rolled()), unit_code=code,
                            start=end - timedelta(days=days), end=end, filters=filters)

    def trend_for(self, code: str, period: Period, filters: Filters = Filters()) -> tuple[pd.Series, str]:
        """Cases per step over the period's trend window (``domain.trend_window``): the counts
        indexed by each step's first day, and the step (``"D"``, ``"W"`` or ``"M"``)."""
        first, last, step = trend_window(period)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time())
        daily = self._cached("trend", partial(queries.daily_counts, rolled=self._rolled()), unit_code=code,
                             start=datetime.combine(first, datetime.min.time()), end=end, filters=filters)
        if step == "D":
            return daily, step
        days = pd.Series(daily.to_numpy(), index=pd.to_datetime(daily.index))
        summed = days.groupby(days.index.to_period("W-SUN" if step == "W" else "M")).sum()
        index = summed.index.start_time.strftime("%Y-%m-%d")
        return pd.Series(summed.to_numpy(), index=index, name="cases"), step

    def categories(self, code: str, period: Period, filters: Filters = Filters()) -> pd.Series:
        return self._cached("categories", partial(queries.category_counts, rolled=self._rolled()),
                            unit_code=code,
                            start=period.start, end=period.end, filters=filters)

    def recent_cases(self, code: str, period: Period, filters: Filters = Filters(), limit: int = 50):
        return self._cached("recent", queries.recent_cases, unit_code=code, start=period.start,
                            end=period.end, filters=filters, limit=limit)

    @staticmethod
    def case_points(cases: list[dict]) -> list[dict]:
        """Map points of the cases that have a location (:meth:`recent_cases`): ``lon``, ``lat``,
        ``status``, ``category``, ``reported_at`` (``YYYY-MM-DD HH:MM``), ``external_id`` and
        ``grid_code`` (a click opens the case)."""
        located = [c for c in cases if c.get("geom")]
        lonlat = points(shapely.from_wkb([c["geom"] for c in located])) if located else []
        return [{"lon": float(x), "lat": float(y), "status": c["status"], "category": c["category"],
                 "reported_at": f"{c['reported_at']:%Y-%m-%d %H:%M}", "external_id": c.get("external_id"),
                 "grid_code": c.get("grid_code")}
                for (x, y), c in zip(lonlat, located, strict=True)]

    def alarms(self, code: str, filters: Filters = Filters(), *, now: datetime | None = None) -> list[dict]:
        """Overdue cases and open high-risk disputes in the unit, as of the data's moment."""
        return self._cached("alarms", queries.alarm_cases, unit_code=code, now=now or self.as_of(),
                            filters=filters, newest_first=self.staff.overdue_order == "newest")

    # --- comparisons (同比 / 环比) ---------------------------------------------------------------

    def comparison(self, code: str, period: Period, filters: Filters = Filters(),
                   kind: str | None = None) -> dict:
        """The unit's indicators in the compared period: ``yoy`` (同比: the same calendar dates a
        year earlier, for any period) or ``mom`` (环比: the days just before); default 同比 for a
        year to date, else 环比. When the store's data does not reach back to the start of the
        compared window, ``covered`` is False and every value and change is None ("—")."""
        kind = kind or ("yoy" if period.key == "year" else "mom")
        if kind not in COMPARISONS:
            raise ValueError(f"compare={kind!r}: one of {', '.join(COMPARISONS)}")
        other = period.year_before() if kind == "yoy" else period.previous()
        covered = _covers(self.data_since(), other)
        now = self.kpis(code, period, filters)
        before = self.kpis(code, other, filters) if covered else {"counts": {}, "values": {}}
        values = {k: (before["values"].get(k) if covered else None) for k in INDICATORS}
        changes = {k: ind.change(now["values"].get(k), values[k]) for k, ind in INDICATORS.items()}
        return {"kind": kind, "label": COMPARISONS[kind], "period": other, "covered": covered,
                "counts": before["counts"], "values": values, "changes": changes}

    # --- the unit's profile and the seeds' other data ------------------------------------------------

    def profile(self, code: str, period: Period) -> dict:
        """人房楼, units below by kind, grid workers by role and cases per grid worker."""
        found = self._cached_units("profile", queries.unit_profile, parts=("units", "grid_workers"),
                                   code=code)
        accepted = self.kpis(code, period)["counts"].get("accepted") or 0
        workers = found["grid_workers"]
        staff = sum(workers.get(r, 0) for r in (vocab.FULL_TIME, vocab.PART_TIME))
        return {**found, "grid_worker_total": sum(workers.values()),
                "cases_per_grid_worker": accepted / staff if staff else None}

    def sensitive(self, code: str) -> dict:
        """Counts per topic and group for the unit and each child; never a household."""
        members = [code] + [u["code"] for u in self.children(code)]
        return self._cached("sensitive", queries.sensitive_totals, codes=members)

    def surveys(self, code: str) -> dict:
        return self._cached("surveys", queries.survey_series, code=code)

    def police_summary(self, code: str, period: Period) -> dict:
        """Police cases per kind and 案由 with 同比: ``kinds`` (each ``kind``, ``count``,
        ``last_year``, ``yoy`` in per cent, ``yoy_display``, ``causes``). When last year's data does
        not cover the compared dates, ``last_year`` and ``yoy`` are None ("—")."""
        other = period.year_before()
        covered = _covers(self._cached("police_since", queries.police_since), other)
        now = self._cached("police", queries.police_counts, unit_code=code, start=period.start,
                           end=period.end)
        before = (self._cached("police", queries.police_counts, unit_code=code, start=other.start,
                               end=other.end) if covered else now.iloc[0:0])
        kinds = []
        for kind in dict.fromkeys([*now["kind"], *before["kind"]]):
            mine, old = now[now["kind"] == kind], before[before["kind"] == kind]
            causes = []
            for cause in dict.fromkeys([*mine["cause"], *old["cause"]]):
                n = int(mine.loc[mine["cause"] == cause, "n"].sum())
                was = int(old.loc[old["cause"] == cause, "n"].sum()) if covered else None
                causes.append({"cause": cause or None, **_year_on_year(n, was)})
            was = int(old["n"].sum()) if covered else None
            kinds.append({"kind": kind, **_year_on_year(int(mine["n"].sum()), was),
                          "causes": sorted(causes, key=lambda c: -c["count"])})
        return {"period": period, "compared": other, "covered": covered, "kinds": kinds}

    def outside_grid(self) -> dict:
        return self._cached("outside_grid", queries.outside_grid)

    # --- geometry -------------------------------------------------------------------------------

    def children_geometry(self, code: str) -> Geometry | None:
        """The unit's children, simplified together; a leaf unit gets its own shape instead."""
        key = (code, self.version().split("|")[2])  # the units part of the version
        if key in self._geometry:
            self._geometry.move_to_end(key)
            return self._geometry[key]
        unit = self.unit(code)
        if unit is None:
            return None
        kids = self.children(code)
        members = kids or [unit]
        # One read for the members and the unit itself (the unit is its own member at a grid).
        shapes = self.store.unit_shapes({code, *(m["code"] for m in members)}).set_index("code")
        parent = shapes.geometry[code]
        geoms = simplify_children(shapes.geometry.reindex([m["code"] for m in members]).to_numpy(),
                                  parent.bounds)
        collection = feature_collection(
            geoms, [{"code": m["code"], "name": m["name"], "level": m["level"]} for m in members]
        )
        body = gzip.compress(dumps(collection).encode(), compresslevel=6)
        points = label_points(geoms)
        labels = tuple((m["code"], m["name"], *xy) for m, xy in zip(members, points, strict=True))
        geometry = Geometry(collection, body, hashlib.sha1(body).hexdigest()[:16], tuple(parent.bounds),
                            labels)
        self._geometry[key] = geometry
        while len(self._geometry) > 256:
            self._geometry.popitem(last=False)
        return geometry

    # --- heatmap and coverage ---------------------------------------------------------------------

    def metric_epsg(self, code: str) -> int:
        """The metric CRS the unit's heat cells and coverage are measured in (its UTM zone)."""
        known = self.__dict__.setdefault("_epsg", {})
        if code not in known:
            c = self.store.unit_shapes([code]).geometry.iloc[0].centroid
            known[code] = metric_epsg(c.x, c.y)
        return known[code]

    def heat_size(self, code: str, cell: str, size) -> tuple[float, bool]:
        """The cell edge used for ``size`` metres over the unit: ``size`` itself, or raised to the
        smallest edge that keeps the unit within ``CITYBRAIN_MAX_HEAT_CELLS`` cells; and whether
        it was raised. A size that is not a number between the bounds is a ``BadRequest``."""
        bound = limits.current()
        if (isinstance(size, bool) or not isinstance(size, int | float) or size != size
                or not bound.min_cell_m <= size <= bound.max_cell_m):
            raise BadRequest(f"格边长 size={size!r} 应为 {bound.min_cell_m} 到 {bound.max_cell_m} 之间的米数")
        if cell not in geo_cells.CELL_KINDS:
            raise BadRequest(f"未知网格形状 cell={cell!r}，可选：{', '.join(geo_cells.CELL_KINDS)}")
        floor = geo_cells.min_size_for_bounds(self.children_geometry(code).bounds, cell,
                                              bound.max_heat_cells)
        size = int(size) if float(size).is_integer() else float(size)
        return (floor, True) if size < floor else (size, False)

    def heat(self, code: str, period: Period, heat: HeatFilters = HeatFilters(), *,
             cell: str = "hex", size: float = 500, cache: bool = True) -> pd.DataFrame:
        """Disputes per cell: ``i``, ``j``, ``count``, ``ids`` (newest first), ``lon``/``lat`` of the
        centre and ``geometry`` (the cell's polygon as a GeoJSON dict). ``size`` is clamped by
        :meth:`heat_size`.
        ``cache=False`` builds it without keeping it (the API keeps only its finished answer)."""
        size, _ = self.heat_size(code, cell, size)
        key = dict(code=code, start=period.start, end=period.end, heat=heat, cell=cell,
                   size=float(size), epsg=self.metric_epsg(code))
        if not cache:
            try:
                return self._heat(**key)
            except SQLAlchemyError as exc:
                raise self.unavailable(exc) from exc
        return self._cached_call("heat", self._heat, **key)

    def _heat(self, *, code, cell, size, epsg, **kwargs) -> pd.DataFrame:
        frame = self.store.heat_cells(unit_code=code, cell=cell, size=size, epsg=epsg, **kwargs)
        polygons = geo_cells.cell_polygons(frame["i"].to_numpy(), frame["j"].to_numpy(), cell, size)
        lonlat = geo_cov.to_lonlat(polygons, epsg) if len(frame) else polygons
        centres = points(shapely.centroid(lonlat)) if len(frame) else np.empty((0, 2))
        return frame.assign(lon=centres[:, 0], lat=centres[:, 1],
                            geometry=geometries(lonlat, snap=False) if len(frame) else [])

    def heat_cells(self, code: str, period: Period, heat: HeatFilters = HeatFilters(), *,
                   cell: str = "hex", size: float = 500, cache: bool = True) -> dict:
        """The heat cells ready for a map or an answer: ``records`` (``id`` "i_j", ``i``, ``j``,
        ``count``, ``lon``/``lat`` of the centre) and ``geojson`` (their polygons, by ``id``);
        built once per question and data version (``cache=False``: built, not kept)."""
        size, _ = self.heat_size(code, cell, size)
        key = dict(code=code, period=period, heat=heat, cell=cell, size=float(size))
        if not cache:
            return self._heat_cells(**key, cache=False)
        return self._cached_call("heat_cells", self._heat_cells, **key)

    def _heat_cells(self, *, code, period, heat, cell, size, cache: bool = True) -> dict:
        frame = self.heat(code, period, heat, cell=cell, size=size, cache=cache)
        records = [{"id": f"{r.i}_{r.j}", "i": int(r.i), "j": int(r.j), "count": int(r.count),
                    "lon": float(r.lon), "lat": float(r.lat)} for r in frame.itertuples()]
        return {"records": records,
                "geojson": collection(list(frame["geometry"]), [{"id": r["id"]} for r in records])}

    def cell_cases(self, ids, *, unit_code: str | None = None) -> list[dict]:
        """The given cases (a heat cell's), only those inside ``unit_code`` when it is given."""
        return self._cached("cell_cases", queries.cases_by_id, ids=tuple(ids), unit_code=unit_code)

    def coverage(self, code: str, period: Period) -> dict:
        """Coverage of the unit's children (or of a grid itself): see ``data.coverage``.

        ``{"members", "total", "suggestions", "epsg", "views", "views_geojson", "blind_geojson",
        "camera_points"}``: ``views`` has each camera's ``id``, ``kind``, ``status``;
        ``views_geojson`` their view sectors (``properties.id``), ``blind_geojson`` the blind spots
        (one feature, id ``"blind"``), both None above ``grid_coverage.DRAW_LIMIT`` cameras;
        ``camera_points`` the centre of each view with its status.
        """
        return self._cached_call("coverage", self._coverage, code=code, start=period.start,
                                 end=period.end)

    def _coverage_facts(self, code: str, members: list[str], start, end, epsg: int):
        """The stored per-grid coverage (``data.grid_coverage``), brought up to date first: only
        grids whose cameras, shape or key places changed are measured again."""
        cams = self._refresh_coverage(epsg)
        with self.store.engine.connect() as conn:
            return grid_coverage.stored_facts(conn, unit_code=code, members=members, start=start,
                                              end=end, epsg=epsg, cams=cams)

    def _refresh_coverage(self, epsg: int) -> grid_coverage.Cameras:
        """Bring the stored per-grid coverage up to date (nothing to do unless cameras, units or
        key places changed); the cameras and their views, kept while they stay the same."""
        with self.store.engine.begin() as conn:
            self.store.lock_coverage(conn)
            token = grid_coverage.inputs_token(conn)
            cams = self._cameras.get(epsg)
            if cams is None or cams.token != token:
                cams = grid_coverage.Cameras.load(conn, epsg, token)
                self._cameras[epsg] = cams
            if grid_coverage.stale(conn, epsg, token):
                grids = self._grids.get(epsg)
                if grids is None or grids.token != grid_coverage.static_part(token):
                    grids = grid_coverage.Grids(conn, epsg, grid_coverage.static_part(token))
                    self._grids[epsg] = grids
                grid_coverage.refresh(conn, epsg, cams=cams, grids=grids, token=token, force=True)
        return cams

    def _coverage(self, *, code, start, end) -> dict:
        epsg = self.metric_epsg(code)
        members = self._query(queries.member_codes, code=code)
        try:
            facts = self._coverage_facts(code, members, start, end, epsg)
        except SQLAlchemyError as exc:
            raise self.unavailable(exc) from exc
        cams = self._query(queries.counts, unit_code=code, start=start, end=end, now=start,
                           by_children=members != [code])
        summary = coverage_summary(facts, cams[["cameras", "cameras_online"]], epsg)
        summary["total"]["people_share"] = (facts.people_covered_m2 / facts.people_m2
                                            if facts.people_m2 else None)
        views = facts.views
        drawn = "wkb" in views
        shapes = shapely.from_wkb(list(views["wkb"])) if drawn and len(views) else []
        return {
            **summary, "epsg": epsg, "views": views[["id", "kind", "status"]],
            "views_geojson": feature_collection(shapes, [{"id": i} for i in views["id"]]) if drawn else None,
            "blind_geojson": (feature_collection([shapely.from_wkb(facts.blind_wkb)], [{"id": "blind"}])
                              if facts.blind_wkb is not None else None),
            "camera_points": [{"lon": float(x), "lat": float(y), "status": status} for x, y, status
                              in zip(views["lon"].round(DECIMALS), views["lat"].round(DECIMALS),
                                     views["status"], strict=True)],
        }

    @staticmethod
    def coverage_drawing(answer: dict, view_limit: int) -> dict:
        """What the coverage map draws: every view sector and the blind spots when there are at
        most ``view_limit`` cameras (and the answer has their shapes); else only the cameras as
        points."""
        status = list(answer["views"]["status"])
        if len(status) <= view_limit and answer["views_geojson"] is not None:
            return {"drawn": True, "status": status, "cameras": [], "views": answer["views_geojson"],
                    "blind": answer["blind_geojson"]}
        return {"drawn": False, "status": status, "cameras": answer["camera_points"], "views": None,
                "blind": None}

    def _cached_call(self, name: str, fn, **kwargs):
        """Like ``_cached`` for a function that opens its own connections."""
        key = self._key(name, self.version(), kwargs)
        value = self.cache.get(key)
        if value is None:
            try:
                value = fn(**kwargs)
            except SQLAlchemyError as exc:
                raise self.unavailable(exc) from exc
            self.cache.set(key, value, timeout=self.cache_seconds)
        return value

    def ingest_cases(self, records: list, *, partial: bool = False, crs=None, actor: str = "api"):
        """Live ingest (``data.ingest.importer.ingest_cases``) through the service: refused while
        the store's file is replaced (:class:`StoreReplaced`), a database error is
        :class:`StoreUnavailable` (a 503, not a 500), and the next version check sees the change."""
        if self.check_store():
            raise StoreReplaced(self.store_problem)
        try:
            report = ingest.ingest_cases(self.store, records, partial=partial, crs=crs,
                                         timezone=self.timezone, actor=actor)
        except SQLAlchemyError as exc:
            raise self.unavailable(exc) from exc
        self.version(fresh=True)
        return report

    def cached_answer(self, name: str, build, **key) -> bytes:
        """An answer's bytes, built once per ``key`` and data version and kept gzipped (a cached
        repeat costs a cache read, never a rebuild)."""
        digest = hashlib.sha1(repr((name, self.version(), sorted(key.items()))).encode()).hexdigest()
        cache_key = "cb:answer:" + digest
        body = self.cache.get(cache_key)
        if body is None:
            try:
                body = gzip.compress(build(), compresslevel=5)
            except SQLAlchemyError as exc:
                raise self.unavailable(exc) from exc
            self.cache.set(cache_key, body, timeout=self.cache_seconds)
        return body

    def members(self, code: str) -> list[str]:
        """The units a view of ``code`` is split into: its children, or itself at a grid."""
        return [u["code"] for u in self.children(code)] or [code]

    def dispute_counts(self, code: str, period: Period, heat: HeatFilters = HeatFilters()) -> dict:
        return self._cached("dispute_counts", queries.dispute_member_counts, members=self.members(code),
                            unit_code=code, start=period.start, end=period.end, heat=heat)

    # --- staff work: cases, the closed loop, rankings at any depth, rises, the feed ---------------

    def case_page(self, code: str, period: Period, query: CaseQuery) -> dict:
        """One page of the unit's cases for the period: ``{"total", "cases"}`` (sorted and paged by
        the database). ``total`` without status/overdue/q filters is the unit's 受理 (from the
        rollups when they hold it). Overdue is counted at the data's moment (:meth:`as_of`), as
        everywhere."""
        now = self.as_of()
        return self._cached("case_page", partial(queries.case_page, rolled=self._rolled()), unit_code=code,
                            start=period.start, end=period.end, query=query, now=now)

    def case(self, external_id: str) -> dict | None:
        """One case with its timeline (``stages``: each event with its round, duration, limit) and
        its point as ``lon``/``lat`` (``None`` without one)."""
        found = self._cached("case", queries.case_detail, external_id=external_id)
        if found is None:
            return None
        stages = loop.timeline(found["events"], limits_hours=self.stage_limits, deadline=found["deadline"],
                               closed_at=found["closed_at"], now=self.as_of())
        lon = lat = None
        if found["geom"] is not None:
            (lon, lat), = points([shapely.from_wkb(found["geom"])])
        return {**{k: v for k, v in found.items() if k != "geom"}, "lon": None if lon is None else float(lon),
                "lat": None if lat is None else float(lat), "stages": stages}

    def feed(self, code: str, limit: int = 20, days: int = 7) -> list[dict]:
        """The newest cases in the unit (the wall screen's 滚动播报), from the last ``days`` days
        before the data's moment (:meth:`as_of`)."""
        since = datetime.combine(self.as_of().date() - timedelta(days=days), datetime.min.time())
        return self._cached("feed", queries.feed_cases, unit_code=code, since=since, limit=limit)

    def loop(self, code: str, period: Period, filters: Filters = Filters()) -> dict:
        """The closed loop of the unit's cases of the period: funnel, stage times against limits,
        returns, overdue by stage, resolved-at levels, and the same by member unit."""
        return self._cached_call("loop", self._loop, code=code, start=period.start, end=period.end,
                                 filters=filters, now=self.as_of())

    def _loop(self, *, code, start, end, filters, now) -> dict:
        members = self.children(code) or [self.unit(code)]
        names = {m["code"]: m["name"] for m in members}
        rows = self._query(queries.loop_members, members=list(names), start=start, end=end, now=now,
                           filters=filters)
        period = {"unit_code": code, "start": start, "end": end, "filters": filters}
        seconds = self._query(queries.loop_stage_seconds, **period)
        levels = self._query(queries.resolved_levels, **period)
        resolved = sum(levels.values())
        local = sum(levels[lv] for lv in vocab.LOCAL_RESOLVED_LEVELS)
        return {**loop.funnel(rows), "stage_times": loop.stage_times(seconds, self.stage_limits),
                "resolved_levels": levels, "kept_local_rate": local / resolved if resolved else None,
                "members": loop.by_member(rows, names)}

    def ranking(self, code: str, period: Period, filters: Filters = Filters(), *, level: str,
                metric: str, worst_first: bool = True, min_cases: int | None = None,
                limit: int = 20) -> dict:
        """Units of ``level`` anywhere below ``code`` ranked by ``metric`` in its own direction
        (worst first: lowest 办结率, most 超期), those with fewer than ``min_cases`` cases left out.
        ``{"rows": [...], "considered": N, "eligible": M}``."""
        min_cases = self.staff.rank_min_cases if min_cases is None else min_cases
        now = self.as_of()
        ind = INDICATORS[metric]
        # Only the queries the metric needs (and the period's cases, for the minimum volume).
        needed = {ind.numerator, ind.denominator}
        parts = ("cases", *(["overdue"] if "overdue" in needed else []),
                 *(["cameras"] if needed & {"cameras", "cameras_online"} else []))
        names = tuple(n for n in queries.CASE_COUNTS if n in needed | {"accepted"})
        # Ranked in the database (a city has tens of thousands of grids; ``limit`` rows leave it).
        # Worst first is ascending for a higher-is-better metric; ties by volume, then code.
        ranked = partial(queries.level_ranking, rolled=self._rolled(),
                         root=[r["code"] for r in self.roots()] == [code])
        answer = self._cached("level_ranking", ranked,
                              unit_code=code, level=level, start=period.start, end=period.end, now=now,
                              filters=filters, intervention_seconds=self.intervention_seconds,
                              parts=parts, names=names, numerator=ind.numerator,
                              denominator=ind.denominator, scale=float(ind.scale),
                              ascending=ind.higher_is_better == worst_first, min_cases=min_cases,
                              limit=limit)
        rows = [{**r, "level": level} for r in answer["rows"]]
        return {"rows": rows, "considered": answer["considered"], "eligible": answer["eligible"],
                "min_cases": min_cases}

    def rises(self, code: str, filters: Filters = Filters(), *, now: datetime | None = None) -> list[dict]:
        """Sudden rises in the unit and below, in plain words (see ``data.rises``): the 24 hours
        before ``now``, by default the data's moment (:meth:`as_of`)."""
        now = (now or self.as_of()).replace(second=0, microsecond=0)
        chain = self.ancestors(code)
        top = chain[0]["code"] if chain else code
        # Asked once for the top of the hierarchy and kept per minute: a unit's rises are the top's
        # that lie in the unit (each unit's test and what explains it depend on its own subtree
        # only), so every unit shares the one window count instead of paying its own each minute.
        found = self._cached_call("rises", self._rises, code=top, now=now, categories=filters.categories)
        return [{k: v for k, v in r.items() if k != "within"} for r in found
                if code == top or code in r["within"]]

    def _rises(self, *, code, now, categories) -> list[dict]:
        st = self.staff
        counts = self._query(queries.window_counts, unit_code=code, now=now, weeks=st.rise_weeks)
        found = rises.find(counts, weeks=st.rise_weeks, p=st.rise_p, min_count=st.rise_min_count,
                           categories=categories)
        if found.empty:
            return []
        links = self._query(queries.ancestor_links, codes=sorted(set(found["code"])))
        kept = rises.explained(found, links)
        named = self._query(queries.units_by_code, codes=sorted(set(kept["code"])))
        within = links.groupby("descendant_code")["ancestor_code"].agg(frozenset)  # itself and above
        return [{"kind": "sudden_rise", "unit": named[r.code], "category": r.category or None,
                 "within": within[r.code],
                 "count": int(r.count), "baseline": round(float(r.baseline), 2), "p": float(r.p),
                 "reason": rises.reason(named[r.code]["name"], r.category, int(r.count), r.baseline,
                                        st.rise_weeks)}
                for r in kept.itertuples()]
