"""Catalog errors, each naming the field or thing at fault."""

from typing import Any

from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.text import N_


class CatalogNotFound(NotFound):
    type_slug = "catalog-not-found"

    def __init__(self, thing: str, key: object) -> None:
        super().__init__(f"No {thing} {key!r} here (or it is not public).")


class CatalogForbidden(Forbidden):
    type_slug = "catalog-forbidden"


class CatalogInvalid(Invalid):
    type_slug = "catalog-invalid"
    msgid = N_("Some details are not right.")

    def __init__(
        self,
        detail: str,
        *,
        loc: list[str | int] | None = None,
        msgid: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        errors: list[dict[str, Any]] | None = (
            [{"loc": loc, "msg": detail}] if loc is not None else None
        )
        super().__init__(detail, errors=errors, msgid=msgid, params=params)


class RowErrors(Invalid):
    """A spreadsheet import refused: every error carries its row and column."""

    type_slug = "import-invalid"
    msgid = N_("Some rows of the file are not right; nothing was imported.")

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(
            f"Nothing was imported: {len(errors)} problem(s) in the file; fix them and upload again.",
            errors=errors,
        )


class DuplicateCode(Conflict):
    type_slug = "duplicate-code"
    msgid = N_("The code %(code)s is already used.")

    def __init__(self, thing: str, code: str, field: str) -> None:
        super().__init__(
            f"A {thing} with the code {code!r} already exists.",
            errors=[{"loc": ["body", field], "msg": f"{code!r} is taken"}],
            params={"code": code},
        )


class BadImage(Invalid):
    type_slug = "bad-image"
    msgid = N_("The photo could not be read.")

    def __init__(self, detail: str, *, msgid: str | None = None) -> None:
        errors = [{"loc": ["body", "file"], "msg": detail}]
        super().__init__(detail, errors=errors, msgid=msgid)


class NotEnoughStock(Conflict):
    type_slug = "not-enough-stock"
    msgid = N_("Not enough stock left.")


class UploadTooLarge(Invalid):
    type_slug = "upload-too-large"
    msgid = N_("The file is too large.")

    def __init__(self, detail: str, *, msgid: str | None = None) -> None:
        errors = [{"loc": ["body", "file"], "msg": detail}]
        super().__init__(detail, errors=errors, msgid=msgid)
