"""/metrics under `hezuo serve --workers 2`: with PROMETHEUS_MULTIPROC_DIR every worker's requests
are summed, whichever worker answers the scrape."""

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.jobs.conftest import HEZUO, only, process_env, running
from tests.orders.stripe_harness import free_port

TOKEN = "metrics-token-for-tests-0123456789"


def _healthz_count(text: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "hezuo_http_requests_total"
                and sample.labels.get("route") == "/healthz"
            ):
                total += sample.value
    return total


def test_two_workers_requests_are_counted_together(settings, tmp_path):
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    port = free_port()
    env = process_env(
        settings,
        HEZUO_JOB_SCHEDULES=only({}),
        HEZUO_METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
    )
    url = f"http://127.0.0.1:{port}"
    command = [HEZUO, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with running(command, env, tmp_path / "serve.log") as process:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "hezuo serve did not answer"
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        # New connections each time, so both workers take some of them.
        for _ in range(30):
            assert httpx.get(f"{url}/healthz").status_code == 200
        counted = set()
        for _ in range(6):
            scrape = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert scrape.status_code == 200
            counted.add(_healthz_count(scrape.text))
    assert counted == {30.0}  # the same total, whichever worker answered
    assert len(list(multiproc.glob("counter_*.db"))) == 2  # both workers counted
