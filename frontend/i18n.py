"""Locales and translations: negotiation (cookie, Accept-Language, default) and Babel catalogs.

Source strings are written in English and marked with ``_()`` in templates and ``N_()`` in Python
(a no-op marker, translated when rendered). zh-CN comes from
``frontend/translations/zh_CN/LC_MESSAGES/messages.po``, compiled in memory at first use (no .mo
files are committed). English needs no catalog: it is the source language.

Update the catalog after changing strings (see README, "Translations"):
    pybabel extract -F frontend/babel.cfg -o frontend/translations/messages.pot .
    pybabel update -i frontend/translations/messages.pot -d frontend/translations
"""

import gettext as gettext_module
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request

from core.text import N_ as N_  # re-exported: pages mark their labels with it
from core.text import choose

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LOCALE_COOKIE = "hezuo_locale"
# Locale tags as they appear in URLs, cookies and <html lang>; zh-CN first (the default).
SUPPORTED_LOCALES = ("zh-CN", "en")
SOURCE_LOCALE = "en"


def babel_name(locale: str) -> str:
    """'zh-CN' → 'zh_CN' (Babel's and gettext's spelling)."""
    return locale.replace("-", "_")


def catalog_path(locale: str) -> Path:
    return TRANSLATIONS_DIR / babel_name(locale) / "LC_MESSAGES" / "messages.po"


@lru_cache
def translations_for(locale: str) -> gettext_module.NullTranslations:
    """The compiled catalog for a supported locale (cached); the source locale translates nothing."""
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(f"unsupported locale {locale!r}")
    if locale == SOURCE_LOCALE:
        return gettext_module.NullTranslations()
    with catalog_path(locale).open("rb") as po_file:
        catalog = read_po(po_file, locale=babel_name(locale))
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def parse_accept_language(header: str) -> list[str]:
    """Language tags from an Accept-Language header, best first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The cookie's locale if supported, else the best Accept-Language match, else the default."""
    if cookie in SUPPORTED_LOCALES:
        return cookie
    if accept_language:
        match = negotiate_locale(
            parse_accept_language(accept_language), list(SUPPORTED_LOCALES), sep="-"
        )
        if match is not None:
            return "zh-CN" if match.lower() == "zh-cn" else match
    return default if default in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]


def request_locale(request: Request) -> str:
    """The negotiated locale for this request (cached on request.state)."""
    cached: str | None = getattr(request.state, "locale", None)
    if cached is not None:
        return cached
    default: str = request.app.state.settings.default_locale
    locale = negotiate(
        request.cookies.get(LOCALE_COOKIE), request.headers.get("accept-language"), default
    )
    request.state.locale = locale
    return locale


@dataclass(frozen=True)
class Translator:
    """gettext/ngettext for one locale; ``%(name)s`` placeholders are filled from keywords."""

    locale: str

    def gettext(self, message: str, **values: object) -> str:
        text = translations_for(self.locale).gettext(message)
        return text % values if values else text

    def pgettext(self, context: str, message: str, **values: object) -> str:
        """The translation of ``message`` in ``context`` (one English word, two Chinese words)."""
        text = translations_for(self.locale).pgettext(context, message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = translations_for(self.locale).ngettext(singular, plural, n)
        return text % {"num": n, **values}

    @property
    def babel_locale(self) -> Locale:
        return _babel_locale(self.locale)


@lru_cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(babel_name(locale))


def translator(request: Request) -> Translator:
    return Translator(request_locale(request))


Gettext = Callable[..., str]


def by_locale(request: Request, zh: str, en: str) -> str:
    """Stored bilingual text (two columns) in the reader's language: ``core.text.choose``."""
    return choose(translator(request).locale, zh, en)
