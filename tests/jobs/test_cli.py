"""`hezuo jobs run NAME`: one job now, recorded like a staff "run now"."""

import subprocess

from sqlalchemy import select
from sqlmodel import col

from api.jobs.models import JobRun
from tests.jobs.conftest import HEZUO, process_env


def test_jobs_run_records_a_manual_run(settings, session):
    env = process_env(settings)
    done = subprocess.run(
        [HEZUO, "jobs", "run", "ledger-seal"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ledger-seal: succeeded"
    session.rollback()
    [run] = session.scalars(select(JobRun).where(col(JobRun.job) == "ledger-seal")).all()
    assert (run.run_trigger, run.requested_by, run.result) == (
        "manual",
        "cli",
        "sealed 0 entries in 0 block(s)",
    )

    without_stripe = subprocess.run(
        [HEZUO, "jobs", "run", "stripe-sync"], env=env, capture_output=True, text=True, timeout=120
    )
    assert without_stripe.returncode == 2
    assert "not available" in without_stripe.stderr
    unknown = subprocess.run(
        [HEZUO, "jobs", "run", "orders-vanish"], env=env, capture_output=True, text=True, timeout=60
    )
    assert unknown.returncode == 2
    assert "invalid choice" in unknown.stderr
