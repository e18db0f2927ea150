"""Imports every domain's tables so SQLModel's metadata is complete (Alembic, tests, app)."""

import api.accounts  # noqa: F401
import api.auditing  # noqa: F401
import api.jobs.models  # noqa: F401
import api.models  # noqa: F401
import api.phone_login  # noqa: F401
import catalog.models  # noqa: F401
import governance.community_models  # noqa: F401
import governance.models  # noqa: F401
import governance.plan_models  # noqa: F401
import ledger.bank.models  # noqa: F401
import ledger.models  # noqa: F401
import ledger.payout_models  # noqa: F401
import notify.models  # noqa: F401
import orders.models  # noqa: F401
import orders.refund_request_models  # noqa: F401
import training.models  # noqa: F401
