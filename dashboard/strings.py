"""Every piece of UI text, in Simplified Chinese: the one place to reword or translate."""

from dashboard.vocab import LEVEL_NAMES

APP_TITLE = "城市大脑 · 一屏观全城"
PERIODS = {"today": "今日", "7d": "近7天", "30d": "近30天", "year": "本年", "custom": "自定义"}
METRIC_LABEL = "地图指标"
CATEGORY_PLACEHOLDER = "全部类别"
SOURCE_PLACEHOLDER = "全部来源"
DATE_START = "开始日期"
DATE_END = "结束日期"

TREND_TITLE = "近30天受理趋势"
CATEGORY_TITLE = "事件类别构成"
RANKING_TITLE = "{level}排名 · {metric}"
RECENT_TITLE = "最新事件"
NO_CHILDREN = "本级为最小网格，下方为最新事件"
NO_CASES = "本时段暂无事件"
CASES_AXIS = "件"

UPDATED_AT = "数据更新于 {time}"
STALE = "数据连接中断，当前显示 {time} 的数据，正在重试…"
PREVIOUS_DELTA = "{label} {arrow}{value}"
PREVIOUS_DELTA_POINTS = "{label} {arrow}{value}个百分点"
UNCHANGED = "{label}持平"
REALTIME = "实时"
NO_PREVIOUS = "上期无数据"
UP, DOWN = "▲", "▼"

UNKNOWN_UNIT = "未找到单元 {code}"
BAD_VIEW = "链接参数有误：{message}"
NO_DATA = "数据库中还没有行政区划数据。请先运行 citybrain demo 生成演示城市，或导入本地数据。"
SERVER_ERROR = "服务暂时不可用，请稍后重试"

MAP_HOVER_VALUE = "{label}：{value}"
CLICK_TO_DRILL = "点击下钻"
CASE_STATUS_COLORS_TITLE = "事件状态"


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)
