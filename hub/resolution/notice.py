"""The one-time notice (regulation Art. 8): everything the applicant must still bring, said at once."""

from __future__ import annotations

from typing import Any

JOIN = {"zh": "、", "en": "; "}
TEXT = {
    "zh": {
        "missing": "请一次性提交以下材料：{names}。",
        "none": "所需材料均已通过数据共享平台获取，无需另行提交。",
        "unavailable": "以下材料的数据来源暂时无法访问，经办机关可稍后重试，无需申请人提交：{names}。",
    },
    "en": {
        "missing": "Please provide these materials, all at once: {names}.",
        "none": "The data-sharing platform supplied every material; nothing more is needed.",
        "unavailable": "The sources of these materials did not answer; the agency may retry, "
        "the applicant need not bring them: {names}.",
    },
}


def notice_for(materials: list[dict[str, Any]], language: str = "zh") -> dict[str, Any]:
    """The notice: the required materials nobody holds, those whose sources failed, and a text naming them."""
    texts = TEXT.get(language, TEXT["zh"])
    join = JOIN.get(language, JOIN["zh"])
    missing = [m for m in materials if m["status"] == "missing" and m.get("required", True)]
    unavailable = [m for m in materials if m["status"] == "unavailable"]
    parts = [texts["missing"].format(names=join.join(m["name"] for m in missing)) if missing else texts["none"]]
    if unavailable:
        parts.append(texts["unavailable"].format(names=join.join(m["name"] for m in unavailable)))
    return {
        "missing": [m["code"] for m in missing],
        "unavailable": [m["code"] for m in unavailable],
        "text": " ".join(parts) if language == "en" else "".join(parts),
        "language": language if language in TEXT else "zh",
    }
