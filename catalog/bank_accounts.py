"""Where a cooperative that receives bank transfers directly is paid; staff set it."""

import re
from dataclasses import dataclass

from sqlmodel import Session

from catalog.errors import CatalogInvalid
from catalog.models import Cooperative
from catalog.permissions import require_staff
from catalog.service import get_coop
from core.actor import Actor

# Digits in groups, as banks print them: "6228 4800 1234 5678 901" or "6228-4800-…".
ACCOUNT_NUMBER = re.compile(r"^[0-9][0-9 -]{5,48}[0-9]$")


@dataclass(frozen=True)
class BankAccount:
    payee: str
    bank: str
    account: str


def coop_bank_account(coop: Cooperative) -> BankAccount | None:
    if not (coop.bank_payee and coop.bank_account):
        return None
    return BankAccount(payee=coop.bank_payee, bank=coop.bank_name, account=coop.bank_account)


def set_coop_bank_account(
    session: Session, *, actor: Actor, coop_id: int, payee: str, bank: str, account: str
) -> Cooperative:
    """Set (or, with every field empty, clear) the cooperative's own account for transfers."""
    require_staff(actor)
    coop = get_coop(session, coop_id)
    payee, bank, account = payee.strip(), bank.strip(), " ".join(account.split())
    if payee or bank or account:
        if not payee:
            raise CatalogInvalid("Name the account holder.", loc=["form", "payee"])
        if len(payee) > 100 or len(bank) > 100:
            raise CatalogInvalid("At most 100 characters.", loc=["form", "payee"])
        if not ACCOUNT_NUMBER.fullmatch(account):
            raise CatalogInvalid(
                "An account number is 7 to 50 digits (spaces or hyphens between groups).",
                loc=["form", "account"],
            )
    coop.bank_payee, coop.bank_name, coop.bank_account = payee, bank, account
    session.add(coop)
    session.flush()
    return coop
