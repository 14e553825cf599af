"""The domain's controlled vocabulary, stored as the Chinese terms users and feeds use."""

# Administrative levels, top to bottom. The hierarchy's depth is data: a city may skip `community`.
LEVELS = ("city", "district", "street", "community", "grid")
LEVEL_NAMES = {
    "city": "市",
    "district": "区/县",
    "street": "街道/镇",
    "community": "社区/村",
    "grid": "网格",
}

# The closed loop (闭环). A return (退回) is an event that sends a case back to 指派.
ACCEPTED, ASSIGNED, HANDLING, RESPONDED, CLOSED = "受理", "指派", "处置", "反馈", "核查办结"
STATUSES = (ACCEPTED, ASSIGNED, HANDLING, RESPONDED, CLOSED)
OPEN_STATUSES = STATUSES[:-1]
RETURNED = "退回"
EVENT_KINDS = STATUSES + (RETURNED,)

DISPUTE = "矛盾纠纷"
CATEGORIES = {
    DISPUTE: ("婚恋家庭", "邻里", "债务", "劳资", "土地山林", "物业", "征地拆迁", "其他"),
    "治安": ("盗窃", "打架斗殴", "诈骗", "其他"),
    "安全隐患": ("消防", "危化品", "燃气", "电动车", "其他"),
    "城市管理": ("乱搭乱建", "占道经营", "噪声", "环境卫生", "其他"),
    "信访": ("涉法涉诉", "政策咨询", "其他"),
    "民生服务": ("社会保障", "就业", "医疗", "教育", "其他"),
    "企业诉求": ("政策兑现", "用工", "融资", "其他"),
}
SOURCES = ("网格员上报", "12345热线", "视频智能发现", "群众随手拍", "警网融合", "企业")

# The level at which a case was resolved; the first three count as 矛盾不上交.
RESOLVED_LEVELS = ("网格", "社区/村", "街道/镇", "区/县", "市")
LOCAL_RESOLVED_LEVELS = RESOLVED_LEVELS[:3]

RISK_LEVELS = ("低", "中", "高")
SATISFACTIONS = ("满意", "基本满意", "不满意")
SATISFIED = SATISFACTIONS[:2]

CAMERA_KINDS = ("枪机", "球机", "人脸", "车牌")
ONLINE, OFFLINE = "online", "offline"
PLACE_KINDS = ("路口", "农贸市场", "学校", "医院", "广场", "危化品企业", "车站")
SURVEY_INDICATORS = ("群众安全感", "执法满意度")
