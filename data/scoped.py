"""The service as one principal may see it: every screen, callback and API handler asks this.

``ScopedData(data, principal, audit)`` answers what ``CityData`` answers, after the one check
(``data.access.check``) on the unit each question is about:

- a unit outside the principal's scope (the scope's unit and its descendants) is refused with
  ``Denied`` (403), whatever the method; an unknown code is refused the same way, so a district
  user learns nothing about the rest of the city;
- the scope's unit is the root: ``roots()`` is just it, ``ancestors()`` starts at it, and
  ``unit()`` of it has no parent (breadcrumb, tour and ``/api/v1/units`` start there);
- case records (``CASE_METHODS``) reach a principal without the "cases" need (viewer, display)
  stripped to ``access.PUBLIC_CASE_FIELDS`` (no text, no address, no point: the map at a grid
  draws no dots); an analyst's or admin's case list is written to the audit trail.

One case (``case``) needs "cases". The case list (``case_page``) is a method here: a principal
without "cases" gets its rows stripped like any case records, and may neither search the case
text (``q``) nor order the list by a field it does not see.

Adding a method to ``CityData``: name it in ``UNIT_METHODS`` (its first argument is a unit code),
``CASE_METHODS`` (a unit code, and it returns case records), ``FREE`` (nothing about a unit) or
``WRITES`` (a write, never reached through this wrapper).
A method named nowhere is not reachable through the wrapper: it fails loudly, never open.
"""

from __future__ import annotations

from collections.abc import Callable

from data.access import PUBLIC_CASE_FIELDS, Denied, Principal, check, not_allowed, out_of_scope, public_case

# First argument is a unit code; the answer is aggregates (or geometry) of that unit.
UNIT_METHODS = frozenset({
    "kpis", "children_kpis", "trend", "trend_for", "categories", "children_geometry", "metric_epsg", "heat",
    "heat_cells", "coverage", "members", "dispute_counts", "children", "heat_size",
    "comparison", "profile", "surveys", "police_summary",
    "sensitive",  # household risk and special populations: counts per unit, never a household
    "loop", "ranking", "rises",
    "view",  # computes (caches) a unit's wall-screen answers
})
# First argument is a unit code; the answer is a list of case records.
CASE_METHODS = frozenset({"recent_cases", "alarms", "feed"})
# Nothing about a unit: passed through.
# ``cached_answer`` keeps bytes built by a closure over this wrapper (so checked as they are built);
# ``store_problem``/``check_store``: whether the embedded file was replaced while served.
# ``as_of``, ``data_since`` and ``outside_grid`` are moments and counts of the whole store.
FREE = frozenset({"version", "now", "as_of", "data_since", "outside_grid", "case_points",
                  "coverage_drawing", "timezone", "cache_seconds", "intervention_seconds",
                  "cached_answer", "store_problem", "check_store", "unavailable", "staff", "stage_limits",
                  "session"})  # session: one connection for a render, no unit in it
# Not for readers at all: only the ingest handler calls it, on the service itself, after
# ``@auth.needs("ingest")`` (callbacks/api.py). Through the wrapper it fails like an unnamed one.
# ``warm``: the service's own background warm-up of the whole city, never a reader's call.
WRITES = frozenset({"ingest_cases", "warm"})


class ScopedData:
    """``CityData`` behind the access check for ``principal``. ``audit(action, unit=, object=)``
    records case lists shown to those allowed to see them."""

    def __init__(self, data, principal: Principal | None,
                 audit: Callable[..., None] | None = None):
        check(principal)  # logged in, allowed to read
        self._data = data
        self.principal = principal
        self._audit = audit or (lambda *a, **k: None)

    # --- the check ---

    def chain(self, code: str) -> list[str]:
        return [u["code"] for u in self._data.ancestors(code)] if isinstance(code, str) else []

    def require(self, code: str, need: str = "read") -> None:
        """Refuse (``Denied``) unless the principal may ``need`` on unit ``code``."""
        check(self.principal, self.chain(code), need, city_wide=self.city_wide)

    @property
    def city_wide(self) -> bool:
        """Scoped to a root unit (the whole city)."""
        if "_city_wide" not in self.__dict__:
            root = self._data.unit(self.principal.unit) if self.principal.unit else None
            self.__dict__["_city_wide"] = bool(root) and root["parent_code"] is None
        return self.__dict__["_city_wide"]

    def in_scope(self, code: str) -> bool:
        try:
            self.require(code)
        except Denied:
            return False
        return True

    # --- the hierarchy, rooted at the scope ---

    def roots(self) -> list[dict]:
        root = self._data.unit(self.principal.unit)
        return [{**root, "parent_code": None}] if root else []

    def unit(self, code: str) -> dict | None:
        self.require(code)
        found = self._data.unit(code)
        return {**found, "parent_code": None} if found and code == self.principal.unit else found

    def ancestors(self, code: str) -> list[dict]:
        self.require(code)
        chain = self._data.ancestors(code)
        codes = [u["code"] for u in chain]
        return [{**u, "parent_code": None} if u["code"] == self.principal.unit else u
                for u in chain[codes.index(self.principal.unit):]]

    # --- case records ---

    def case_page(self, code: str, period, query) -> dict:
        """A page of the unit's case list; without "cases", the rows stripped to
        ``PUBLIC_CASE_FIELDS``, and a search in case text or an order by a hidden field refused."""
        self.require(code)
        if not self.principal.sees_cases and (query.text or query.sort not in PUBLIC_CASE_FIELDS):
            raise not_allowed("cases")
        page = self._data.case_page(code, period, query)
        return {**page, "cases": self._cases("case_page", code, page["cases"])}

    def case(self, external_id: str) -> dict | None:
        """One case with its history: "cases" on its grid. An unknown case is ``None``; a case
        outside the scope is refused like any unit outside it."""
        check(self.principal, None, "cases")
        found = self._data.case(external_id)
        if found is None:
            return None
        if found["grid_code"] is None:
            if not self.city_wide:
                raise out_of_scope(external_id)
        else:
            self.require(found["grid_code"], "cases")
        return found

    def cell_cases(self, ids, *, unit_code: str) -> list[dict]:
        """A heat cell's cases, only those inside ``unit_code`` (checked)."""
        self.require(unit_code)
        return self._cases("cell_cases", unit_code, self._data.cell_cases(ids, unit_code=unit_code))

    def _cases(self, name: str, code: str, rows: list[dict]) -> list[dict]:
        if not self.principal.sees_cases:
            return [public_case(r) for r in rows]
        if rows:
            self._audit("case_list", unit=code, object=f"{name}:{len(rows)}")
        return rows

    def __getattr__(self, name: str):
        target = getattr(self._data, name)
        if name in FREE:
            return target
        if name in UNIT_METHODS:
            def unit_method(code, *args, **kwargs):
                self.require(code)
                return target(code, *args, **kwargs)
            return unit_method
        if name in CASE_METHODS:
            def case_method(code, *args, **kwargs):
                self.require(code)
                return self._cases(name, code, target(code, *args, **kwargs))
            return case_method
        raise AttributeError(f"CityData.{name} is not reachable through ScopedData: name it in "
                             "UNIT_METHODS, CASE_METHODS or FREE (data/scoped.py)")


__all__ = ["ScopedData", "Denied", "out_of_scope"]
