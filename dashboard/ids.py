"""Component ids, one place: layouts and callbacks both import these, so they cannot drift."""

from dataclasses import dataclass

URL = "url"
REFRESH = "refresh-interval"
TOUR = "tour-interval"
DATA_VERSION = "data-version"
CLOCK = "clock"
TIMEZONE = "timezone"
UPDATED = "updated-at"
STALE = "stale-notice"
ERROR = "view-error"
LAST_GOOD = "last-good-data"

BREADCRUMB = "breadcrumb"
PERIOD = "period-select"
DATE_RANGE = "date-range"
METRIC = "metric-select"
CATEGORY = "category-filter"
SOURCE = "source-filter"

KPI_ROW = "kpi-row"
MAP = "unit-map"
MAP_UNIT = "map-drawn-unit"
TREND = "trend-chart"
TREND_TITLE = "trend-title"
CATEGORIES = "category-chart"
RANKING = "ranking"
RANKING_TITLE = "ranking-title"
ALARMS = "alarm-list"
ALARMS_TITLE = "alarm-title"
FACTS = "facts-panel"

# The page router (app shell) and the navigation between views.
PAGE = "page-url"
PAGE_BODY = "page-body"
NAV = "view-nav"
# The screen's size (set in the browser on load and on resize), which figures are scaled to.
SCREEN = "screen-size"

# The dispute heatmap view (/heat).
HEAT_URL = "heat-url"
HEAT_ERROR = "heat-error"
HEAT_NAV = "heat-nav"
HEAT_BREADCRUMB = "heat-breadcrumb"
HEAT_PERIOD = "heat-period"
HEAT_DATES = "heat-dates"
HEAT_STYLE = "heat-style"
HEAT_CELL = "heat-cell"
HEAT_SUBCATEGORY = "heat-subcategory"
HEAT_SOURCE = "heat-source"
HEAT_STATUS = "heat-status"
HEAT_HOURS = "heat-hours"
HEAT_KPIS = "heat-kpis"
HEAT_MAP = "heat-map"
HEAT_ZOOM = "heat-zoom"
HEAT_RANKING_TITLE = "heat-ranking-title"
HEAT_RANKING = "heat-ranking"
HEAT_CELL_TITLE = "heat-cell-title"
HEAT_CELL_LIST = "heat-cell-list"

# The camera coverage view (/coverage).
COV_URL = "cov-url"
COV_ERROR = "cov-error"
COV_NAV = "cov-nav"
COV_BREADCRUMB = "cov-breadcrumb"
COV_PERIOD = "cov-period"
COV_DATES = "cov-dates"
COV_KPIS = "cov-kpis"
COV_MAP = "cov-map"
COV_NOTE = "cov-note"
COV_RANKING_TITLE = "cov-ranking-title"
COV_RANKING = "cov-ranking"
COV_SUGGESTIONS = "cov-suggestions"
COV_PLACES = "cov-places"
HEAT_TOUR = "heat-tour"
COV_TOUR = "cov-tour"


@dataclass(frozen=True)
class ViewIds:
    """The ids every view has: the shared wiring (``callbacks/wiring.py``) serves any view from
    these, so a new view names its own and gets URL, period picker, drill, tour and errors."""

    url: str
    period: str
    dates: str
    map: str
    nav: str
    breadcrumb: str
    error: str
    tour: str


WALL_VIEW = ViewIds(url=URL, period=PERIOD, dates=DATE_RANGE, map=MAP, nav=NAV, breadcrumb=BREADCRUMB,
                    error=ERROR, tour=TOUR)
HEAT_VIEW = ViewIds(url=HEAT_URL, period=HEAT_PERIOD, dates=HEAT_DATES, map=HEAT_MAP, nav=HEAT_NAV,
                    breadcrumb=HEAT_BREADCRUMB, error=HEAT_ERROR, tour=HEAT_TOUR)
COV_VIEW = ViewIds(url=COV_URL, period=COV_PERIOD, dates=COV_DATES, map=COV_MAP, nav=COV_NAV,
                   breadcrumb=COV_BREADCRUMB, error=COV_ERROR, tour=COV_TOUR)
