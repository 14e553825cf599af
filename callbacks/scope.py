"""The two places where access control plugs into the staff views and endpoints.

Every case-list, case, loop, ranking, alarm and feed answer asks ``scoped_unit`` for the unit it
may show and passes each case through ``case_fields`` before it leaves the server. Today they let
everything through; the login/jurisdiction work (issue 9) checks the caller's unit scope and role
here, once, for the API and the screens alike.
"""

from __future__ import annotations

from data.service import CityData

# What a role that may not read case text still receives of a case.
AGGREGATE_FIELDS = ("external_id", "category", "subcategory", "source", "status", "reported_at",
                    "deadline", "grid_code", "grid_name")  # no text, no department, no point (lon/lat)


def scoped_unit(data: CityData, code: str | None) -> dict | None:
    """The unit ``code`` if the caller may see it, else ``None`` (an unknown code is ``None`` too)."""
    if not code:
        return None
    return data.unit(code)


def may_read_cases() -> bool:
    """Whether the caller may see case text, addresses and individual points."""
    return True


def case_fields(case: dict) -> dict:
    """The fields of one case the caller may receive."""
    if may_read_cases():
        return case
    return {k: v for k, v in case.items() if k in AGGREGATE_FIELDS}
