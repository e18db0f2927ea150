"""Bilingual stored text (product names, programme titles, ...) and the one rule that picks a language.

UI labels are never stored in two languages: they go through gettext (``frontend/i18n.py``).
Text that users type in both languages (``name_zh``/``name_en`` columns, ``{"zh", "en"}`` in the
API) is read through :func:`in_locale`: the English for an English reader when there is one, the
Chinese otherwise (Chinese is always given; English is optional).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

ENGLISH = "en"


def N_(message: str) -> str:
    """Mark a message id for extraction (``pybabel extract``) without translating it: the page
    translates it into the reader's language when it renders (domain error messages, labels)."""
    return message


class HasZhEn(Protocol):
    """Anything carrying the two halves: ``Bilingual``, catalog's ``LocalizedName``, ..."""

    @property
    def zh(self) -> str: ...

    @property
    def en(self) -> str: ...


@dataclass(frozen=True)
class Bilingual:
    """One piece of stored text in Chinese (always) and English (optional)."""

    zh: str
    en: str = ""

    def in_locale(self, locale: str) -> str:
        return choose(locale, self.zh, self.en)


def choose(locale: str, zh: str, en: str) -> str:
    """The English for an English reader when there is one; the Chinese otherwise."""
    return en if locale == ENGLISH and en else zh


def in_locale(value: HasZhEn | Mapping[str, str] | None, locale: str) -> str:
    """The reader's half of a bilingual value (an object with ``zh``/``en`` or a mapping)."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return choose(locale, value.get("zh", ""), value.get("en", ""))
    return choose(locale, value.zh, value.en)
