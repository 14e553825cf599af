"""Every piece of UI text, in Simplified Chinese: the one place to reword or translate."""

from dashboard.vocab import LEVEL_NAMES

APP_TITLE = "城市大脑 · 一屏观全城"
PERIODS = {"today": "今日", "7d": "近7天", "30d": "近30天", "year": "本年", "custom": "自定义"}
METRIC_LABEL = "地图指标"
CATEGORY_PLACEHOLDER = "全部类别"
SOURCE_PLACEHOLDER = "全部来源"
DATE_START = "开始日期"
DATE_END = "结束日期"

TREND_TITLE = "受理趋势"
TREND_TITLES = {"D": "受理趋势 · 按日", "W": "受理趋势 · 按周", "M": "受理趋势 · 按月"}
FACTS_TITLE = "基础数据"
FACT_LABELS = {"population": "人口", "households": "户数", "houses": "房屋", "buildings": "楼栋"}
FACT_HELP = {
    "population": "常住人口（本级未填报时为下级之和）",
    "households": "实有户数（本级未填报时为下级之和）",
    "houses": "实有房屋数（本级未填报时为下级之和）",
    "buildings": "楼栋数（本级未填报时为下级之和）",
}
VILLAGES = "行政村 / 社区"
VILLAGES_HELP = "本级以下的行政村数与社区数"
GRID_WORKERS = "专职 / 兼职网格员"
GRID_WORKERS_HELP = "本级以下在册的专职与兼职网格员人数"
CASES_PER_WORKER = "人均事件"
CASES_PER_WORKER_HELP = "时段内受理事件数 ÷ 专职与兼职网格员人数"
POLICE_LABEL = "{kind}案件"
YOY = "同比"
HIGH_RISK_HOUSEHOLDS = "高风险户"
SPECIAL_POPULATIONS = "特殊人群"
CATEGORY_TITLE = "事件类别构成"
RANKING_TITLE = "{level}排名 · {metric}"
RECENT_TITLE = "最新事件"
ALARMS_TITLE = "告警 · 突增、超期与高风险纠纷"
NO_ALARMS = "当前无超期事件和高风险纠纷"
OVERDUE_BY = "超期{days}天"
OVERDUE_HOURS = "超期{hours}小时"
AS_OF = "数据时点 {time}"
HIGH_RISK = "高风险"
NO_CHILDREN = "本级为最小网格，下方为最新事件"
NO_CASES = "本时段暂无事件"
CASES_AXIS = "件"

UPDATED_AT = "数据更新于 {time}"
STALE = "数据连接中断，当前显示 {time} 的数据，正在重试…"
PREVIOUS_DELTA = "{label} {arrow}{value}"
PREVIOUS_DELTA_POINTS = "{label} {arrow}{value}个百分点"
UNCHANGED = "{label}持平"
REALTIME = "实时"
NO_PREVIOUS = "{label} —"  # the compared period is not covered by the data, or had nothing
# 今日: a rate over cases still open says nothing yet; the card shows the day's count instead.
TODAY_COUNTS = {
    "closure_rate": ("closed", "今日已办结",
                     "今日受理的事件中已核查办结的件数（当日办结率不具可比性，不显示）"),
    "resolution_rate": ("disputes_resolved", "今日已化解",
                        "今日排查发现的矛盾纠纷中已化解的件数（当日化解率不具可比性，不显示）"),
}
TODAY_COUNT_NOTE = "件 · 今日受理"
UP, DOWN = "▲", "▼"

UNKNOWN_UNIT = "未找到单元 {code}"
BAD_VIEW = "链接参数有误：{message}"
NO_DATA = "数据库中还没有行政区划数据。请先运行 citybrain demo 生成演示城市，或导入本地数据。"
SERVER_ERROR = "服务暂时不可用，请稍后重试"
QUERY_TIMEOUT = "查询超时：数据量过大或数据库繁忙，请缩小时段或范围后重试"
STORE_REPLACED = "数据文件在运行中被替换或损坏：已停止接收写入，请重启服务。"

MAP_HOVER_VALUE = "{label}：{value}"
UNITS = {"count": "件", "rate": "%", "per10k": "件/万人"}
LEGEND_TITLE = "{label}（{unit}）"
TARGET_TICK = "目标{value}"
FULLSCREEN = "全屏"
LOADING = "加载中…"
CLICK_TO_DRILL = "点击下钻"
CASE_STATUS_COLORS_TITLE = "事件状态"


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)


# --- navigation between the views ---------------------------------------------------------------
NAV = {"/": "一屏观全城", "/heat": "矛盾纠纷热力", "/coverage": "雪亮覆盖", "/cases": "事件办理",
       "/loop": "办理闭环", "/compare": "单元对比"}
HEAT_TITLE = "矛盾纠纷热力图"
COVERAGE_TITLE = "雪亮工程覆盖"

# --- dispute heatmap -------------------------------------------------------------------------------
HEAT_STYLES = {"cells": "蜂窝格", "density": "热力"}
CELL_KINDS = {"hex": "六边形", "square": "方格"}
SUBCATEGORY_PLACEHOLDER = "全部纠纷类型"
STATUS_PLACEHOLDER = "全部状态"
HOURS_LABEL = "发生时段"
HEAT_TOTAL = "矛盾纠纷"
HEAT_CELLS = "有纠纷的格"
HEAT_PEAK = "最密格"
HEAT_CELL_SIZE = "格边长"
HEAT_HOVER = "{count} 起矛盾纠纷"
HEAT_SIDE_TITLE = "{level}纠纷数排名"
CELL_LIST_TITLE = "所选格内纠纷 · {count} 起"
CELL_LIST_HINT = "点击地图上的格子，查看其中的纠纷"
HEAT_HOURS_TITLE = "按小时分布"
METRES = "{size:,} 米"

# --- camera coverage --------------------------------------------------------------------------------
# The headline in the order a leader reads it: what matters is in view (key places, the period's
# cases), then the area where people are; never the share of all land (mountains, water, fields).
COVERAGE_KPIS = {
    "places_in_view": ("重点部位可视率", "在线摄像机视场内的重点部位数 ÷ 重点部位总数"),
    "cases_in_view": ("事件可视率", "时段内发生在在线摄像机视场内的事件数 ÷ 时段内有位置的事件数"),
    "people_share": ("人员活动区覆盖率",
                     "重点部位周边200米内（人员活动区）被在线摄像机视场覆盖的面积占比，不计山林、水面、农田"),
    "online_rate": ("视频在线率", "在线摄像机数 ÷ 摄像机总数（实时）"),
    "uncovered_places": ("未覆盖重点部位", "不在任何在线摄像机视场内的重点部位数"),
    "blind_cases": ("盲区事件", "时段内发生在盲区（无在线摄像机视场）内的事件数"),
}
# The ranking and the map's colours: area share of each member (all land).
COVERED_SHARE = ("面积覆盖率", "在线摄像机视场覆盖的面积 ÷ 区域面积（米制投影下计算，含山林水面）")
COVERAGE_RANK_TITLE = "{level}面积覆盖率排名（低者在前）"
CAMERAS_AGGREGATED = "市、区级按区域汇总显示覆盖率，下钻到街道后显示视场扇区与盲区"
SUGGEST_TITLE = "建议新增点位（按效益排序）"
SUGGEST_NONE = "本区域盲区内没有事件或未覆盖的重点部位，暂无建议"
PLACES_ALL_COVERED = "本区域的重点部位都在在线摄像机视场内"
SUGGESTION = "在{unit}新增一路球机（覆盖半径{radius}米），可看到{what}"
SUGGESTION_CASES = "时段内{cases}起发生在盲区的事件"
SUGGESTION_PLACES = "{count}处未覆盖的重点部位（{names}）"
SUGGESTION_AND = "，以及"
LEGEND_ONLINE = "在线视场"
LEGEND_OFFLINE = "离线视场"
LEGEND_BLIND = "盲区"
LEGEND_PLACE = "未覆盖重点部位"
LEGEND_SITE = "建议点位"
KM2 = "{value} km²"
CAMERAS_POINTS_ONLY = "摄像机较多，下钻后显示视场扇区与盲区"


def suggestion_text(s: dict, unit_name: str) -> str:
    """One suggested camera site in plain words."""
    parts = []
    if s["cases"]:
        parts.append(SUGGESTION_CASES.format(cases=s["cases"]))
    if s["key_places"]:
        names = "、".join(s["key_places"][:3]) + ("等" if len(s["key_places"]) > 3 else "")
        parts.append(SUGGESTION_PLACES.format(count=len(s["key_places"]), names=names))
    return SUGGESTION.format(unit=unit_name, radius=int(s["radius_m"]), what=SUGGESTION_AND.join(parts))

# --- login (server-rendered pages, callbacks/auth.py) ---
LOGIN_TITLE = "登录"
LOGIN_USER = "用户名"
LOGIN_PASSWORD = "密码"
LOGIN_SUBMIT = "登录"
LOGIN_FAILED = "用户名或密码错误"
LOGIN_THROTTLED = "登录失败次数过多，请15分钟后再试"
LOGIN_CSRF = "页面已过期，请重新登录"
LOGIN_LINK_USED = "登录链接无效或已使用，请用用户名和密码登录"
LOGOUT_TITLE = "退出登录"
LOGOUT_SUBMIT = "退出登录"
LOGOUT = "退出"
FORBIDDEN = "无权查看：{message}"

# --- the case list and one case's timeline (/cases) ------------------------------------------------
CASES_TITLE = "事件列表与办理闭环"
SEARCH_PLACEHOLDER = "搜索描述或地址"
OVERDUE_ONLY = "只看超期"
CASES_MATCHING = "符合条件的事件"
CASES_ACCEPTED = "本单元受理"
CASES_OPEN = "其中未办结"
CASES_OVERDUE = "其中超期"
CASE_COLUMNS = {
    "external_id": "事件编号", "reported_at": "受理时间", "category": "类别", "subcategory": "子类",
    "status": "当前环节", "grid_name": "所在网格", "source": "来源", "deadline": "办理时限",
    "returned_count": "退回", "department": "承办部门",
}
TIMELINE_TITLE = "办理闭环"
TIMELINE_HINT = "点击列表中的事件，查看其办理闭环：各环节时间、经办人、用时与时限、退回轮次"
CASES_PUBLIC_HINT = ("当前角色可查看事件的类别、来源、环节与时间，不含事件编号、描述、地址和位置；"
                     "办理闭环需分析人员权限")
CASE_NOT_FOUND = "未找到事件 {id}"
ROUND = "第{n}轮"
ROUND_AFTER_RETURN = "第{n}轮（退回后重办）"
STAGE_TOOK = "用时 {took}"
STAGE_LIMIT = "时限 {limit}"
STAGE_ONGOING = "进行中 · 已 {took}"
WITHIN_LIMIT = "按时"
OVER_LIMIT = "超时"
DEADLINE = "办理时限 {at}"
DEADLINE_MET = "按期办结"
DEADLINE_MISSED = "逾期办结"
CASE_PLACE = "位置"
CASE_DEPARTMENT = "承办部门"
CASE_SOURCE = "来源"
CASE_RETURNS = "退回 {n} 次"
OPEN_CASE = "查看办理闭环"


def duration_text(seconds) -> str:
    """A duration the way staff say it: 35分钟, 5.2小时, 3.4天."""
    if seconds is None:
        return "—"
    minutes = seconds / 60
    if minutes < 60:
        return f"{max(minutes, 0):.0f}分钟"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f}小时"
    return f"{minutes / 1440:.1f}天"

# --- staff additions to the wall screen -------------------------------------------------------------
RANK_DEPTHS = {"": "下级", "street": "街道", "community": "社区", "grid": "网格"}
DEPTH_RANKING_TITLE = "{level}排名 · {metric}（最差在前，≥{min_cases}件）"
DEPTH_RANKING_EMPTY = "本级以下没有受理≥{min_cases}件的{level}"
DEPTH_RANK_PARENT = "{parent}"
FEED_TITLE = "滚动播报"
FEED_EMPTY = "近7天暂无新事件"
SUDDEN_RISE = "突增"

# --- the closed loop (/loop) -----------------------------------------------------------------------
LOOP_TITLE = "办理闭环分析"
LOOP_FUNNEL_TITLE = "各环节事件数（时段内受理，当前所处环节）"
LOOP_TIMES_TITLE = "各环节用时（中位数 / 90%分位，小时）与时限"
LOOP_LEVELS_TITLE = "化解层级（矛盾不上交）"
LOOP_MEMBERS_TITLE = "{level}卡点 · 未办结、超期与退回"
LOOP_CASES = "受理"
LOOP_OPEN = "其中未办结"
LOOP_OVERDUE = "其中超期"
LOOP_RETURNED = "退回事件"
LOOP_KEPT_LOCAL = "矛盾不上交率"
LOOP_MEDIAN = "中位数"
LOOP_P90 = "90%分位"
LOOP_LIMIT = "时限"
LOOP_OVERDUE_OF = "其中超期 {n}"
LOOP_MEMBER_ROW = "未办结 {open} · 超期 {overdue} · 退回 {returned}"
LOOP_STUCK_AT = "卡在{stage} {n} 件"

# --- two units side by side (/compare) --------------------------------------------------------------
COMPARE_TITLE = "单元对比"
COMPARE_PICK = "选择单元"
COMPARE_KPIS = "指标对比"
COMPARE_TREND = "近30天受理趋势"
COMPARE_CATEGORIES = "事件类别构成"
COMPARE_LOOP = "办理闭环对比"
COMPARE_HINT = "在上方选择两个单元进行对比（链接形如 /compare?a=…&b=…）"
COMPARE_INDICATOR = "指标"
COMPARE_LOOP_ROWS = {"open": "未办结", "overdue": "超期", "returned_cases": "退回事件",
                     "kept_local_rate": "矛盾不上交率"}
COMPARE_STAGE_MEDIAN = "{stage}用时中位数"


def alarm_tag(case: dict, now) -> str:
    """An alarm's tag: 超期N天 or 超期N小时 past its deadline, else 高风险 (an open high-risk dispute)."""
    late = now - case["deadline"] if case.get("deadline") and case["deadline"] < now else None
    if late is None:
        return HIGH_RISK
    if late.days >= 1:
        return OVERDUE_BY.format(days=late.days)
    return OVERDUE_HOURS.format(hours=max(1, late.seconds // 3600))
