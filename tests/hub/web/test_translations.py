"""The page texts' gettext catalogues: the check that `make lint` runs, and the texts the translator gives.

Expected texts are literals copied from the message table the catalogues replaced, not read back from them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.web import catalogue_check, i18n

ROOT = Path(__file__).resolve().parents[3]
# key: (Chinese, English), as they were in hub/web/i18n.py's MESSAGES before the catalogues.
KNOWN = {
    "hub_name": ("政务服务数据共享与电子证照枢纽", "Government data-sharing and e-licence hub"),
    "console_test_failed": ("{connector}：测试未通过（{detail}）。", "{connector}: test failed ({detail})."),
    "verify_too_large": ("文件太大：最大 {mb} MB。", "The file is too large: the limit is {mb} MB."),
    "apply_event_task.approve": ("联办部门同意", "Co-agency approved its part"),
    "apply_outcome_nothing-read": ("未找到数据", "nothing found"),
}
CATALOGUE_ZH = "zh: 'catalogue'"  # how a finding about the key "catalogue" in the Chinese catalogue begins


def run_check(*args: str) -> subprocess.CompletedProcess:
    """``python -m hub.web.catalogue_check`` as `make lint` runs it."""
    command = [sys.executable, "-m", "hub.web.catalogue_check", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def po_path(translations: Path, language: str) -> Path:
    return translations / language / "LC_MESSAGES" / "messages.po"


@pytest.fixture
def translations(tmp_path: Path) -> Path:
    """A copy of the real catalogues (sources only) to break."""
    copy = tmp_path / "translations"
    shutil.copytree(i18n.TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    return copy


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_real_catalogues_pass():
    result = run_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert catalogue_check.problems(i18n.TRANSLATIONS) == []


def test_an_emptied_chinese_text_fails_naming_its_key(translations):
    replace_once(
        po_path(translations, "zh"), 'msgid "catalogue"\nmsgstr "政务服务事项目录"\n', 'msgid "catalogue"\nmsgstr ""\n'
    )
    result = run_check("--translations", str(translations))
    assert result.returncode == 1
    findings = result.stdout.strip().splitlines()
    assert len(findings) == 1, findings
    assert CATALOGUE_ZH in findings[0]
    assert "no text" in findings[0]


def test_a_key_missing_from_one_catalogue_fails(translations):
    replace_once(po_path(translations, "zh"), 'msgid "catalogue"\nmsgstr "政务服务事项目录"\n\n', "")
    findings = catalogue_check.problems(translations)
    assert len(findings) == 1, findings
    assert CATALOGUE_ZH in findings[0]
    assert "missing" in findings[0]


def test_a_fuzzy_entry_fails(translations):
    replace_once(po_path(translations, "zh"), 'msgid "catalogue"\n', '#, fuzzy\nmsgid "catalogue"\n')
    findings = catalogue_check.problems(translations)
    assert len(findings) == 1, findings
    assert CATALOGUE_ZH in findings[0]
    assert "fuzzy" in findings[0]


def test_placeholders_must_agree(translations):
    replace_once(
        po_path(translations, "en"), 'msgstr "The file is too large: the limit is {mb} MB."', 'msgstr "Too large."'
    )
    findings = catalogue_check.problems(translations)
    assert len(findings) == 1, findings
    assert "'verify_too_large'" in findings[0]
    assert "{mb}" in findings[0]


def test_a_key_the_pages_use_but_no_catalogue_has_fails(translations, tmp_path):
    sources = tmp_path / "web"
    (sources / "templates").mkdir(parents=True)
    (sources / "templates" / "page.html").write_text(
        "<h1>{{ t('hub_name') }}</h1>\n<p>{{ t(\"no_such_page_key\") }} {{ t('level_' ~ level) }}</p>\n",
        encoding="utf-8",
    )
    view = """\
def view(text, translator, flag):
    return text("catalogue"), translator("zh")("no_such_view_key" if flag else "version")
"""
    (sources / "view.py").write_text(view, encoding="utf-8")
    findings = catalogue_check.problems(translations, sources)
    assert len(findings) == 2, findings
    assert "'no_such_page_key'" in findings[0] and "page.html:2" in findings[0]
    assert "'no_such_view_key'" in findings[1] and "view.py:2" in findings[1]


@pytest.mark.parametrize("key", sorted(KNOWN))
def test_known_keys_give_todays_texts(key):
    chinese, english = KNOWN[key]
    assert i18n.translator("zh")(key) == chinese
    assert i18n.translator("en")(key) == english
    assert i18n.text_of(key, "zh") == chinese


def test_an_unknown_key_is_shown_as_it_is():
    assert i18n.translator("zh")("no_such_key") == "no_such_key"
    assert i18n.translator("en")("") == ""
    assert i18n.text_of("no_such_key", "en") is None


def test_an_unknown_language_is_refused():
    with pytest.raises(KeyError):
        i18n.translator("fr")


def test_the_source_catalogue_serves_when_the_compiled_one_is_missing_or_older(translations):
    """A plain `pip install .` has no .mo; an edited .po must not be hidden by the .mo compiled before it."""
    po, mo = po_path(translations, "en"), po_path(translations, "en").with_suffix(".mo")
    assert not mo.exists()
    assert i18n.load_texts("en", translations)["hub_name"] == KNOWN["hub_name"][1]
    original = po.read_text(encoding="utf-8")
    replace_once(po, 'msgstr "Government data-sharing and e-licence hub"', 'msgstr "Compiled text"')
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "-q", "compile", "-d", str(translations)], check=True, timeout=120)
    po.write_text(original, encoding="utf-8")
    os.utime(po, (mo.stat().st_mtime - 60, mo.stat().st_mtime - 60))
    assert i18n.load_texts("en", translations)["hub_name"] == "Compiled text"  # the .mo, newer than its .po
    os.utime(po, (mo.stat().st_mtime + 60, mo.stat().st_mtime + 60))
    assert i18n.load_texts("en", translations)["hub_name"] == KNOWN["hub_name"][1]  # the .po, edited since
