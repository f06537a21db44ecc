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
    # -- the public verification pages (hub/web/verify.py)
    "verify_title": {"zh": "电子证照与签章验证", "en": "Verify an e-licence or sealed document"},
    "verify_intro": {
        "zh": "上传电子证照或加盖电子印章的 PDF 文件，查看签章是否完好可信、证照是否在册有效。无需登录。",
        "en": "Upload an e-licence or a sealed PDF to see whether its seals are intact and trusted and whether "
        "the licence is on record and in force. No sign-in needed.",
    },
    "verify_file_label": {"zh": "选择 PDF 文件", "en": "PDF file"},
    "verify_limit": {"zh": "文件大小不超过 {mb} MB。", "en": "Up to {mb} MB."},
    "verify_submit": {"zh": "验证", "en": "Verify"},
    "verify_another": {"zh": "验证另一个文件", "en": "Verify another file"},
    "verify_cannot_check": {"zh": "无法验证该文件。", "en": "This file could not be verified."},
    "verify_unreadable": {
        "zh": "这不是可以读取的 PDF 文件，请上传原始的电子文件（不要用截图、照片或扫描件）。",
        "en": "This is not a readable PDF; upload the original electronic file (not a screenshot, photo or scan).",
    },
    "verify_no_file": {"zh": "请选择一个 PDF 文件后再点“验证”。", "en": "Choose a PDF file, then press Verify."},
    "verify_too_large": {
        "zh": "文件太大：最大 {mb} MB。",
        "en": "The file is too large: the limit is {mb} MB.",
    },
    "verify_verdict_valid": {"zh": "有效", "en": "Valid"},
    "verify_verdict_invalid": {"zh": "无效", "en": "Invalid"},
    "verify_verdict_indeterminate": {"zh": "无法确认", "en": "Cannot be confirmed"},
    "verify_verdict_explain_valid": {
        "zh": "签章完好可信，覆盖整份文件，证照在册且有效。",
        "en": "The seals are intact and trusted, cover the whole document, and the licence is on record and in force.",
    },
    "verify_verdict_explain_invalid": {
        "zh": "请勿信赖此文件，原因见下。",
        "en": "Do not rely on this document; see why below.",
    },
    "verify_verdict_explain_indeterminate": {
        "zh": "目前无法确认此文件有效，原因见下。",
        "en": "This document cannot be confirmed as valid at present; see why below.",
    },
    "verify_why": {"zh": "原因", "en": "Why"},
    "verify_reason_no_signature": {
        "zh": "该文件没有任何电子签章。",
        "en": "The document carries no electronic seal or signature.",
    },
    "verify_reason_not_a_licence": {
        "zh": "签章可以验证，但该文件不是在册的电子证照（例如某部门加盖电子印章的通知），因此不作为证照判定为有效。",
        "en": "Its seals can be checked, but the document is not a licence on record (an agency's sealed notice, "
        "say), so it is not judged valid as a licence.",
    },
    "verify_reason_licence_not_on_record": {
        "zh": "文件上写有证照编号，但平台上没有这一证照的记录。",
        "en": "The document names a licence number, but no such licence is on record.",
    },
    "verify_reason_not_the_issued_document": {
        "zh": "该文件不是平台为这一证照签发的那份文件。",
        "en": "This is not the document the hub issued for that licence.",
    },
    "verify_reason_licence_revoked": {"zh": "该证照已被吊销。", "en": "The licence has been revoked."},
    "verify_reason_licence_suspended": {"zh": "该证照已暂停使用。", "en": "The licence is suspended."},
    "verify_reason_licence_expired": {"zh": "该证照已超过有效期。", "en": "The licence has expired."},
    "verify_reason_signature_failed": {
        "zh": "至少有一个签章未通过验证。",
        "en": "At least one signature failed its checks.",
    },
    "verify_reason_signature_indeterminate": {
        "zh": "至少有一个签章目前无法确认。",
        "en": "At least one signature cannot be confirmed at present.",
    },
    # ETSI EN 319 102-1 sub-indications, in plain words
    "verify_sub_FORMAT_FAILURE": {
        "zh": "签章数据格式错误或已损坏，无法读取。",
        "en": "The signature is malformed or damaged and cannot be read.",
    },
    "verify_sub_HASH_FAILURE": {
        "zh": "文件在签章后被改动过：签章保护的内容与现在的内容不一致。",
        "en": "The document was altered after it was sealed: the sealed content no longer matches.",
    },
    "verify_sub_SIG_CRYPTO_FAILURE": {
        "zh": "签章值与签章人的密钥不符：签章是伪造的或已损坏。",
        "en": "The signature value does not match the signer's key: it is forged or damaged.",
    },
    "verify_sub_REVOKED": {
        "zh": "签章时，签章证书已被吊销。",
        "en": "The seal's certificate had already been revoked when it signed.",
    },
    "verify_sub_NOT_YET_VALID": {
        "zh": "签章时，签章证书尚未生效。",
        "en": "The seal's certificate was not yet valid when it signed.",
    },
    "verify_sub_SIG_CONSTRAINTS_FAILURE": {
        "zh": "签章不符合验证规则：例如没有覆盖整份文件，或签章后有不允许的改动。",
        "en": "The signature breaks the validation rules: it does not cover the whole document, say, or the "
        "document was changed in a way that is not allowed after signing.",
    },
    "verify_sub_CHAIN_CONSTRAINTS_FAILURE": {
        "zh": "签章人的证书链不符合验证规则。",
        "en": "The signer's certificate chain breaks the validation rules.",
    },
    "verify_sub_CERTIFICATE_CHAIN_GENERAL_FAILURE": {
        "zh": "无法检查签章人的证书链。",
        "en": "The signer's certificate chain could not be checked.",
    },
    "verify_sub_CRYPTO_CONSTRAINTS_FAILURE": {
        "zh": "签章所用的密码算法或密钥长度已不再安全。",
        "en": "The signature uses an algorithm or key size that is no longer considered safe.",
    },
    "verify_sub_CRYPTO_CONSTRAINTS_FAILURE_NO_POE": {
        "zh": "签章所用的算法已不再安全，且没有证据证明签章发生在此之前。",
        "en": "The signature's algorithm is no longer safe and nothing proves it was made before that.",
    },
    "verify_sub_EXPIRED": {
        "zh": "签章证书已过期，且没有可信时间戳证明签章发生在过期之前。",
        "en": "The seal's certificate has expired and no trusted timestamp proves it signed before then.",
    },
    "verify_sub_OUT_OF_BOUNDS_NO_POE": {
        "zh": "签章证书在判定时刻不在有效期内，且没有可信时间证明更早的签章时间。",
        "en": "The seal's certificate was outside its validity period at the time that counts, and nothing "
        "proves an earlier signing time.",
    },
    "verify_sub_OUT_OF_BOUNDS_NOT_REVOKED": {
        "zh": "签章证书已过有效期（未被吊销），且没有可信时间证明签章发生在有效期内。",
        "en": "The seal's certificate is past its validity period (not revoked) and nothing proves it signed "
        "while it was valid.",
    },
    "verify_sub_REVOCATION_OUT_OF_BOUNDS_NO_POE": {
        "zh": "可用的证书吊销信息不覆盖签章时间，且没有可信时间证明。",
        "en": "The revocation information at hand does not cover the signing time, and nothing proves when it "
        "was signed.",
    },
    "verify_sub_REVOKED_NO_POE": {
        "zh": "签章证书已被吊销，且没有可信时间戳证明签章发生在吊销之前。",
        "en": "The seal's certificate has been revoked and no trusted timestamp proves it signed before that.",
    },
    "verify_sub_REVOKED_CA_NO_POE": {
        "zh": "签发签章证书的机构证书已被吊销，且没有证据证明签章发生在吊销之前。",
        "en": "The authority that issued the seal's certificate has been revoked, and nothing proves the "
        "signature came first.",
    },
    "verify_sub_NO_CERTIFICATE_CHAIN_FOUND": {
        "zh": "签章人的证书不能追溯到本平台信任的根证书，无法确认是谁签的章。",
        "en": "The signer's certificate does not lead to a root this hub trusts, so who sealed it cannot be confirmed.",
    },
    "verify_sub_NO_SIGNING_CERTIFICATE_FOUND": {
        "zh": "找不到签章人的证书。",
        "en": "The signer's certificate could not be found.",
    },
    "verify_sub_NO_POE": {
        "zh": "没有可信时间戳证明签章的时间。",
        "en": "No trusted timestamp proves when it was signed.",
    },
    "verify_sub_TRY_LATER": {
        "zh": "暂时无法取得证书吊销信息，请稍后再试。",
        "en": "Revocation information cannot be had right now; try again later.",
    },
    "verify_sub_TIMESTAMP_ORDER_FAILURE": {
        "zh": "文件中各时间戳的先后顺序不正确。",
        "en": "The document's timestamps are in an impossible order.",
    },
    "verify_sub_POLICY_PROCESSING_ERROR": {
        "zh": "无法处理签章声明的签章策略。",
        "en": "The signature policy the signature names could not be processed.",
    },
    "verify_sub_SIGNATURE_POLICY_NOT_AVAILABLE": {
        "zh": "签章声明的签章策略无法取得。",
        "en": "The signature policy the signature names is not available.",
    },
    "verify_sub_SIGNED_DATA_NOT_FOUND": {
        "zh": "找不到签章所保护的数据。",
        "en": "The data the signature protects could not be found.",
    },
    "verify_sub_GENERIC": {"zh": "验证未能完成。", "en": "The check could not be completed."},
    # one signature and its checks
    "verify_signatures": {"zh": "签章", "en": "Signatures"},
    "verify_no_signatures": {"zh": "文件中没有签章。", "en": "The document has no signatures."},
    "verify_kind_signature": {"zh": "电子签章", "en": "Seal"},
    "verify_kind_document_timestamp": {"zh": "文档时间戳", "en": "Document timestamp"},
    "verify_outcome_passed": {"zh": "通过", "en": "passed"},
    "verify_outcome_failed": {"zh": "未通过", "en": "failed"},
    "verify_outcome_indeterminate": {"zh": "无法确认", "en": "indeterminate"},
    "verify_signed_by": {"zh": "签章人", "en": "Sealed by"},
    "verify_timestamp": {"zh": "可信时间", "en": "Trusted time"},
    "verify_no_timestamp": {"zh": "无可信时间戳", "en": "no trusted timestamp"},
    "verify_claimed_time": {"zh": "签章人声称的时间", "en": "Time claimed by the signer"},
    "verify_sub_indication": {"zh": "结论依据", "en": "Finding"},
    "verify_coverage": {"zh": "覆盖范围", "en": "Covers"},
    "verify_coverage_entire_file": {"zh": "整份文件", "en": "the whole file"},
    "verify_coverage_entire_revision": {
        "zh": "签章时的整份文件（其后有追加内容）",
        "en": "the whole file as it was when signed (more was added later)",
    },
    "verify_coverage_contiguous_block_from_start": {
        "zh": "仅文件开头的一部分",
        "en": "only a part at the start of the file",
    },
    "verify_coverage_unclear": {"zh": "不明确", "en": "unclear"},
    "verify_coverage_unknown": {"zh": "未知", "en": "unknown"},
    "verify_modification_level": {"zh": "签章后的改动", "en": "Later changes"},
    "verify_modification_none": {"zh": "无", "en": "none"},
    "verify_modification_lta_updates": {
        "zh": "仅追加了验证数据或时间戳（允许）",
        "en": "only validation data or timestamps added (allowed)",
    },
    "verify_modification_form_filling": {
        "zh": "填写了表单或追加了签章",
        "en": "form fields filled or signatures added",
    },
    "verify_modification_annotations": {"zh": "添加或修改了批注", "en": "annotations added or changed"},
    "verify_modification_other": {"zh": "内容被改动", "en": "content changed"},
    "verify_modification_unknown": {"zh": "未知", "en": "unknown"},
    "verify_check_integrity": {"zh": "内容完整", "en": "Integrity"},
    "verify_check_signer_chain": {"zh": "签章人证书", "en": "Signer's certificate"},
    "verify_check_revocation": {"zh": "吊销状态", "en": "Revocation"},
    "verify_check_timestamp": {"zh": "时间戳", "en": "Timestamp"},
    "verify_check_coverage": {"zh": "覆盖范围", "en": "Coverage"},
    "verify_check_changes_after_signing": {"zh": "签章后的改动", "en": "Changes after signing"},
    "verify_check_format": {"zh": "签章格式", "en": "Format"},
    "verify_check_integrity_passed": {
        "zh": "签章后文件内容没有被改动，签章值正确。",
        "en": "Nothing the seal protects has changed, and the signature value is right.",
    },
    "verify_check_signer_chain_passed": {
        "zh": "签章人的证书可追溯到本平台信任的根证书。",
        "en": "The signer's certificate leads to a root this hub trusts.",
    },
    "verify_check_revocation_passed": {
        "zh": "签章时签章证书未被吊销。",
        "en": "The seal's certificate was not revoked when it signed.",
    },
    "verify_check_timestamp_passed": {
        "zh": "可信时间戳证明了签章的时间。",
        "en": "A trusted timestamp proves when it was signed.",
    },
    "verify_check_coverage_passed": {
        "zh": "签章覆盖签章时的整份文件。",
        "en": "The signature covers the whole document as it was when signed.",
    },
    "verify_check_changes_after_signing_passed": {
        "zh": "签章后没有不允许的改动（最多只追加了验证数据）。",
        "en": "Nothing was changed after signing except, at most, added validation data.",
    },
    "verify_check_coverage_SIG_CONSTRAINTS_FAILURE": {
        "zh": "签章没有覆盖整份文件：有些内容不受签章保护。",
        "en": "The signature does not cover the whole document: some of it is not protected by the seal.",
    },
    "verify_check_changes_after_signing_SIG_CONSTRAINTS_FAILURE": {
        "zh": "签章后文件被改动过，且这种改动是不允许的。",
        "en": "The document was changed after signing in a way that is not allowed.",
    },
    "verify_check_timestamp_SIG_CRYPTO_FAILURE": {
        "zh": "时间戳已损坏或被篡改。",
        "en": "The timestamp is broken or was tampered with.",
    },
    "verify_check_timestamp_NO_CERTIFICATE_CHAIN_FOUND": {
        "zh": "时间戳不是由本平台信任的时间戳服务签发的。",
        "en": "The timestamp does not come from a timestamp service this hub trusts.",
    },
    "verify_technical": {"zh": "技术说明", "en": "Technical detail"},
    "verify_certificate": {"zh": "证书详情", "en": "Certificate details"},
    "verify_subject": {"zh": "证书主体", "en": "Subject"},
    "verify_issuer": {"zh": "签发者", "en": "Issuer"},
    "verify_serial": {"zh": "序列号", "en": "Serial number"},
    "verify_fingerprint": {"zh": "SHA-256 指纹", "en": "SHA-256 fingerprint"},
    "verify_field": {"zh": "签名域", "en": "Signature field"},
    "verify_sha256": {"zh": "文件 SHA-256", "en": "SHA-256 of the file"},
    # the licence, on both pages
    "verify_licence": {"zh": "证照信息", "en": "The licence"},
    "verify_licence_number": {"zh": "证照编号", "en": "Licence number"},
    "verify_licence_status": {"zh": "状态", "en": "Status"},
    "verify_licence_type": {"zh": "证照类型", "en": "Licence type"},
    "verify_licence_holder": {"zh": "持证人", "en": "Holder"},
    "verify_licence_valid_until": {"zh": "有效期至", "en": "Valid until"},
    "verify_licence_issuer": {"zh": "发证机关", "en": "Issuing agency"},
    "verify_masked_note": {
        "zh": "为保护个人信息，持证人名称已部分隐藏。",
        "en": "The holder's name is partly hidden to protect personal data.",
    },
    "verify_state_valid": {"zh": "有效", "en": "Valid"},
    "verify_state_suspended": {"zh": "已暂停", "en": "Suspended"},
    "verify_state_revoked": {"zh": "已吊销", "en": "Revoked"},
    "verify_state_expired": {"zh": "已过期", "en": "Expired"},
    "verify_state_explain_valid": {"zh": "该证照在册，目前有效。", "en": "This licence is on record and in force."},
    "verify_state_explain_suspended": {
        "zh": "该证照已被发证机关暂停使用，暂停期间不能作为有效证照使用。",
        "en": "The issuing agency has suspended this licence; it cannot be relied on while suspended.",
    },
    "verify_state_explain_revoked": {
        "zh": "该证照已被发证机关吊销，不再有效。",
        "en": "The issuing agency has revoked this licence; it is no longer in force.",
    },
    "verify_state_explain_expired": {
        "zh": "该证照已超过有效期，不再有效。",
        "en": "This licence is past its validity period and no longer in force.",
    },
    # the QR link's status page
    "verify_status_title": {"zh": "电子证照状态查询", "en": "Licence status"},
    "verify_status_unknown": {"zh": "未找到该证照", "en": "No such licence"},
    "verify_status_unknown_explain": {
        "zh": "没有这一编号的证照，或编号有误（校验位不符）。请核对证照上的编号。",
        "en": "No licence has this number, or the number is mistyped (its check character does not match). "
        "Check the number on the licence.",
    },
    "verify_status_pdf_hint": {
        "zh": "此页只显示证照记录的状态；如需确认手中的电子文件是否为原件，请上传该 PDF 进行验证。",
        "en": "This page shows the licence's record only; to check that a PDF you hold is the genuine document, "
        "upload it for verification.",
    },
    "verify_check_a_file": {"zh": "验证 PDF 文件", "en": "Verify a PDF file"},
    # -- the applicant pages (hub/web/apply.py)
    "apply_title": {"zh": "网上办事", "en": "Apply online"},
    "apply_sign_in": {"zh": "申请人登录", "en": "Applicant sign-in"},
    "apply_demo_note": {
        "zh": "演示登录：此处代替全省统一身份认证平台，不核验身份，请勿填写真实个人信息。",
        "en": "Demo sign-in: this stands in for the province's identity service and checks nothing; "
        "do not enter real personal data.",
    },
    "apply_id_type": {"zh": "证件类型", "en": "ID type"},
    "apply_id_type_resident-id": {"zh": "居民身份证", "en": "Resident ID card"},
    "apply_id_type_credit-code": {"zh": "统一社会信用代码", "en": "Unified social credit code"},
    "apply_id_number": {"zh": "证件号码", "en": "ID number"},
    "apply_name": {"zh": "姓名或名称", "en": "Name"},
    "apply_sign_in_button": {"zh": "登录", "en": "Sign in"},
    "apply_login_invalid": {
        "zh": "请选择证件类型，填写由字母和数字组成的证件号码（最多 64 位）和姓名。",
        "en": "Choose an ID type and enter an ID number of letters and digits (up to 64) and a name.",
    },
    "apply_csrf": {
        "zh": "表单已过期或来源不明，请返回页面刷新后重试。",
        "en": "The form has expired or did not come from these pages; go back, reload and try again.",
    },
    "apply_signed_in_as": {"zh": "当前申请人：", "en": "Signed in as"},
    "apply_sign_out": {"zh": "退出", "en": "Sign out"},
    "apply_signed_out": {"zh": "已退出登录。", "en": "You have signed out."},
    "apply_nav_services": {"zh": "选择事项", "en": "Choose a service"},
    "apply_nav_mine": {"zh": "我的办件", "en": "My applications"},
    "apply_nav_reads": {"zh": "谁查看了我的数据", "en": "Who read my data"},
    "apply_choose_title": {"zh": "选择要办理的事项", "en": "Choose a service"},
    "apply_choose_intro": {
        "zh": "以下事项可全程网上办理。平台会先查询共享数据，只请您提交平台上没有的材料。",
        "en": "These services can be applied for wholly online. The platform looks up shared data first "
        "and asks you only for what it does not hold.",
    },
    "apply_no_items": {"zh": "暂无可网上办理的事项。", "en": "No service can be applied for online yet."},
    "apply_start": {"zh": "在线申请", "en": "Apply"},
    "apply_platform_first": {
        "zh": "提交后，平台先行获取共享材料，并一次性告知仍需上传的材料。",
        "en": "Once you apply, the platform fetches the shared materials and lists, at one time, "
        "what you still need to upload.",
    },
    "apply_form_title": {"zh": "申请信息", "en": "Your answers"},
    "apply_submit": {"zh": "提交申请", "en": "Apply"},
    "apply_application_id": {"zh": "办件编号", "en": "Application"},
    "apply_status": {"zh": "办理状态", "en": "Status"},
    "apply_deadline": {"zh": "办结期限", "en": "Deadline"},
    "apply_days_left": {"zh": "剩余 {days} 个工作日", "en": "{days} working days left"},
    "apply_clock_stopped": {
        "zh": "计时暂停，恢复后剩余 {days} 个工作日",
        "en": "Clock stopped; {days} working days left when it restarts",
    },
    "apply_no_deadline": {"zh": "受理后开始计时", "en": "The clock starts once the application is accepted"},
    "apply_concluded": {"zh": "已办结", "en": "Concluded"},
    "apply_submitted_at": {"zh": "申请时间", "en": "Applied"},
    "apply_licence": {"zh": "电子证照", "en": "Electronic licence"},
    "apply_licence_download": {"zh": "下载证照 PDF", "en": "Download the licence (PDF)"},
    "apply_licence_status": {"zh": "查看证照状态", "en": "Public status page"},
    "apply_missing_title": {"zh": "一次性告知：仍需提交的材料", "en": "Still needed, all at once"},
    "apply_upload": {"zh": "上传", "en": "Upload"},
    "apply_upload_hint": {"zh": "支持 PDF、JPEG、PNG 文件。", "en": "PDF, JPEG or PNG files."},
    "apply_no_file": {"zh": "请先选择要上传的文件。", "en": "Choose a file to upload first."},
    "apply_uploaded": {"zh": "材料已上传。", "en": "The material was uploaded."},
    "apply_too_large": {"zh": "文件太大：最大 {mb} MB。", "en": "The file is too large: at most {mb} MB."},
    "apply_materials_title": {"zh": "材料情况", "en": "Materials"},
    "apply_source": {"zh": "数据来源", "en": "Supplied by"},
    "apply_uploaded_at": {"zh": "上传于", "en": "Uploaded"},
    "apply_timeline": {"zh": "办理进度", "en": "Timeline"},
    "apply_by": {"zh": "办理方：", "en": "by"},
    "apply_reason": {"zh": "理由", "en": "Reason"},
    "apply_new_deadline": {"zh": "办结期限", "en": "Deadline"},
    "apply_none_yet": {"zh": "您在本次登录中还没有申请。", "en": "You have not applied for anything in this session."},
    "apply_reads_intro": {
        "zh": "以下是各部门为办理政务服务查询您数据的记录，最新的在前。",
        "en": "Every time an agency read your data for a service, newest first.",
    },
    "apply_reads_none": {"zh": "暂无查询记录。", "en": "Nobody has read your data yet."},
    "apply_reads_for": {"zh": "办理事项", "en": "for"},
    "apply_reads_what": {"zh": "查询内容", "en": "what"},
    "apply_status_pending_materials": {"zh": "待补充材料", "en": "Waiting for your materials"},
    "apply_status_submitted": {"zh": "已提交，待受理", "en": "Submitted, waiting to be accepted"},
    "apply_status_accepted": {"zh": "已受理，办理中", "en": "Accepted, in progress"},
    "apply_status_suspended": {"zh": "已中止", "en": "Suspended"},
    "apply_status_approved": {"zh": "已办结（准予）", "en": "Approved"},
    "apply_status_rejected": {"zh": "已办结（不予）", "en": "Refused"},
    "apply_material_resolved": {"zh": "平台已获取，无需提交", "en": "Found by the platform: nothing to bring"},
    "apply_material_missing": {"zh": "需要您上传", "en": "You need to upload it"},
    "apply_material_unavailable": {
        "zh": "数据来源暂不可用，请上传",
        "en": "Its source is unavailable now: please upload it",
    },
    "apply_material_uploaded": {"zh": "已上传", "en": "Uploaded"},
    "apply_event_submit": {"zh": "提交申请", "en": "Applied"},
    "apply_event_complete": {"zh": "材料齐全", "en": "Materials complete"},
    "apply_event_discrepancy": {"zh": "发现数据不一致", "en": "Data differs from the platform's"},
    "apply_event_accept": {"zh": "受理", "en": "Accepted"},
    "apply_event_request_materials": {"zh": "要求补正材料", "en": "More materials requested"},
    "apply_event_suspend": {"zh": "中止办理", "en": "Suspended"},
    "apply_event_resume": {"zh": "恢复办理", "en": "Resumed"},
    "apply_event_postpone": {"zh": "延长办理期限", "en": "Deadline extended"},
    "apply_event_approve": {"zh": "准予许可", "en": "Approved"},
    "apply_event_reject": {"zh": "不予许可", "en": "Refused"},
    "apply_event_task.approve": {"zh": "联办部门同意", "en": "Co-agency approved its part"},
    "apply_event_task.reject": {"zh": "联办部门不同意", "en": "Co-agency refused its part"},
    "apply_actor_applicant": {"zh": "申请人（网上办事）", "en": "you (online)"},
    "apply_actor_hub": {"zh": "平台", "en": "the platform"},
    "apply_actor_operator": {"zh": "平台运维", "en": "the platform operator"},
    "apply_outcome_read": {"zh": "已读取", "en": "read"},
    "apply_outcome_nothing-read": {"zh": "未找到数据", "en": "nothing found"},
    "apply_outcome_refused": {"zh": "已拒绝", "en": "refused"},
    "apply_error_not_online": {"zh": "该事项不能网上办理", "en": "This service cannot be applied for online"},
    "apply_error_invalid": {"zh": "提交的内容未被接受", "en": "What you sent was not accepted"},
    "apply_error_conflict": {"zh": "当前状态下不能这样做", "en": "This cannot be done at this stage"},
    "apply_error_forbidden": {"zh": "无权进行此操作", "en": "This is not allowed"},
    "apply_error_not_found": {"zh": "找不到相关记录", "en": "Not found"},
    "apply_error_other": {"zh": "暂时无法办理，请稍后再试", "en": "This cannot be done now; try again later"},
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
