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

# The case list and one case's timeline (/cases).
CASES_URL = "cases-url"
CASES_ERROR = "cases-error"
CASES_NAV = "cases-nav"
CASES_BREADCRUMB = "cases-breadcrumb"
CASES_PERIOD = "cases-period"
CASES_DATES = "cases-dates"
CASES_TOUR = "cases-tour"
CASES_MAP = "cases-map"  # the open case's place (a small map; its clicks drill nothing)
CASES_STATUS = "cases-status"
CASES_CATEGORY = "cases-category"
CASES_SOURCE = "cases-source"
CASES_OVERDUE = "cases-overdue"
CASES_SEARCH = "cases-search"
CASES_KPIS = "cases-kpis"
CASES_GRID = "cases-grid"
CASES_LIST_KEY = "cases-list-key"
CASES_LIST_KEY_SEEN = "cases-list-key-seen"
CASES_TIMELINE = "cases-timeline"
CASES_TIMELINE_TITLE = "cases-timeline-title"

CASES_VIEW = ViewIds(url=CASES_URL, period=CASES_PERIOD, dates=CASES_DATES, map=CASES_MAP, nav=CASES_NAV,
                     breadcrumb=CASES_BREADCRUMB, error=CASES_ERROR, tour=CASES_TOUR)

# Staff additions to the wall screen: the ranking's depth, the live feed (滚动播报).
RANK_LEVEL = "rank-level"
FEED = "live-feed"

# The closed loop (/loop): funnel, stage times against limits, where cases get stuck, by child.
LOOP_URL = "loop-url"
LOOP_ERROR = "loop-error"
LOOP_NAV = "loop-nav"
LOOP_BREADCRUMB = "loop-breadcrumb"
LOOP_PERIOD = "loop-period"
LOOP_DATES = "loop-dates"
LOOP_TOUR = "loop-tour"
LOOP_FUNNEL = "loop-funnel"  # the view's "map" for the shared wiring: its clicks drill nothing
LOOP_CATEGORY = "loop-category"
LOOP_SOURCE = "loop-source"
LOOP_KPIS = "loop-kpis"
LOOP_TIMES = "loop-times"
LOOP_LEVELS = "loop-levels"
LOOP_MEMBERS_TITLE = "loop-members-title"
LOOP_MEMBERS = "loop-members"

LOOP_VIEW = ViewIds(url=LOOP_URL, period=LOOP_PERIOD, dates=LOOP_DATES, map=LOOP_FUNNEL, nav=LOOP_NAV,
                    breadcrumb=LOOP_BREADCRUMB, error=LOOP_ERROR, tour=LOOP_TOUR)

# Two units side by side (/compare?a=&b=).
CMP_URL = "cmp-url"
CMP_ERROR = "cmp-error"
CMP_NAV = "cmp-nav"
CMP_BREADCRUMB = "cmp-breadcrumb"
CMP_PERIOD = "cmp-period"
CMP_DATES = "cmp-dates"
CMP_TOUR = "cmp-tour"
CMP_TREND = "cmp-trend"  # the view's "map" for the shared wiring: its clicks drill nothing
CMP_A = "cmp-a"
CMP_B = "cmp-b"
CMP_KPIS = "cmp-kpis"
CMP_TABLE = "cmp-table"
CMP_CATEGORIES = "cmp-categories"
CMP_LOOP = "cmp-loop"

CMP_VIEW = ViewIds(url=CMP_URL, period=CMP_PERIOD, dates=CMP_DATES, map=CMP_TREND, nav=CMP_NAV,
                   breadcrumb=CMP_BREADCRUMB, error=CMP_ERROR, tour=CMP_TOUR)
