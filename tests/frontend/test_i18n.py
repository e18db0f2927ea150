"""Translations: the zh-CN catalog is complete and matches the strings in templates and code."""

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from frontend.i18n import (
    SUPPORTED_LOCALES,
    Translator,
    catalog_path,
    negotiate,
    parse_accept_language,
    translations_for,
)

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "frontend" / "babel.cfg"


def _catalog(locale: str = "zh-CN"):
    with catalog_path(locale).open("rb") as po_file:
        return read_po(po_file)


def _extracted() -> set[str]:
    with BABEL_CFG.open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    ids: set[str] = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_catalog_message_has_a_zh_cn_translation():
    untranslated = [
        message.id for message in _catalog() if message.id and (not message.string or message.fuzzy)
    ]
    assert untranslated == []


def test_the_catalog_holds_every_string_of_the_templates_and_code():
    extracted = _extracted()
    assert "Sign in" in extracted  # the extraction itself works
    assert "Incorrect email or password." in extracted  # N_() in Python is found too
    in_catalog = {message.id for message in _catalog() if message.id}
    missing = sorted(extracted - in_catalog)
    assert missing == [], "run pybabel extract/update (README, Translations) and translate"
    stale = sorted(in_catalog - extracted)
    assert stale == [], "strings no longer used: run pybabel update"


def test_placeholders_survive_translation():
    import re

    for message in _catalog():
        if message.id:
            wanted = sorted(re.findall(r"%\(\w+\)s", message.id))
            assert sorted(re.findall(r"%\(\w+\)s", message.string)) == wanted, message.id


def test_compiled_catalog_translates_and_no_mo_file_is_needed():
    assert not list(catalog_path("zh-CN").parent.glob("*.mo"))
    zh = Translator("zh-CN")
    assert zh.gettext("Sign in") == "登录"
    assert (
        zh.gettext(
            "Too many failed sign-ins for this account. Try again in %(seconds)s seconds.",
            seconds=42,
        )
        == "此账号登录失败次数过多，请在 42 秒后再试。"
    )
    assert Translator("en").gettext("Sign in") == "Sign in"
    assert translations_for("zh-CN") is translations_for("zh-CN")  # cached


def test_unsupported_locale_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        translations_for("fr")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", ["en-US", "en"]),
        ("zh;q=0.5, en;q=0.8", ["en", "zh"]),
        ("*, fr;q=0", []),
        ("", []),
    ],
)
def test_parse_accept_language(header, expected):
    assert parse_accept_language(header) == expected


def test_negotiation_order():
    assert negotiate("en", "zh-CN", "zh-CN") == "en"
    assert negotiate(None, "en-AU", "zh-CN") == "en"
    assert negotiate(None, "zh-cn", "en") == "zh-CN"
    assert negotiate(None, None, "en") == "en"
    assert negotiate("klingon", "ja", "zh-CN") == "zh-CN"
    assert set(SUPPORTED_LOCALES) == {"zh-CN", "en"}


def test_money_and_dates_are_formatted_for_the_locale():
    from frontend.rendering import date_formatter, money_formatter

    zh, en = Translator("zh-CN"), Translator("en")
    assert money_formatter(zh)(1250, "CNY") == "¥12.50"
    assert money_formatter(en)(1250, "CNY") == "CN¥12.50"
    assert money_formatter(en)(-5, "JPY") == "-¥5"
    assert money_formatter(zh)(123456789, "CNY") == "¥1,234,567.89"
    with pytest.raises(TypeError):
        money_formatter(zh)(12.5, "CNY")  # type: ignore[arg-type]
    assert date_formatter(zh)(date(2026, 11, 29)) == "2026年11月29日"
    assert date_formatter(en)(datetime(2026, 11, 29, 8, 0)) == "Nov 29, 2026"


PAIR_CALL = re.compile(r"(?<![\w.])L\(")
PICK_DEFINITION = re.compile(r"\bdef pick\(")


def _source_files() -> list[Path]:
    skip = {".venv", "var", "build", "tests", "node_modules", "migrations", "bench"}
    return [
        path
        for path in sorted(ROOT.rglob("*"))
        if path.suffix in {".py", ".html"}
        and not skip.intersection(path.relative_to(ROOT).parts)
        and not path.relative_to(ROOT).parts[0].startswith(".")
    ]


def test_no_pair_labels_and_no_pick_copies_remain():
    """One UI-text mechanism: gettext. No `L("中文", "English")` pairs, no local `pick()`."""
    files = _source_files()
    assert any(path.name == "storefront.html" for path in files)  # templates are scanned
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PAIR_CALL.search(line) or PICK_DEFINITION.search(line)
    ]
    assert offenders == []


def test_the_pair_check_catches_a_pair():
    assert PAIR_CALL.search("{{ L('合作社', 'Cooperative') }}")
    assert PAIR_CALL.search("label = L(zh, en)")
    assert not PAIR_CALL.search("{{ URL('x') }} obj.L(1)")
    assert PICK_DEFINITION.search("    def pick(zh: str, en: str) -> str:")
