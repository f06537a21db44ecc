"""The fixed words of a case's documents (:mod:`certs.notices`), in Chinese and English: titles, headings, labels,
and the remedies a refusal must state."""

from __future__ import annotations

from dataclasses import dataclass

NOTICE_KINDS = ("acceptance", "materials_request", "refusal", "licence_refusal", "application_form")
LANGUAGES = ("zh", "en")

MONTHS = "January February March April May June July August September October November December".split()

TITLES: dict[tuple[str, str], str] = {
    ("acceptance", "zh"): "受理通知书", ("acceptance", "en"): "Notice of Acceptance",
    ("materials_request", "zh"): "补正材料一次性告知书",
    ("materials_request", "en"): "Notice of Materials Required (One-Time)",
    ("refusal", "zh"): "不予受理决定书", ("refusal", "en"): "Decision Not to Accept the Application",
    ("licence_refusal", "zh"): "不予行政许可决定书", ("licence_refusal", "en"): "Decision to Refuse the Licence",
    ("application_form", "zh"): "政务服务事项申请表", ("application_form", "en"): "Application Form",
}  # fmt: skip
ITEM_HEADINGS: dict[tuple[str, str], str] = {
    ("acceptance", "zh"): "告知事项：", ("acceptance", "en"): "Please note:",
    ("materials_request", "zh"): "请一次性补正以下材料：",
    ("materials_request", "en"): "Please provide all of the following materials:",
    ("refusal", "zh"): "不予受理的理由：", ("refusal", "en"): "Reasons for not accepting the application:",
    ("licence_refusal", "zh"): "不予许可的理由：", ("licence_refusal", "en"): "Reasons for refusing the licence:",
    ("application_form", "zh"): "申请内容：", ("application_form", "en"): "What is applied for:",
}  # fmt: skip
SIGNATURE_LINE = {"zh": "申请人（电子签名）：{name}", "en": "Applicant (electronic signature): {name}"}
REMEDIES = {  # Administrative Reconsideration Law art. 20, Administrative Litigation Law art. 46
    "zh": "申请人如对本决定不服，可以自收到本决定之日起六十日内，依照《中华人民共和国行政复议法》"
    "向{agency}所属的本级人民政府或者其上一级主管部门申请行政复议；也可以自收到本决定之日起六个月内，"
    "依照《中华人民共和国行政诉讼法》向人民法院提起行政诉讼。",
    "en": "If you disagree with this decision, you may apply for administrative reconsideration within 60 days of "
    "receiving it, to the people's government at the same level as {agency} or to the authority one level above it, "
    "under the Administrative Reconsideration Law of the People's Republic of China; or you may bring an "
    "administrative lawsuit in a people's court within six months of receiving it, under the Administrative "
    "Litigation Law of the People's Republic of China.",
}


@dataclass(frozen=True)
class Wording:
    """The fixed texts of a notice in one language (labels end with their separator)."""

    reference: str
    applicant: str
    applicant_id: str
    case_id: str
    service_item: str
    remedies: str
    page: str  # a str.format template with {page} and {pages}
    verify: str


WORDING = {
    "zh": Wording(
        "文书编号：", "申请人：", "证件号码：", "申请编号：", "申请事项：", "救济途径", "第 {page} 页，共 {pages} 页",
        "扫码核验本文书",
    ),
    "en": Wording(
        "Ref. ", "Applicant: ", "ID: ", "Application No.: ", "Service item: ", "Your right to challenge this decision",
        "Page {page} of {pages}", "Scan to verify this document",
    ),
}  # fmt: skip
