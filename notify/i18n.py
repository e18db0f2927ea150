"""The gettext catalog for messages: the same zh-CN catalog the pages use (frontend/translations).

Notify imports no web code, so it reads the catalog file itself (compiled in memory, cached).
"""

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

CATALOG_DIR = Path(__file__).resolve().parent.parent / "frontend" / "translations"
SOURCE_LANGUAGE = "en"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated when a message is rendered."""
    return message


@lru_cache
def translations_for(language: str) -> gettext.NullTranslations:
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    name = language.replace("-", "_")
    with (CATALOG_DIR / name / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file, locale=name)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def babel_locale(language: str) -> Locale:
    return Locale.parse(language.replace("-", "_"))
