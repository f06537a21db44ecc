"""Which language a request is answered in: ``?lang=``, then the cookie, then Accept-Language; Chinese by default."""

from __future__ import annotations

from flask import request

LANGUAGES = ("zh", "en")
COOKIE = "lang"


def current_language() -> str:
    """The answer's language: an explicit ``?lang=``, then the cookie, then Accept-Language; Chinese by default."""
    asked = request.args.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"
