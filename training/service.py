"""Training's public face for routers, pages and other callers: re-exports each sub-area's functions.

Sub-areas: programmes.py (providers, programmes, sessions), enrolments.py (lifecycle, attendance), enrolment_reads.py (visibility, lists),
financing.py (seats in the ledger), deductions.py (tuition repaid from settled shares),
priority.py (applicants by need), income.py and outcomes.py (income linkage).
"""

from training.deductions import apply_to_settlement, deduct_after_settlement, deduct_pending
from training.enrolment_reads import (
    enrolment_read,
    get_visible,
    list_for_household,
    list_for_programme,
)
from training.enrolments import accept, apply, complete, drop, mark_attendance
from training.outcomes import programme_report, report_csv
from training.priority import priority_list
from training.programmes import (
    create_programme,
    create_provider,
    get_programme,
    list_programmes,
    list_providers,
    programme_read,
    provider_read,
    update_programme,
    visible_programme,
)

__all__ = [
    "accept",
    "apply",
    "apply_to_settlement",
    "complete",
    "create_programme",
    "create_provider",
    "deduct_after_settlement",
    "deduct_pending",
    "drop",
    "enrolment_read",
    "get_programme",
    "get_visible",
    "list_for_household",
    "list_for_programme",
    "list_programmes",
    "list_providers",
    "mark_attendance",
    "priority_list",
    "programme_read",
    "programme_report",
    "provider_read",
    "report_csv",
    "update_programme",
    "visible_programme",
]
