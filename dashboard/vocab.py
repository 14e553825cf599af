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
SOURCES = ("网格员上报", "12345热线", "视频智能发现", "群众随手拍", "警网融合", "企业",
           "人民调解", "信访", "公安", "其他")
OTHER = "其他"  # the group of a word no map names (reported once per import)

# The level at which a case was resolved; the first three count as 矛盾不上交.
RESOLVED_LEVELS = ("网格", "社区/村", "街道/镇", "区/县", "市")
LOCAL_RESOLVED_LEVELS = RESOLVED_LEVELS[:3]

RISK_LEVELS = ("低", "中", "高")
SATISFACTIONS = ("满意", "基本满意", "不满意")
SATISFIED = SATISFACTIONS[:2]
NOT_REVISITED = "未回访"  # read as "no revisit": a missing value, never in 满意率's denominator

# How a dispute's mediation ended. Closed (办结) is not resolved (化解): 调解不成功 closes a case.
RESOLVED, NOT_RESOLVED, PENDING = "化解成功", "化解不成功", "未化解"
OUTCOMES = (RESOLVED, NOT_RESOLVED, PENDING)

CAMERA_KINDS = ("枪机", "球机", "半球", "人脸", "车牌", "其他")
ONLINE, OFFLINE = "online", "offline"
PLACE_KINDS = ("路口", "农贸市场", "学校", "医院", "广场", "危化品企业", "车站", "政法机构",
               "宗教场所", "其他")
SURVEY_INDICATORS = ("群众安全感", "执法满意度")

# Open vocabularies: the feed's word is kept (``*_raw``) and mapped to one of these groups for
# aggregates; a word no map names goes to 其他 and is reported once per import.
SYNONYMS = {
    "source": {"网格员": "网格员上报", "网格上报": "网格员上报", "巡查发现": "网格员上报",
               "热线": "12345热线", "12345": "12345热线", "市民热线": "12345热线",
               "视频发现": "视频智能发现", "智能发现": "视频智能发现", "随手拍": "群众随手拍",
               "群众来访": "信访", "来信来访": "信访", "人民调解委员会": "人民调解",
               "调解委员会": "人民调解", "矛调中心": "人民调解", "110": "公安", "110警情": "公安",
               "派出所": "公安", "企呼我为": "企业", "企业诉求": "企业"},
    "camera_kind": {"枪型": "枪机", "筒机": "枪机", "枪式": "枪机", "球型": "球机", "快球": "球机",
                    "高速球": "球机", "半球型": "半球", "半球机": "半球", "人脸抓拍": "人脸",
                    "人脸识别": "人脸", "卡口": "车牌", "车辆卡口": "车牌", "电子警察": "车牌"},
    "place_kind": {"派出所": "政法机构", "警务室": "政法机构", "司法所": "政法机构",
                   "调解委员会": "政法机构", "人民调解委员会": "政法机构", "综治中心": "政法机构",
                   "法庭": "政法机构", "中学": "学校", "小学": "学校", "幼儿园": "学校",
                   "卫生院": "医院", "诊所": "医院", "菜市场": "农贸市场", "集贸市场": "农贸市场",
                   "火车站": "车站", "汽车站": "车站", "客运站": "车站", "加油站": "危化品企业",
                   "寺庙": "宗教场所", "教堂": "宗教场所"},
}

# Grid workers by role: 专职 and 兼职 grid workers, and the 五员联动 partners.
FULL_TIME, PART_TIME = "专职网格员", "兼职网格员"
WORKER_ROLES = (FULL_TIME, PART_TIME, "网格长", "网格警长", "网格法律顾问", "调解员", "其他")
WORKER_SYNONYMS = {"专职": FULL_TIME, "专职网格员": FULL_TIME, "兼职": PART_TIME,
                   "兼职网格员": PART_TIME, "民警": "网格警长", "社区民警": "网格警长",
                   "辅警": "网格警长", "法律顾问": "网格法律顾问", "律师": "网格法律顾问",
                   "人民调解员": "调解员", "调解员": "调解员"}

# Sensitive topics: counts per unit only, never a household or a person.
HOUSEHOLD_RISK, SPECIAL_POPULATION = "household_risk", "special_population"
SENSITIVE_TOPICS = (HOUSEHOLD_RISK, SPECIAL_POPULATION)
HOUSEHOLD_RISK_LEVELS = ("高风险户", "中风险户", "低风险户")
HOUSEHOLD_RISK_SYNONYMS = {"高": "高风险户", "高风险": "高风险户", "中": "中风险户",
                           "中风险": "中风险户", "低": "低风险户", "低风险": "低风险户"}

# Police cases: 刑事 and 治安, each with the police system's 案由.
POLICE_KINDS = ("刑事", "治安")
POLICE_SYNONYMS = {"刑事案件": "刑事", "治安案件": "治安", "行政案件": "治安"}

# The kind of a unit where a level holds different things (村 and 社区 are both `community`).
UNIT_KINDS = {"村": "村", "行政村": "村", "社区": "社区", "居委会": "社区", "街道": "街道",
              "镇": "镇", "乡": "乡", "办事处": "街道"}
