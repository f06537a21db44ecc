"""Page texts in Chinese and English, and the choice between them (``?lang=``, cookie, Accept-Language)."""

from __future__ import annotations

from flask import request

LANGUAGES = ("zh", "en")
COOKIE = "lang"

MESSAGES: dict[str, dict[str, str]] = {
    "hub_name": {"zh": "政务服务数据共享与电子证照枢纽", "en": "Government data-sharing and e-licence hub"},
    "catalogue": {"zh": "政务服务事项目录", "en": "Catalogue of government service items"},
    "service_guide": {"zh": "办事指南", "en": "Service guide"},
    "version": {"zh": "版本", "en": "Version"},
    "effective_from": {"zh": "施行日期", "en": "In force from"},
    "legal_basis": {"zh": "设定依据", "en": "Legal basis"},
    "implementing_agency": {"zh": "实施机关", "en": "Implementing agency"},
    "co_agencies": {"zh": "联办机关", "en": "Co-processing agencies"},
    "region": {"zh": "行政区划", "en": "Region"},
    "level_province": {"zh": "省级", "en": "provincial"},
    "level_city": {"zh": "市级（补充事项）", "en": "city (supplementary)"},
    "level_county": {"zh": "县级（补充事项）", "en": "county (supplementary)"},
    "where_to_apply": {"zh": "办理方式", "en": "How to apply"},
    "apply_online_link": {"zh": "网上办理", "en": "Apply online"},
    "online_hall": {
        "zh": "可通过省网上政务服务大厅、移动端或自助终端在线申请。",
        "en": "Apply online through the province's online hall, mobile app or self-service terminals.",
    },
    "in_person_at": {"zh": "现场办理地点", "en": "In person at"},
    "in_person_only": {
        "zh": "依法须申请人本人到场办理，不能全程网办。",
        "en": "The law requires the applicant to appear in person; this cannot be done wholly online.",
    },
    "time_limits": {"zh": "办理时限", "en": "Time limits"},
    "statutory_days": {"zh": "法定办结时限", "en": "Statutory limit"},
    "committed_days": {"zh": "承诺办结时限", "en": "Committed limit"},
    "working_days": {"zh": "个工作日", "en": "working days"},
    "materials": {"zh": "申请材料", "en": "Materials"},
    "material": {"zh": "材料名称", "en": "Material"},
    "required": {"zh": "是否必需", "en": "Required"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "source": {"zh": "获取方式", "en": "How it is obtained"},
    "shared": {
        "zh": "由数据共享平台提供，无需提交",
        "en": "Supplied by the data-sharing platform: you need not bring it",
    },
    "upload": {"zh": "申请人上传电子材料", "en": "Uploaded by the applicant as an electronic file"},
    "paper": {"zh": "法律法规要求提交纸质原件", "en": "A paper original is required by law"},
    "no_materials": {"zh": "无需提交材料。", "en": "No materials are needed."},
    "process": {"zh": "办理流程", "en": "Process"},
    "step_apply_online": {"zh": "网上提交申请", "en": "Apply online"},
    "step_apply_in_person": {"zh": "到现场提交申请", "en": "Apply in person"},
    "step_platform_check": {
        "zh": "系统先行查询数据共享平台，一次性告知仍需提交的材料",
        "en": "The platform is searched first; anything still needed is listed at one time",
    },
    "step_accept": {"zh": "受理", "en": "Acceptance"},
    "step_joint_processing": {"zh": "联办机关并联审查", "en": "Co-agencies process their parts"},
    "step_decide": {"zh": "审查决定并统一反馈结果", "en": "Decision, answered once"},
    "step_issue_licence": {"zh": "颁发电子证照", "en": "Electronic licence issued"},
    "produces": {"zh": "办理结果", "en": "Result"},
    "no_items": {"zh": "暂无事项。", "en": "No service items yet."},
    "code": {"zh": "事项编码", "en": "Code"},
    "name": {"zh": "事项名称", "en": "Name"},
    "online": {"zh": "可网办", "en": "Online"},
    "next_page": {"zh": "下一页", "en": "Next page"},
    "error": {"zh": "出错了", "en": "Something went wrong"},
    "back_to_catalogue": {"zh": "返回事项目录", "en": "Back to the catalogue"},
}


def current_language() -> str:
    """The page language: an explicit ``?lang=``, then the cookie, then Accept-Language; Chinese by default."""
    asked = request.args.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"


def translator(language: str):
    """A function giving the text of a message key in ``language``."""

    def text(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry[language] if entry else key

    return text
