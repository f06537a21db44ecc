"""Page texts in Chinese and English, and the choice between them (``?lang=``, cookie, Accept-Language)."""

from __future__ import annotations

from collections.abc import Callable

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
    # -- the operator console (hub/web/console.py)
    "console": {"zh": "运维控制台", "en": "Operator console"},
    "console_sign_in": {"zh": "运维人员登录", "en": "Operator sign-in"},
    "console_token": {"zh": "访问令牌", "en": "Access token"},
    "console_token_hint": {
        "zh": "请输入平台运维人员（operator 角色）的访问令牌。令牌本身不会保存在浏览器中。",
        "en": "Enter a platform operator's bearer token (role operator). The token itself is not kept in the browser.",
    },
    "console_sign_in_button": {"zh": "登录", "en": "Sign in"},
    "console_sign_out": {"zh": "退出登录", "en": "Sign out"},
    "console_signed_out": {"zh": "已退出登录。", "en": "You are signed out."},
    "console_bad_token": {"zh": "令牌无效（未知或已撤销）。", "en": "That token is not valid (unknown or revoked)."},
    "console_not_operator": {
        "zh": "该令牌不属于平台运维人员，不能进入控制台。",
        "en": "That token is not an operator's: it cannot open the console.",
    },
    "console_csrf": {
        "zh": "表单已过期或并非来自本控制台，请返回页面后重试。",
        "en": "The form has expired or did not come from this console; go back and try again.",
    },
    "console_connectors": {"zh": "数据源连接器", "en": "Data source connectors"},
    "console_no_connectors": {"zh": "尚未登记连接器。", "en": "No connectors are registered yet."},
    "console_agency": {"zh": "所属部门", "en": "Agency"},
    "console_kind": {"zh": "接入方式", "en": "Kind"},
    "console_provides": {"zh": "提供的数据类型", "en": "Provides"},
    "console_state_active": {"zh": "已启用", "en": "active"},
    "console_state_inactive": {"zh": "未启用", "en": "inactive"},
    "console_last_test": {"zh": "最近测试", "en": "Last test"},
    "console_never_tested": {"zh": "从未测试", "en": "never tested"},
    "console_test_ok": {"zh": "通过", "en": "passed"},
    "console_test_bad": {"zh": "未通过", "en": "failed"},
    "console_calls_hour": {"zh": "近一小时调用", "en": "Calls (last hour)"},
    "console_errors": {"zh": "失败（错误率）", "en": "Errors (rate)"},
    "console_latency": {"zh": "延迟 p50 / p95", "en": "Latency p50 / p95"},
    "console_ms": {"zh": "毫秒", "en": "ms"},
    "console_circuit": {"zh": "熔断器", "en": "Circuit"},
    "console_circuit_closed": {"zh": "闭合（正常）", "en": "closed"},
    "console_circuit_open": {"zh": "断开（暂停调用）", "en": "open"},
    "console_circuit_half-open": {"zh": "半开（试探中）", "en": "half-open"},
    "console_sparkline": {
        "zh": "近一小时每五分钟的 p50 延迟，最高 {peak} 毫秒",
        "en": "p50 latency per five minutes over the last hour; peak {peak} ms",
    },
    "console_sparkline_empty": {"zh": "近一小时没有调用", "en": "No calls in the last hour"},
    "console_test": {"zh": "测试", "en": "Test"},
    "console_activate": {"zh": "启用", "en": "Activate"},
    "console_deactivate": {"zh": "停用", "en": "Deactivate"},
    "console_test_passed": {
        "zh": "{connector}：测试通过，用时 {ms} 毫秒。",
        "en": "{connector}: test passed in {ms} ms.",
    },
    "console_test_failed": {
        "zh": "{connector}：测试未通过（{detail}）。",
        "en": "{connector}: test failed ({detail}).",
    },
    "console_activated": {"zh": "{connector} 已启用。", "en": "{connector} is now active."},
    "console_deactivated": {"zh": "{connector} 已停用。", "en": "{connector} is now inactive."},
    "console_activation_refused": {
        "zh": "{connector} 未能启用：{reason}",
        "en": "{connector} was not activated: {reason}",
    },
    "console_at_a_glance": {"zh": "登记与审计概览", "en": "Registry and audit at a glance"},
    "console_agencies": {"zh": "部门", "en": "Agencies"},
    "console_evidence_types": {"zh": "数据类型", "en": "Evidence types"},
    "console_service_items": {"zh": "服务事项", "en": "Service items"},
    "console_connector_count": {"zh": "连接器", "en": "Connectors"},
    "console_audit_chain": {"zh": "审计链", "en": "Audit chain"},
    "console_audit_intact": {"zh": "完整，共 {entries} 条", "en": "intact, {entries} entries"},
    "console_audit_broken": {"zh": "已被破坏！共 {entries} 条", "en": "BROKEN, {entries} entries"},
    "console_recent_audit": {"zh": "最近的登记变更", "en": "Latest registry changes"},
    "console_audit_at": {"zh": "时间", "en": "When"},
    "console_audit_action": {"zh": "操作", "en": "Action"},
    "console_audit_target": {"zh": "对象", "en": "Target"},
    "console_audit_actor": {"zh": "操作者", "en": "By"},
}


def current_language() -> str:
    """The page language: an explicit ``?lang=``, then the cookie, then Accept-Language; Chinese by default."""
    asked = request.args.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"


def translator(language: str) -> Callable[[str], str]:
    """A function giving the text of a message key in ``language``."""

    def text(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry[language] if entry else key

    return text
