"""Page texts in Chinese and English, from gettext catalogues (the language is chosen by :mod:`hub.http.language`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from hub.http.language import COOKIE, LANGUAGES, current_language

# translations/<language>/LC_MESSAGES/messages.po, compiled to messages.mo by `make` (pybabel compile)
TRANSLATIONS = Path(__file__).with_name("translations")
DOMAIN = "messages"


def catalogue_source(language: str, translations: Path = TRANSLATIONS) -> Path:
    """Where the .po catalogue of ``language`` is (its compiled .mo sits beside it)."""
    return translations / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_texts(language: str, translations: Path = TRANSLATIONS) -> Mapping[str, str]:
    """Every message key with its text in ``language``, read from the catalogue files under ``translations``."""
    # The compiled .mo, unless it is missing (a plain `pip install .` compiles nothing) or older than its .po
    # (edited since the last `make`): then the .po itself, so the pages never show stale or no texts.
    if language not in LANGUAGES:
        raise KeyError(f"no catalogue for language {language!r}; the hub has {', '.join(LANGUAGES)}")
    source = catalogue_source(language, translations)
    compiled = source.with_suffix(".mo")
    catalogue: Catalog
    if compiled.exists() and (not source.exists() or compiled.stat().st_mtime >= source.stat().st_mtime):
        with compiled.open("rb") as file:
            catalogue = read_mo(file)
    elif source.exists():
        with source.open("rb") as file:
            catalogue = read_po(file, locale=language)
    else:
        raise FileNotFoundError(f"no {language} catalogue: neither {source} nor {compiled} exists")
    # as `pybabel compile` does: a fuzzy or empty entry is no text (the page then shows the key)
    return MappingProxyType(
        {entry.id: entry.string for entry in catalogue if entry.id and entry.string and not entry.fuzzy}
    )


@cache
def texts(language: str) -> Mapping[str, str]:
    """The hub's own texts in ``language``, read from its catalogue once per process."""
    return load_texts(language)


def text_of(key: str, language: str) -> str | None:
    """The text of message ``key`` in ``language``, or None when there is none."""
    return texts(language).get(key)


def translator(language: str) -> Callable[[str], str]:
    """A function giving the text of a message key in ``language``; an unknown key is given back as it is."""
    known = texts(language)

    def text(key: str) -> str:
        return known.get(key, key)

    return text


__all__ = ["COOKIE", "LANGUAGES", "current_language", "load_texts", "text_of", "texts", "translator"]
