"""Checks the page texts' catalogues: every key in each language, with text, and every key the pages use.

Run by `make lint` as ``python -m hub.web.catalogue_check``: it prints one line per problem and exits 1, or
prints a one-line summary and exits 0. A page asking for a key no catalogue has would show the bare key.
"""

from __future__ import annotations

import argparse
import ast
import re
import string
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po

from hub.web.i18n import LANGUAGES, TRANSLATIONS, catalogue_source

WEB = Path(__file__).parent
# t("key") or t('key') in a template; t('level_' ~ level) is built at run time and cannot be checked here
TEMPLATE_CALL = re.compile(r"""\bt\(\s*(["'])([^"'\n]*)\1\s*\)""")
# in Python the translator goes by these names: text = translator(language); _text(key); t in templates
TRANSLATOR_NAMES = {"t", "text", "_text"}


def read_catalogue(path: Path, language: str) -> Catalog:
    """The .po catalogue at ``path``, fuzzy entries kept so that they can be reported."""
    with path.open("rb") as file:
        return read_po(file, locale=language, abort_invalid=True)


def placeholders(text: str) -> set[str]:
    """The ``{names}`` that ``str.format`` fills in ``text``."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _literal_keys(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):  # text("a" if flag else "b")
        yield from _literal_keys(node.body)
        yield from _literal_keys(node.orelse)


def _is_translator_call(node: ast.Call) -> bool:
    function = node.func
    if isinstance(function, ast.Name):
        return function.id in TRANSLATOR_NAMES
    # translator(language)("key")
    return isinstance(function, ast.Call) and isinstance(function.func, ast.Name) and function.func.id == "translator"


def used_keys(sources: Path = WEB) -> Iterator[tuple[str, Path, int]]:
    """Each literal message key the templates and Python modules under ``sources`` ask for, with where."""
    for template in sorted(sources.rglob("*.html")):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), start=1):
            for match in TEMPLATE_CALL.finditer(line):
                yield match.group(2), template, number
    for module in sorted(sources.rglob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _is_translator_call(node)]
        for call in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
            for key in _literal_keys(call.args[0]) if call.args else ():
                yield key, module, call.lineno


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def problems(translations: Path = TRANSLATIONS, sources: Path = WEB) -> list[str]:
    """What is wrong with the catalogues under ``translations`` and the keys used under ``sources``, one line each."""
    found: list[str] = []
    ids: dict[str, set[str]] = {}  # every key each catalogue has an entry for, with text or not
    texts: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        path = catalogue_source(language, translations)
        try:
            catalogue = read_catalogue(path, language)
        except (OSError, PoFileError, ValueError) as error:
            found.append(f"{language}: cannot read its catalogue {_shown(path)}: {error}")
            continue
        if catalogue.fuzzy:
            found.append(f"{language}: the header of {_shown(path)} is marked fuzzy (pybabel compile would skip it)")
        ids[language], texts[language] = set(), {}
        for entry in catalogue:
            if not entry.id:
                continue
            if not isinstance(entry.id, str):
                found.append(f"{language}: {entry.id[0]!r} has plural forms, which the pages do not use")
                continue
            ids[language].add(entry.id)
            if entry.fuzzy:
                found.append(
                    f"{language}: {entry.id!r} is marked fuzzy in {_shown(path)}: check its text, drop the flag"
                )
            elif not entry.string:
                found.append(f"{language}: {entry.id!r} has no text (empty msgstr in {_shown(path)})")
            else:
                texts[language][entry.id] = entry.string
    if len(texts) < len(LANGUAGES):
        return found
    keys = dict.fromkeys(key for language in LANGUAGES for key in sorted(ids[language]))
    for key in keys:
        for language in LANGUAGES:
            if key not in ids[language]:
                found.append(f"{language}: {key!r} is missing from {_shown(catalogue_source(language, translations))}")
        try:
            fields = {language: placeholders(texts[language][key]) for language in LANGUAGES if key in texts[language]}
        except ValueError as error:
            found.append(f"{key!r}: a text is not a valid str.format template: {error}")
            continue
        if len({frozenset(names) for names in fields.values()}) > 1:
            shown = "; ".join(f"{language} has {{{'}, {'.join(sorted(names))}}}" for language, names in fields.items())
            found.append(f"{key!r}: the languages' placeholders differ: {shown}")
    for key, path, line in used_keys(sources):
        if key not in keys:
            found.append(f"{key!r} is used in {_shown(path)}:{line} but is in no catalogue")
    return found


def main(argv: list[str] | None = None) -> int:
    """Print each problem and return 1, or a summary and 0."""
    parser = argparse.ArgumentParser(
        prog="python -m hub.web.catalogue_check", description="Check the page texts' catalogues."
    )
    parser.add_argument("--translations", type=Path, default=TRANSLATIONS, help="the catalogues' directory")
    parser.add_argument("--sources", type=Path, default=WEB, help="where the templates and views that use them are")
    arguments = parser.parse_args(argv)
    found = problems(arguments.translations, arguments.sources)
    for problem in found:
        print(problem)
    if found:
        return 1
    used = {key for key, _, _ in used_keys(arguments.sources)}
    print(f"catalogue_check: {', '.join(LANGUAGES)} agree; the {len(used)} keys the pages name are all there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
