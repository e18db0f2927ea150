"""A crawl of every page each role's navigation reaches, on a 360-px phone in zh-CN: the page never
scrolls sideways, no time says "UTC", every button and field is at least 44 px tall (checkboxes and
radios through their label), and axe-core (PyPI axe-playwright-python's copy) finds no serious or
critical violation.

Pages are the header's links, then the links in those pages' main content, one page per path shape
(digits stand for ids), so a role's area is covered without visiting every product.
"""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import axe_playwright_python
import pytest
from playwright.sync_api import Browser, Page

from api.demo import DEMO_USERS

PHONE = {"width": 360, "height": 740}
AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
SKIP = re.compile(
    r"^/(logout|locale|docs|openapi\.json|api/|static/|media/)|\.(csv|xlsx|svg|png|jpg|pdf)$"
    r"|/qr|/packing-list|/pay$"
)
MAX_PAGES = 40
ROLES = ["public", "buyer", "farmer", "manager", "staff"]

TAP_TARGETS = """() => {
  const small = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  for (const el of document.querySelectorAll(
      'button, a.button, select, textarea, input:not([type=hidden])')) {
    if (!visible(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (!label) { small.push(el.outerHTML.slice(0, 80)); continue; }
      box = label.getBoundingClientRect();
    }
    if (box.height < 43.5) small.push(`${Math.round(box.height)}px ${el.outerHTML.slice(0, 80)}`);
  }
  return small;
}"""


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _links(page: Page, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(a => a.getAttribute('href'))")
    found = []
    for href in hrefs:
        if not href or href.startswith(("#", "mailto:", "tel:", "http")):
            continue
        path = urlparse(href).path
        if path.startswith("/") and not SKIP.search(path):
            found.append(href)
    return found


def _sign_in(page: Page, role: str) -> None:
    if role == "public":
        return
    user = next(u for u in DEMO_USERS if u.role.value == role)
    page.goto("/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(user.password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state()


def _check(page: Page) -> list[str]:
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"{width}px wide")
    if "UTC" in page.inner_text("body"):
        problems.append('says "UTC"')
    problems.extend(f"tap target {small}" for small in page.evaluate(TAP_TARGETS))
    page.add_script_tag(path=str(AXE_JS))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, n["target"])) for n in violation["nodes"][:3]]
            problems.append(f"axe {violation['id']} ({violation['impact']}): {targets}")
    return problems


@pytest.mark.e2e
@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_fits_a_phone(browser: Browser, live_server: str, role: str):
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport=PHONE, bypass_csp=True
    )  # bypass_csp: only so that axe-core can be injected
    page = context.new_page()
    _sign_in(page, role)
    page.goto("/")
    queue = ["/", *_links(page, ".site-header a[href]")]
    seen: set[str] = set()
    report: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        href = queue.pop(0)
        shape = _shape(urlparse(href).path)
        if shape in seen:
            continue
        seen.add(shape)
        response = page.goto(href)
        assert response is not None
        if response.status >= 400 or urlparse(page.url).path == "/login":
            continue
        problems = _check(page)
        if problems:
            report[href] = problems
        if href in ("/", *_links(page, ".site-header a[href]")) or len(seen) < 12:
            queue.extend(_links(page, "main a[href]"))
    context.close()
    assert len(seen) >= 3
    assert report == {}, "\n".join(f"{href}: {p}" for href, ps in report.items() for p in ps)
